import { request } from 'node:http';
import { copyFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/core/tokens/tokens.js';
import { startSidecarServer, type RunningSidecar } from '../src/sidecar/server.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = fileURLToPath(new URL('./fixtures/sidecar/policy.yaml', import.meta.url));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so the Host and Origin headers are exactly what a browser page could send. */
function send(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string; noHost?: boolean }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers, setHost: !options.noHost }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let running: RunningSidecar;
let port: number;
let root: string;
let admin: string;
let bot: string;

beforeAll(async () => {
  const dataDir = tempDataDir('ag-loop-');
  root = dirname(dataDir);
  const policyPath = join(root, 'policy.yaml');
  copyFileSync(POLICY, policyPath);
  running = await startSidecarServer({ dataDir, policyPath, host: '127.0.0.1', port: 0 });
  port = running.pid.port;
  admin = (await createToken(running.recorder.store.tokens, { scope: { kind: 'admin' } })).token;
  bot = (await createToken(running.recorder.store.tokens, { scope: { kind: 'agent', agentId: 'bot' } })).token;
});

afterAll(async () => {
  await running?.stop('test');
  rmSync(root, { recursive: true, force: true });
});

describe('bound to loopback, the sidecar answers only to loopback Host names (DNS rebinding)', () => {
  it('accepts localhost, 127.0.0.1 and [::1], with its own port or none, in any case', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', '127.0.0.1', `LocalHost:${port}`]) {
      const res = await send(port, { path: '/healthz', headers: { host } });
      expect(res.status, host).toBe(200);
    }
  });

  it('refuses any other Host with 421 on every route, before authentication, without echoing it', async () => {
    const hosts = [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `localhost:${port + 1}`, `user@localhost:${port}`, `localhost:${port}, evil.example`, '0.0.0.0'];
    for (const host of hosts) {
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/v1/audit', '/nowhere']) {
        const res = await send(port, { path, headers: { host, authorization: `Bearer ${admin}` } });
        expect(res.status, `${host} ${path}`).toBe(421);
        expect(JSON.parse(res.body).error.code).toBe('MISDIRECTED_REQUEST');
        expect(res.body).not.toContain('evil');
      }
    }
    const decide = await send(port, { method: 'POST', path: '/v1/decide', headers: { host: 'evil.example', authorization: `Bearer ${bot}`, 'content-type': 'application/json' }, body: '{"action":{"kind":"tool","name":"kb.read"}}' });
    expect(decide.status).toBe(421);
    expect(await running.recorder.store.audit.head()).toBeNull();
  });

  it('still takes signed approval callbacks under a tunnel\'s public name (their signature is the check)', async () => {
    for (const path of ['/v1/approvals/callback', '/v1/slack/interactions']) {
      const res = await send(port, { method: 'POST', path, headers: { host: 'abc.ngrok.example', 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, path).not.toBe(421);
      expect(res.status, path).toBeGreaterThanOrEqual(400); // unsigned: refused by the route itself
    }
  });

  it('refuses a request without Host', async () => {
    const res = await send(port, { path: '/healthz', noHost: true });
    expect([400, 421]).toContain(res.status);
  });
});

describe('no CORS', () => {
  it('answers a preflight without any Access-Control-Allow header, and sends none on other answers', async () => {
    const host = `localhost:${port}`;
    const preflight = await send(port, {
      method: 'OPTIONS',
      path: '/v1/decide',
      headers: { host, origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    const answers = [
      preflight,
      await send(port, { path: '/healthz', headers: { host, origin: 'http://evil.example' } }),
      await send(port, { path: '/readyz', headers: { host, origin: 'null' } }),
      await send(port, { path: '/v1/audit', headers: { host, origin: 'http://evil.example', authorization: `Bearer ${admin}` } }),
    ];
    for (const res of answers) {
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('/readyz tells what it found only to an admin token', () => {
  it('without a token (or with a bad or non-admin one): the status and each check by name, no path, no policy', async () => {
    for (const headers of [{}, { authorization: 'Bearer agk_wrong' }, { authorization: `Bearer ${bot}` }, { authorization: admin }]) {
      const res = await send(port, { path: '/readyz', headers: { host: `localhost:${port}`, ...headers } });
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body);
      expect(body.status).toBe('ready');
      expect(body.policy).toBeUndefined();
      expect(res.body).not.toContain(root);
      expect(res.body).not.toContain('sidecar-test');
      for (const check of body.checks) expect(Object.keys(check).sort()).toEqual(['name', 'ok']);
    }
  });

  it('with the status key of the pid file (what `sidecar status` sends), in full; with another key, not', async () => {
    const key = running.pid.statusKey!;
    expect(key.length).toBeGreaterThanOrEqual(40);
    const full = await send(port, { path: '/readyz', headers: { host: `localhost:${port}`, 'x-agentguard-status-key': key } });
    expect(JSON.parse(full.body).policy.name).toBe('sidecar-test');
    const wrong = await send(port, { path: '/readyz', headers: { host: `localhost:${port}`, 'x-agentguard-status-key': `${key.slice(0, -1)}x` } });
    expect(JSON.parse(wrong.body).policy).toBeUndefined();
  });

  it('with an admin token: the checks with what they found, and the policy', async () => {
    const res = await send(port, { path: '/readyz', headers: { host: `localhost:${port}`, authorization: `Bearer ${admin}` } });
    const body = JSON.parse(res.body);
    expect(body.policy.name).toBe('sidecar-test');
    expect(res.body).toContain(root);
  });
});

describe('a token authenticates only as `Authorization: Bearer <token>`', () => {
  const audit = (headers: Record<string, string>, path = '/v1/audit') => send(port, { path, headers: { host: `localhost:${port}`, ...headers } });

  it('refuses the bare token, other schemes and a token in the query string with 401', async () => {
    for (const headers of [{ authorization: admin }, { authorization: `Basic ${admin}` }, { authorization: `Token ${admin}` }, { authorization: `Bearer${admin}` }]) {
      const res = await audit(headers);
      expect(res.status, headers.authorization.slice(0, 12)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    for (const path of [`/v1/audit?token=${admin}`, `/v1/audit?access_token=${admin}`]) {
      const res = await audit({}, path);
      expect(res.status).toBe(401);
      expect(res.body).not.toContain(admin);
    }
    expect(JSON.parse((await audit({ authorization: admin })).body).error.message).toContain('Bearer');
  });

  it('accepts the scheme in any case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) expect((await audit({ authorization: `${scheme} ${admin}` })).status).toBe(200);
  });
});

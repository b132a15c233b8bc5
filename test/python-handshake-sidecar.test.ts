import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { AgentGuard, AgentGuardDeniedError } from '../src/sdk/index.js';
import { checkSdk, compareVersions, packageVersion, sidecarTooOld, SUPPORTED_SDKS } from '../src/core/contracts/sdk-versions.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = fileURLToPath(new URL('./fixtures/sdk-sidecar/policy.yaml', import.meta.url));
const TOKEN = 'bot-secret-token-0123456789';
const authenticate: Authenticate = async (header) =>
  header === `Bearer ${TOKEN}` ? { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } } : { ok: false, reason: header === undefined ? 'missing' : 'unknown' };

let app: FastifyInstance;
let recorder: AuditRecorder;
beforeAll(async () => {
  const dataDir = tempDataDir('ag-handshake-');
  recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
  app = await buildSidecarApp({ policy: await Policy.fromFile(POLICY), policyPath: POLICY, recorder, dataDir, authenticate });
});
afterAll(async () => {
  await app.close();
  await recorder.close();
});

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)));
});

function decide(sdk?: string, token: string | undefined = TOKEN) {
  return app.inject({
    method: 'POST',
    url: '/v1/decide',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(sdk ? { 'x-agentguard-sdk': sdk } : {}) },
    payload: { action: { kind: 'tool', name: 'kb.search', input: { q: 'x' } } },
  });
}

describe('the sidecar side of the SDK version handshake', () => {
  it('names its version and the SDK range it serves on every answer, errors and probes included', async () => {
    for (const res of [await decide(), await decide(undefined, 'wrong'), await app.inject({ method: 'GET', url: '/healthz' })]) {
      expect(res.headers['x-agentguard-sidecar']).toBe(packageVersion());
      expect(res.headers['x-agentguard-sdk-support']).toBe('agentguard-js >=0.1.0 <1.0.0, agentguard-python >=0.1.0 <1.0.0');
    }
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serves an SDK in range, a request without the header, and SDKs it has no range for', async () => {
    for (const sdk of [undefined, 'agentguard-python/0.1.0', 'agentguard-js/0.9.9', 'my-own-client/0.0.1']) {
      const res = await decide(sdk);
      expect(res.statusCode, sdk).toBe(200);
      expect(res.json()).toMatchObject({ effect: 'allow' });
    }
  });

  it('tells a too-old SDK to upgrade, before it even checks the token', async () => {
    const res = await decide('agentguard-python/0.0.9', undefined);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'SDK_TOO_OLD', actions: ['Upgrade agentguard-python to 0.1.0 or later.'] });
    expect(res.json().error.message).toBe(`agentguard-python 0.0.9 is too old for this sidecar (version ${packageVersion()}), which serves agentguard-python >=0.1.0 <1.0.0`);
  });

  it('tells a too-new SDK to upgrade the sidecar, and refuses an unreadable version of a known SDK', async () => {
    const newer = await decide('agentguard-js/1.0.0');
    expect(newer.statusCode).toBe(400);
    expect(newer.json().error.code).toBe('SDK_TOO_NEW');
    expect(newer.json().error.actions[0]).toMatch(/^Upgrade the sidecar/);
    const garbled = await decide('agentguard-python/latest');
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json().error).toMatchObject({ code: 'INVALID_REQUEST', message: 'the x-agentguard-sdk header must be "<sdk>/<version>", e.g. "agentguard-python/1.2.3"' });
  });
});

describe('version order', () => {
  it('orders x.y.z numerically, a pre-release before its release, and rejects what is not a version', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('1.2.3+build', '1.2.3')).toBe(0);
    expect(() => compareVersions('1.2', '1.2.3')).toThrow(RangeError);
  });

  it('is a total order consistent with the range check (property)', () => {
    const version = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.boolean()).map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? '-rc.1' : ''}`);
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect(Math.sign(compareVersions(a, b))).toBe(-Math.sign(compareVersions(b, a)));
        const check = checkSdk(`agentguard-python/${a}`, '0.1.0', SUPPORTED_SDKS);
        const inRange = compareVersions(a, '0.1.0') >= 0 && compareVersions(a, '1.0.0') < 0;
        expect(check.ok).toBe(inRange);
      }),
    );
  });

  it('an SDK goes on with a sidecar that names no version (before the handshake), and refuses one older than it needs', () => {
    expect(sidecarTooOld(null, '0.1.0', 'agentguard-js')).toBeUndefined();
    expect(sidecarTooOld('0.1.0', '0.1.0', 'agentguard-js')).toBeUndefined();
    expect(sidecarTooOld('0.0.9', '0.1.0', 'agentguard-js')).toMatch(/older than agentguard-js needs \(agentguard sidecar 0\.1\.0 or later\): upgrade the sidecar/);
    expect(sidecarTooOld('nonsense', '0.1.0', 'agentguard-js')).toMatch(/upgrade the sidecar/);
  });
});

describe('the TypeScript SDK side of the handshake', () => {
  async function fakeSidecar(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => handler(req, res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('names itself in x-agentguard-sdk, and the real sidecar serves it', async () => {
    const seen: string[] = [];
    const url = await fakeSidecar((req, res) => {
      seen.push(String(req.headers['x-agentguard-sdk']));
      res.writeHead(503).end();
    });
    const guard = new AgentGuard({ sidecar: { url, token: TOKEN } });
    await guard.decide({ kind: 'tool', name: 'kb.search' });
    await guard.close();
    expect(seen).toEqual([`agentguard-js/${packageVersion()}`]);
    expect((await decide(seen[0])).statusCode).toBe(200);
  });

  it('denies with SDK_TOO_NEW, without running the function, when the sidecar is older than it needs', async () => {
    const url = await fakeSidecar((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-agentguard-sidecar': '0.0.1' }).end('{}');
    });
    const guard = new AgentGuard({ sidecar: { url, token: TOKEN } });
    let ran = false;
    const error = await guard.protect('kb.search', async () => (ran = true))({ q: 'x' }).catch((e: unknown) => e);
    await guard.close();
    expect(ran).toBe(false);
    expect(error).toBeInstanceOf(AgentGuardDeniedError);
    const reason = (error as AgentGuardDeniedError).decision.reasons[0]!;
    expect(reason.code).toBe('SDK_TOO_NEW');
    expect(reason.message).toMatch(/^the sidecar's version "0\.0\.1" is older than agentguard-js needs/);
  });

  it("denies with the sidecar's SDK_TOO_OLD and its upgrade message", async () => {
    const url = await fakeSidecar((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'SDK_TOO_OLD', message: 'agentguard-js 0.0.1 is too old', actions: ['Upgrade agentguard-js to 0.2.0 or later.'] } }));
    });
    const guard = new AgentGuard({ sidecar: { url, token: TOKEN } });
    const decision = await guard.decide({ kind: 'tool', name: 'kb.search' });
    await guard.close();
    expect(decision.effect).toBe('deny');
    expect(decision.reasons[0]).toMatchObject({ code: 'SDK_TOO_OLD' });
    expect(decision.reasons[0]!.message).toContain('agentguard-js 0.0.1 is too old');
  });
});

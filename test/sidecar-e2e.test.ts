import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentGuard } from '../src/sdk/index.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { tempDataDir } from './helpers/audit-log.js';
import { createToken, killStartedSidecars, startSidecar, type SidecarProcess, until } from './helpers/sidecar-process.js';

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const POLICY = join(ROOT, 'test/fixtures/sidecar-cli/policy.yaml');

let sidecar: SidecarProcess;
let policyFile: string;
let bot: { id: string; token: string };
let other: { id: string; token: string };
let admin: { id: string; token: string };

async function call(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${sidecar.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : (JSON.parse(text) as Record<string, any>) };
}

beforeAll(async () => {
  const dataDir = tempDataDir('ag-e2e-');
  policyFile = join(dirname(dataDir), 'policy.yaml');
  copyFileSync(POLICY, policyFile);
  bot = await createToken(dataDir, '--agent', 'bot');
  other = await createToken(dataDir, '--agent', 'other-bot');
  admin = await createToken(dataDir, '--admin');
  sidecar = await startSidecar(dataDir, policyFile);
}, 60_000);

afterAll(killStartedSidecars);

describe('a real sidecar process: decisions, outcomes, audit', () => {
  it('decides, fills in the agent from the token, records the outcome with usage, and shows both in the audit', async () => {
    const allowed = await call('POST', '/v1/decide', bot.token, { action: { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ effect: 'allow', action: { agent: { id: 'bot' } } });
    const denied = await call('POST', '/v1/decide', bot.token, { action: { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } } });
    expect(denied.body).toMatchObject({ effect: 'deny', reasons: [{ rule: 'no-destructive-sql' }] });

    const outcome = await call('POST', `/v1/decisions/${allowed.body!.id}/outcome`, bot.token, { status: 'ok', durationMs: 3, usage: { inputTokens: 10, outputTokens: 2 } });
    expect(outcome.status).toBe(204);

    const audit = await call('GET', '/v1/audit?limit=10', bot.token);
    expect(audit.status).toBe(200);
    const records = audit.body!.records as Array<{ type: string; decisionId: string; agentId: string; data: Record<string, unknown> }>;
    expect(records.find((r) => r.type === 'outcome')).toMatchObject({ decisionId: allowed.body!.id, data: { status: 'ok', usage: { inputTokens: 10 } } });
    expect(records.filter((r) => r.type === 'decision').map((r) => r.decisionId)).toEqual(expect.arrayContaining([allowed.body!.id, denied.body!.id]));
    expect(records.every((r) => r.agentId === 'bot')).toBe(true);

    const verify = await call('GET', '/v1/audit/verify', admin.token);
    expect(verify.body).toMatchObject({ ok: true });
  });

  it("an agent token never sees another agent's audit records", async () => {
    await call('POST', '/v1/decide', other.token, { action: { kind: 'tool', name: 'kb.search' } });
    const mine = await call('GET', '/v1/audit?limit=100', bot.token);
    expect((mine.body!.records as Array<{ agentId: string }>).every((r) => r.agentId === 'bot')).toBe(true);
    const asked = await call('GET', '/v1/audit?agent=other-bot', bot.token);
    expect([200, 403]).toContain(asked.status);
    if (asked.status === 200) expect(asked.body!.records).toEqual([]);
  });
});

describe('a real sidecar process: auth', () => {
  it('401 without a token, with a wrong one, and with a malformed one', async () => {
    const action = { action: { kind: 'tool', name: 'kb.search' } };
    expect((await call('POST', '/v1/decide', undefined, action)).status).toBe(401);
    expect((await call('POST', '/v1/decide', `agk_${'x'.repeat(43)}`, action)).status).toBe(401);
    expect((await call('POST', '/v1/decide', 'abcdefghij', action)).status).toBe(401);
  });

  it('403 when an agent token decides for another agent, and on admin routes', async () => {
    const res = await call('POST', '/v1/decide', bot.token, { action: { kind: 'tool', name: 'kb.search', agent: { id: 'other-bot' } } });
    expect(res.status).toBe(403);
    expect(res.body!.error.code).toBe('AGENT_MISMATCH');
    for (const [method, path] of [['GET', '/v1/policy'], ['POST', '/v1/policy/reload'], ['GET', '/v1/audit/verify']] as const) {
      expect((await call(method, path, bot.token)).status, `${method} ${path}`).toBe(403);
    }
  });

  it('a revoked token is refused within a second', async () => {
    const doomed = await createToken(sidecar.dataDir, '--agent', 'temp-bot');
    expect((await call('POST', '/v1/decide', doomed.token, { action: { kind: 'tool', name: 'kb.search' } })).status).toBe(200);
    const revoked = await runCliInProcess(['token', 'revoke', doomed.id, '--data-dir', sidecar.dataDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until(async () => ((await call('POST', '/v1/decide', doomed.token, { action: { kind: 'tool', name: 'kb.search' } })).status === 401 ? true : undefined), 3000);
  });
});

describe('a real sidecar process: reload', () => {
  it('POST /v1/policy/reload swaps in a good policy and refuses a bad one, keeping the last good one', async () => {
    const before = await call('GET', '/v1/policy', admin.token);
    writeFileSync(policyFile, 'version: 1\nname: e2e-v2\ndefault: deny\nrules:\n  - id: kb-read\n    effect: allow\n    when: { kind: tool, name: kb.search }\n');
    const good = await call('POST', '/v1/policy/reload', admin.token);
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ changed: true, policy: { name: 'e2e-v2' } });
    expect((await call('POST', '/v1/decide', bot.token, { action: { kind: 'tool', name: 'kb.fetch' } })).body).toMatchObject({ effect: 'deny' });

    writeFileSync(policyFile, 'version: 1\nname: broken\nrules:\n  - id: x\n    effect: alow\n');
    const bad = await call('POST', '/v1/policy/reload', admin.token);
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toMatch(/alow/);
    expect((await call('GET', '/v1/policy', admin.token)).body).toMatchObject({ name: 'e2e-v2' });
    const ready = await fetch(`${sidecar.url}/readyz`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(ready.status).toBe(200);
    expect(JSON.stringify(await ready.json())).toMatch(/lastReload/);
    expect(await (await fetch(`${sidecar.url}/metrics`)).text()).toMatch(/agentguard_policy_reload_failures_total 1/);
    copyFileSync(POLICY, policyFile);
    expect((await call('POST', '/v1/policy/reload', admin.token)).body).toMatchObject({ policy: { name: before.body!.name } });
  });
});

describe('a real sidecar process: agentguard doctor', () => {
  it('passes with a valid token, fails naming the token when it is wrong, and never prints it', async () => {
    const env = { AGENTGUARD_TOKEN: bot.token };
    const good = await runCliInProcess(['doctor', '--policy', policyFile, '--data-dir', sidecar.dataDir, '--json'], { env });
    const result = JSON.parse(good.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> };
    expect(result.checks.find((c) => c.name === 'sidecar')?.status).toBe('ok');
    expect(result.checks.find((c) => c.name === 'token')?.status).toBe('ok');
    expect(good.code, good.stdout).toBe(result.ok ? 0 : 1);

    const wrong = `agk_${'A'.repeat(43)}`;
    const bad = await runCliInProcess(['doctor', '--policy', policyFile, '--data-dir', sidecar.dataDir], { env: { AGENTGUARD_TOKEN: wrong } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ token .*rejects the token in \$AGENTGUARD_TOKEN/);
    expect(bad.stdout).toMatch(/fix: .*token create/);
    expect(bad.stdout + bad.stderr).not.toContain(wrong);
    expect(good.stdout + good.stderr).not.toContain(bot.token);
  });

  it('fails when the sidecar named by --sidecar-url does not answer', async () => {
    const port = await freePort();
    const result = await runCliInProcess(['doctor', '--policy', policyFile, '--data-dir', sidecar.dataDir, '--sidecar-url', `http://127.0.0.1:${port}`], { env: { AGENTGUARD_TOKEN: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✗ sidecar  http://127.0.0.1:${port} does not answer /healthz (ECONNREFUSED)`);
  });
});

describe('a real sidecar process: fuzzing', () => {
  const paths = ['/v1/decide', '/v1/decisions/dec_1/outcome', '/v1/audit', '/v1/audit/verify', '/v1/policy', '/v1/policy/reload', '/healthz', '/readyz', '/nope', '/v1/decide?x=1', '/%', '/v1/audit?limit=99999999'];
  const validBody = { action: { kind: 'tool', name: 'kb.search', input: { q: 'x', n: 1, nested: { list: [1, 'two', null] } } } };

  /** Replaces, removes or retypes one value somewhere in a JSON value. */
  function mutate(value: unknown, path: number[], replacement: unknown): unknown {
    if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) return replacement;
    const [key, child] = entries[path[0] % entries.length];
    const copy: any = Array.isArray(value) ? [...value] : { ...value };
    copy[key] = mutate(child, path.slice(1), replacement);
    return copy;
  }

  const body = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.json().map((j) => j),
    fc.tuple(fc.array(fc.nat(), { maxLength: 4 }), fc.jsonValue()).map(([path, v]) => JSON.stringify(mutate(validBody, path, v))),
    fc.nat({ max: 3000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.constant(JSON.stringify({ action: { kind: 'tool', name: 'x'.repeat(200_000) } })),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    path: fc.constantFrom(...paths),
    token: fc.constantFrom('bot', 'admin', 'none', 'garbage'),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data', ''),
    body,
  });

  it('thousands of random and mutated requests: never a 5xx, the process stays up, /healthz answers', async () => {
    const samples = fc.sample(request, { numRuns: 2500, seed: 4242 });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < samples.length; i += 25) {
      await Promise.all(
        samples.slice(i, i + 25).map(async (r) => {
          const token = r.token === 'bot' ? bot.token : r.token === 'admin' ? admin.token : r.token === 'garbage' ? 'not-a-token%00' : undefined;
          const headers: Record<string, string> = {};
          if (token) headers.authorization = `Bearer ${token}`;
          if (r.contentType) headers['content-type'] = r.contentType;
          const response = await fetch(`${sidecar.url}${r.path}`, { method: r.method, headers, body: r.method === 'GET' ? undefined : r.body }).catch((e: Error) => e);
          if (response instanceof Error) {
            failures.push(`${r.method} ${r.path}: ${response.message}`);
            return;
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const text = await response.text();
          if (response.status >= 500) failures.push(`${r.method} ${r.path} ${response.status}: ${text.slice(0, 200)}`);
          if (response.status >= 400 && response.status !== 404 && r.path !== '/%') {
            expect(JSON.parse(text), text).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    const health = await fetch(`${sidecar.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
  }, 120_000);
});

describe('a real sidecar process: the SDK fails closed when it dies', () => {
  it('protect() runs the tool while the sidecar is up, and never once it was killed', async () => {
    const guard = new AgentGuard({ sidecar: { url: sidecar.url, token: bot.token }, timeoutMs: 500 });
    let runs = 0;
    const search = guard.protect('kb.search', async (q: string) => {
      runs++;
      return `results for ${q}`;
    });
    await expect(search('refunds')).resolves.toBe('results for refunds');
    expect(runs).toBe(1);

    process.kill(sidecar.pid, 'SIGKILL');
    await until(async () => (await fetch(`${sidecar.url}/healthz`).then(() => undefined, () => true)));
    await expect(search('again')).rejects.toMatchObject({ name: 'AgentGuardDeniedError' });
    const decision = await guard.decide({ kind: 'tool', name: 'kb.search' });
    expect(decision.effect).toBe('deny');
    expect(decision.reasons.map((r) => r.code)).toContain('sidecar_unavailable');
    expect(runs).toBe(1);
    await guard.close();
  });
});

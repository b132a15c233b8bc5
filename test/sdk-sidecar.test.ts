import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { AgentGuard, AgentGuardDeniedError, type Decision } from '../src/sdk/index.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = fileURLToPath(new URL('./fixtures/sdk-sidecar/policy.yaml', import.meta.url));
const TOKEN = 'bot-secret-token-0123456789';

/** Token store double: one agent token. */
const authenticate: Authenticate = async (header) => {
  if (header === `Bearer ${TOKEN}`) return { ok: true, token: { id: 'tok_bot', scope: { kind: 'agent', agentId: 'bot' } } };
  return { ok: false, reason: header === undefined ? 'missing' : 'unknown' };
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface FakeSidecar {
  url: string;
  /** Requests received, by path. */
  requests: string[];
}

/** A throwaway HTTP server on 127.0.0.1 that answers with `handler`; closed after the test. */
async function fakeSidecar(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<FakeSidecar> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function decisionFor(body: string, overrides: Partial<Decision> = {}): Decision {
  const { action } = JSON.parse(body) as { action: Decision['action'] };
  return { id: 'dec_0123', effect: 'allow', action, reasons: [{ rule: 'r', effect: 'allow', message: 'ok' }], findings: [], policy: { name: 'p', hash: 'h' }, elapsedUs: 3, ...overrides };
}

/** A port nothing listens on: bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function guardFor(url: string, extra: Record<string, unknown> = {}): AgentGuard {
  const guard = new AgentGuard({ sidecar: { url, token: TOKEN }, ...extra });
  cleanups.push(() => guard.close());
  return guard;
}

/** Calls a protected function and returns the deny it threw, asserting the function never ran. */
async function expectDenied(guard: AgentGuard): Promise<Decision> {
  const tool = vi.fn(async () => 'ran');
  const error = await guard.protect('kb.search', tool)({ q: 'x' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AgentGuardDeniedError);
  expect(tool).not.toHaveBeenCalled();
  return (error as AgentGuardDeniedError).decision;
}

describe('AgentGuard sidecar mode against the real sidecar app', () => {
  async function realSidecar(): Promise<{ url: string; app: FastifyInstance; recorder: AuditRecorder }> {
    const dataDir = tempDataDir('ag-sdk-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    const app = await buildSidecarApp({ policy: await Policy.fromFile(POLICY), policyPath: POLICY, recorder, dataDir, authenticate });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(async () => {
      await app.close();
      await recorder.close().catch(() => undefined);
    });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, app, recorder };
  }

  it('allows, denies and transforms, and records outcomes', async () => {
    const { url, recorder } = await realSidecar();
    const guard = guardFor(url);

    const search = vi.fn(async ({ q }: { q: string }) => `found ${q}`);
    await expect(guard.protect('kb.search', search)({ q: 'refunds' })).resolves.toBe('found refunds');

    const query = vi.fn(async (_: { sql: string }) => 'rows');
    const denied = await guard.protect('db.query', query)({ sql: 'DROP TABLE users' }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AgentGuardDeniedError);
    expect((denied as AgentGuardDeniedError).decision.reasons[0]).toMatchObject({ rule: 'no-destructive-sql', effect: 'deny' });
    expect(query).not.toHaveBeenCalled();

    const connect = vi.fn(async (input: { db: string; readOnly?: boolean }) => input);
    await expect(guard.protect('db.connect', connect)({ db: 'main' })).resolves.toEqual({ db: 'main', readOnly: true });

    const records = await recorder.store.audit.query({ order: 'asc' });
    expect(records.map((r) => [r.type, r.effect])).toEqual([
      ['decision', 'allow'], ['outcome', null], ['decision', 'deny'], ['decision', 'transform'], ['outcome', null],
    ]);
    expect(records[1]!.decisionId).toBe(records[0]!.decisionId);
    expect(records[4]!.decisionId).toBe(records[3]!.decisionId);
    expect(records.every((r) => r.agentId === 'bot')).toBe(true);
  });

  it('denies with the sidecar\'s UNAUTHORIZED when it rejects the token (401), without leaking it', async () => {
    const { url } = await realSidecar();
    const guard = new AgentGuard({ sidecar: { url, token: 'wrong-token-abcdef' } });
    cleanups.push(() => guard.close());
    const decision = await expectDenied(guard);
    expect(decision.reasons[0]).toMatchObject({ effect: 'deny', code: 'UNAUTHORIZED' });
    expect(decision.reasons[0]!.message).toMatch(/answered 401/);
    expect(JSON.stringify(decision)).not.toContain('wrong-token-abcdef');
  });
});

describe('AgentGuard sidecar mode fails closed', () => {
  it('denies when the connection is refused, and the protected function never runs', async () => {
    const decision = await expectDenied(guardFor(await closedPortUrl()));
    expect(decision).toMatchObject({ effect: 'deny', policy: { name: 'sidecar-unavailable', hash: '' } });
    expect(decision.id).toMatch(/^dec_local_[0-9a-f]{32}$/);
    expect(decision.reasons).toEqual([{ effect: 'deny', code: 'sidecar_unavailable', message: expect.stringMatching(/could not reach the sidecar .*ECONNREFUSED/) }]);
  });

  it('denies after timeoutMs when the sidecar accepts but never answers', async () => {
    const sidecar = await fakeSidecar(() => undefined);
    const started = Date.now();
    const decision = await expectDenied(guardFor(sidecar.url, { timeoutMs: 200 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(decision.reasons[0]).toMatchObject({ code: 'sidecar_unavailable', message: expect.stringMatching(/did not answer within 200 ms/) });
    expect(sidecar.requests).toEqual(['POST /v1/decide']);
  });

  it('denies on a 500', async () => {
    const sidecar = await fakeSidecar((_req, res) => json(res, 500, { error: { code: 'INTERNAL', message: 'boom' } }));
    const decision = await expectDenied(guardFor(sidecar.url));
    expect(decision.reasons[0]).toMatchObject({ code: 'sidecar_unavailable', message: expect.stringMatching(/answered 500 .*INTERNAL boom/) });
  });

  it('denies on a body that is not JSON, or not a valid Decision', async () => {
    const garbage = await fakeSidecar((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops'));
    expect((await expectDenied(guardFor(garbage.url))).reasons[0]).toMatchObject({ code: 'sidecar_unavailable', message: expect.stringMatching(/not JSON/) });

    const cases: Array<[Partial<Decision> | Record<string, unknown>, RegExp]> = [
      [{ effect: 'maybe' }, /"effect"/],
      [{ id: 42 }, /"id"/],
      [{ reasons: 'fine' }, /"reasons"/],
      [{ effect: 'transform', action: 'rm -rf /' }, /"action"/],
      [{ effect: 'transform', action: { kind: 'tool', name: 'kb.search', input: 'x' } }, /"action.input"/],
    ];
    for (const [overrides, pattern] of cases) {
      const sidecar = await fakeSidecar((_req, res, body) => json(res, 200, { ...decisionFor(body), ...overrides }));
      const decision = await expectDenied(guardFor(sidecar.url));
      expect(decision.reasons[0]).toMatchObject({ code: 'sidecar_unavailable', message: expect.stringMatching(pattern) });
    }
  });

  it('never puts the token in a message, even when the sidecar echoes it', async () => {
    const sidecar = await fakeSidecar((req, res) => json(res, 401, { error: { code: 'UNAUTHORIZED', message: `bad token ${req.headers.authorization}` } }));
    const decision = await expectDenied(guardFor(sidecar.url));
    expect(decision.reasons[0]!.message).toMatch(/answered 401 .*UNAUTHORIZED bad token Bearer \[redacted\]/);
    expect(JSON.stringify(decision)).not.toContain(TOKEN);
  });

  it('posts outcomes to the outcome route, and a failed post does not fail the call', async () => {
    const outcomes: string[] = [];
    const sidecar = await fakeSidecar((req, res, body) => {
      if (req.url === '/v1/decide') return json(res, 200, decisionFor(body, { id: 'dec_abc' }));
      outcomes.push(body);
      json(res, 503, { error: { code: 'AUDIT_UNAVAILABLE', message: 'try again' } });
    });
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => void warnings.push(String(w)));
    await expect(guardFor(sidecar.url).protect('kb.search', async () => 'done')({ q: 'x' })).resolves.toBe('done');
    expect(sidecar.requests).toEqual(['POST /v1/decide', 'POST /v1/decisions/dec_abc/outcome']);
    expect(JSON.parse(outcomes[0]!)).toMatchObject({ status: 'ok', durationMs: expect.any(Number) });
    expect(warnings.join('\n')).toMatch(/could not record the outcome of dec_abc: .*503/);
  });
});

describe('AgentGuard sidecar mode circuit breaker', () => {
  it('stops calling a failing sidecar during the cool-down, then closes after a successful trial', async () => {
    let healthy = false;
    const sidecar = await fakeSidecar((_req, res, body) => (healthy ? json(res, 200, decisionFor(body)) : json(res, 502, {})));
    let now = 1_000_000;
    const guard = guardFor(sidecar.url, { circuitBreaker: { failureThreshold: 3, cooldownMs: 5000, now: () => now } });

    for (let i = 0; i < 3; i++) await expectDenied(guard);
    expect(sidecar.requests).toHaveLength(3);

    now += 4999;
    const refused = await expectDenied(guard);
    expect(refused.reasons[0]).toMatchObject({ code: 'sidecar_unavailable', message: expect.stringMatching(/circuit .* is open/) });
    expect(sidecar.requests).toHaveLength(3);

    // Half-open: one trial; it fails, so the circuit opens again for a full cool-down.
    now += 1;
    await expectDenied(guard);
    expect(sidecar.requests).toHaveLength(4);
    await expectDenied(guard);
    expect(sidecar.requests).toHaveLength(4);

    now += 5000;
    healthy = true;
    await expect(guard.protect('kb.search', async () => 'ran')({ q: 'x' })).resolves.toBe('ran');
    expect(sidecar.requests.filter((r) => r.startsWith('POST /v1/decide'))).toHaveLength(5);
    await expect(guard.decide({ kind: 'tool', name: 'kb.search' })).resolves.toMatchObject({ effect: 'allow', id: 'dec_0123' });
    expect(sidecar.requests.filter((r) => r.startsWith('POST /v1/decide'))).toHaveLength(6);
  });
});

describe('AgentGuard sidecar mode failMode open', () => {
  it('allows with sidecar_unavailable_fail_open and a warning each time when the sidecar is unavailable', async () => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => void warnings.push(String(w)));
    const guard = guardFor(await closedPortUrl(), { failMode: 'open' });
    const tool = vi.fn(async () => 'ran');
    await expect(guard.protect('kb.search', tool)({ q: 'x' })).resolves.toBe('ran');
    const decision = await guard.decide({ kind: 'tool', name: 'kb.search' });
    expect(decision).toMatchObject({ effect: 'allow', reasons: [{ effect: 'allow', code: 'sidecar_unavailable_fail_open' }] });
    expect(warnings.filter((w) => /failMode "open" let "kb.search" through unchecked/.test(w))).toHaveLength(2);
  });

  it('still denies when the sidecar rejects the request (4xx)', async () => {
    const sidecar = await fakeSidecar((_req, res) => json(res, 403, { error: { code: 'AGENT_MISMATCH', message: 'another agent' } }));
    const decision = await expectDenied(guardFor(sidecar.url, { failMode: 'open' }));
    expect(decision.reasons[0]).toMatchObject({ effect: 'deny', code: 'AGENT_MISMATCH', message: expect.stringMatching(/403 .*AGENT_MISMATCH/) });
  });
});

describe('AgentGuard options', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ policy: POLICY, agentId: 'a', sidecar: { url: 'http://127.0.0.1:1', token: 't' } }, /either `policy` .* or `sidecar`/],
    [{ sidecar: { url: 'not a url', token: 't' } }, /sidecar.url` is not a valid URL/],
    [{ sidecar: { url: 'ftp://127.0.0.1', token: 't' } }, /http:\/\/ or https:\/\//],
    [{ sidecar: { url: 'http://user:pw@127.0.0.1', token: 't' } }, /must not hold credentials/],
    [{ sidecar: { url: 'http://127.0.0.1:1', token: '' } }, /sidecar.token/],
    [{ sidecar: { url: 'http://127.0.0.1:1', token: 't' }, failMode: 'opne' }, /failMode/],
    [{ sidecar: { url: 'http://127.0.0.1:1', token: 't' }, timeoutMs: 0 }, /timeoutMs/],
    [{ sidecar: { url: 'http://127.0.0.1:1', token: 't' }, dataDir: '/tmp' }, /`dataDir` applies to local mode only/],
    [{ sidecar: { url: 'http://127.0.0.1:1', token: 't' }, circuitBreaker: { failureThreshold: 0 } }, /circuitBreaker.failureThreshold/],
    [{ policy: POLICY, agentId: 'a', failMode: 'open' }, /`failMode` applies to sidecar mode only/],
    [{ agentId: 'a' }, /needs `policy`.* or `sidecar/],
  ];
  it.each(bad)('rejects %j', (options, pattern) => {
    expect(() => new AgentGuard(options as never)).toThrow(pattern);
  });
});

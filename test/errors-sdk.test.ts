import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERRORS, type ErrorCode } from '../src/core/errors.js';
import { AgentGuard, AgentGuardDeniedError, type Decision } from '../src/sdk/index.js';
import { hardeningSidecar, type HardeningHarness } from './helpers/hardening-sidecar.js';

const guards: AgentGuard[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const guard of guards.splice(0)) await guard.close();
});

function guardFor(url: string, token: string, extra: Record<string, unknown> = {}): AgentGuard {
  const guard = new AgentGuard({ sidecar: { url, token }, ...extra });
  guards.push(guard);
  return guard;
}

/** Runs a protected function and returns the deny it threw, asserting the function never ran. */
async function denied(guard: AgentGuard): Promise<Decision> {
  const tool = vi.fn(async () => 'ran');
  const error = await guard.protect('kb.search', tool)({ q: 'x' }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AgentGuardDeniedError);
  expect(tool).not.toHaveBeenCalled();
  return (error as AgentGuardDeniedError).decision;
}

describe('the SDK keeps the code of a request the real sidecar refuses (and still denies)', () => {
  let sidecar: HardeningHarness;
  let url: string;
  beforeAll(async () => {
    sidecar = await hardeningSidecar();
    await sidecar.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(sidecar.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sidecar.close();
  });

  it('AGENT_MISMATCH: an agent token deciding for another agent', async () => {
    const decision = await denied(guardFor(url, sidecar.bot, { agentId: 'finance-bot' }));
    expect(decision.effect).toBe('deny');
    expect(decision.reasons).toEqual([{ effect: 'deny', code: 'AGENT_MISMATCH', message: expect.stringMatching(/answered 403 to decide: AGENT_MISMATCH this token belongs to agent "bot"/) }]);
  });

  it('AGENT_MISMATCH denies even with failMode "open" (the sidecar answered; it refused)', async () => {
    const decision = await guardFor(url, sidecar.bot, { failMode: 'open' }).decide({ kind: 'tool', name: 'kb.search', agent: { id: 'finance-bot' } });
    expect(decision).toMatchObject({ effect: 'deny', reasons: [{ code: 'AGENT_MISMATCH' }] });
  });

  it('UNAUTHORIZED: a revoked or unknown token', async () => {
    const decision = await denied(guardFor(url, 'agk_not-a-real-token-0123456789'));
    expect(decision.reasons[0]).toMatchObject({ effect: 'deny', code: 'UNAUTHORIZED' });
    expect(JSON.stringify(decision)).not.toContain('agk_not-a-real-token-0123456789');
  });

  it('INVALID_REQUEST: an action the sidecar\'s schema refuses', async () => {
    const decision = await guardFor(url, sidecar.bot).decide({ kind: 'tool', name: 'kb.search', unknownField: 1 } as never);
    expect(decision).toMatchObject({ effect: 'deny', reasons: [{ code: 'INVALID_REQUEST', message: expect.stringMatching(/unknownField/) }] });
  });
});

describe('SIDECAR_UNAVAILABLE only when there is no usable answer', () => {
  let server: Server;
  let url: string;
  /** What the fake sidecar answers next. */
  let answer: { status: number; body: string } = { status: 500, body: '' };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const codes = Object.keys(ERRORS) as ErrorCode[];
  const refusal = fc.record({
    // 429 is "try later" (unavailable). fetch itself fails on 407 (a proxy's) and retries a 421 on a new connection,
    // then fails: both are transport failures, so unavailable too.
    status: fc.integer({ min: 400, max: 499 }).filter((s) => s !== 429 && s !== 407 && s !== 421),
    code: fc.constantFrom(...codes),
    message: fc.string({ maxLength: 40 }),
  });

  it('any 4xx with a registered code: deny with that code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(refusal, async ({ status, code, message }) => {
        answer = { status, body: JSON.stringify({ error: { code, message, actions: [] } }) };
        // A fresh guard each time, so the circuit breaker of one run does not decide the next.
        const decision = await guardFor(url, 'token-0123456789', { failMode: 'open' }).decide({ kind: 'tool', name: 'kb.search' });
        expect(decision.effect).toBe('deny');
        expect(decision.reasons[0]!.code).toBe(code);
      }),
      { numRuns: 25 },
    );
  });

  it('a 4xx with an unknown code, or a body that is not an error: SIDECAR_REJECTED, still a deny', async () => {
    for (const body of [JSON.stringify({ error: { code: 'FROM_A_NEWER_SIDECAR', message: 'no' } }), '<html>403</html>']) {
      answer = { status: 403, body };
      const decision = await guardFor(url, 'token-0123456789', { failMode: 'open' }).decide({ kind: 'tool', name: 'kb.search' });
      expect(decision).toMatchObject({ effect: 'deny', reasons: [{ code: 'SIDECAR_REJECTED' }] });
    }
  });

  it('5xx and 429, even with a registered code in the body: sidecar_unavailable', async () => {
    for (const status of [500, 502, 503, 429]) {
      answer = { status, body: JSON.stringify({ error: { code: 'AGENT_MISMATCH', message: 'x', actions: [] } }) };
      const decision = await guardFor(url, 'token-0123456789').decide({ kind: 'tool', name: 'kb.search' });
      expect(decision).toMatchObject({ effect: 'deny', reasons: [{ code: 'sidecar_unavailable' }] });
    }
  });
});

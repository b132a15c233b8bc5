import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { openEngine, type Engine } from '../src/core/engine/open-engine.js';
import { PolicyError } from '../src/core/policy/policy-error.js';
import { Policy } from '../src/core/policy/policy.js';
import { MemoryRateLimitStore } from '../src/core/rate/memory-store.js';
import type { RateWindow } from '../src/core/rate/types.js';
import { openStore } from '../src/core/store/open-store.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const policyText = (window: 'sliding' | 'fixed', extra = '') => `version: 1
name: limits
rules:
  - id: search
    effect: allow
    when: { name: web.search }
    rate: { key: [agent.id, name], max: 3, per: 1m, window: ${window} }
  - id: no-secret-queries
    effect: deny
    when: { name: web.search, input.q: { contains: secret } }
${extra}`;

const search = (agent: string, q = 'weather'): Action => ({ agent: { id: agent }, kind: 'tool', name: 'web.search', input: { q } });

const open: Engine[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

/** An engine that records in a fresh data folder, on a clock the test moves. */
async function engineAt(text: string, clock: { now: number }, dataDir = join(makeTempDir('ag-rate-'), 'data')): Promise<Engine> {
  const e = await openEngine({ policy: Policy.parse(text), record: true, dataDir, now: () => new Date(clock.now) });
  open.push(e);
  return e;
}

const effects = (ds: Decision[]) => ds.map((d) => d.effect);

describe('rate limits', () => {
  it('sliding window: the 4th call within a minute is denied with rate_limited and a retry hint; a slot frees a minute after it was taken', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const e = await engineAt(policyText('sliding'), clock);
    const made: Decision[] = [];
    for (const offset of [0, 10_000, 20_000, 30_000]) {
      clock.now = Date.parse('2026-03-01T12:00:00.000Z') + offset;
      made.push(await e.decide(search('bot')));
    }
    expect(effects(made)).toEqual(['allow', 'allow', 'allow', 'deny']);
    const limited = made[3].reasons.find((r) => r.code === 'rate_limited')!;
    expect(limited).toMatchObject({ rule: 'search', effect: 'deny', retryAfter: 30 });
    expect(limited.message).toContain('3 per 1m (sliding) by agent.id, name');
    // Another agent has its own counter.
    expect((await e.decide(search('other'))).effect).toBe('allow');
    // At 12:01:00.001 the slot taken at 12:00:00 has left the window, the others have not.
    clock.now = Date.parse('2026-03-01T12:01:00.001Z');
    expect((await e.decide(search('bot'))).effect).toBe('allow');
    expect((await e.decide(search('bot'))).effect).toBe('deny');
  });

  it('fixed window: windows start on the minute; the limit resets at the next one, and retryAfter points there', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:50.000Z') };
    const e = await engineAt(policyText('fixed'), clock);
    const made = [await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot'))];
    expect(effects(made)).toEqual(['allow', 'allow', 'allow', 'deny']);
    expect(made[3].reasons.find((r) => r.code === 'rate_limited')?.retryAfter).toBe(10);
    clock.now = Date.parse('2026-03-01T12:01:00.000Z');
    expect(effects([await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot'))])).toEqual(['allow', 'allow', 'allow', 'deny']);
  });

  it('denied actions take no slot: a deny rule, and a rate-limited deny itself, leave the count as it was', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const e = await engineAt(policyText('sliding'), clock);
    for (let i = 0; i < 5; i++) expect((await e.decide(search('bot', 'secret plans'))).effect).toBe('deny');
    expect(effects([await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot'))])).toEqual(['allow', 'allow', 'allow']);
    for (let i = 0; i < 5; i++) expect((await e.decide(search('bot'))).effect).toBe('deny');
    // Five rate-limited denials took nothing: once the first three leave the window, three more are allowed.
    clock.now += 60_001;
    expect(effects([await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot')), await e.decide(search('bot'))])).toEqual(['allow', 'allow', 'allow', 'deny']);
  });

  it('a require_approval decision takes no slot, and neither does a decision whose record fails (its slot is given back)', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const text = policyText('sliding', `  - id: ask-for-long
    effect: require_approval
    when: { name: web.search, input.q: { startsWith: "long" } }
`);
    const dataDir = join(makeTempDir('ag-rate-'), 'data');
    const e = await engineAt(text, clock, dataDir);
    for (let i = 0; i < 4; i++) expect((await e.decide(search('bot', 'long question'))).effect).toBe('require_approval');
    const store = e.recorder!.store;
    expect(await store.rateLimits.usage([Policy.parse(text).compiled.rules[0].rate!.windowFor(search('bot'))], clock.now)).toEqual([0]);
  });

  it('the slot is given back when a later stage denies (the audit record cannot be written)', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const dataDir = join(makeTempDir('ag-rate-'), 'data');
    const e = await openEngine({
      policy: Policy.parse(policyText('sliding')),
      record: true,
      dataDir,
      now: () => new Date(clock.now),
      auditSink: (recorder) => ({ ...recorder, append: async () => { throw new Error('disk full'); } }) as never,
    });
    open.push(e);
    const d = await e.decide(search('bot'));
    expect(d.effect).toBe('deny');
    expect(d.reasons.some((r) => r.code === 'audit_unavailable')).toBe(true);
    const window = Policy.parse(policyText('sliding')).compiled.rules[0].rate!.windowFor(search('bot'));
    expect(await e.recorder!.store.rateLimits.usage([window], clock.now)).toEqual([0]);
  });

  it('a store that fails denies (rate_limit_unavailable), it never lets the action through', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const e = await engineAt(policyText('sliding'), clock);
    const rateLimits = e.recorder!.store.rateLimits;
    const take = rateLimits.take.bind(rateLimits);
    rateLimits.take = async () => {
      throw new Error('database is locked');
    };
    try {
      const d = await e.decide(search('bot'));
      expect(d.effect).toBe('deny');
      expect(d.reasons.at(-1)).toMatchObject({ code: 'rate_limit_unavailable' });
    } finally {
      rateLimits.take = take;
    }
  });

  it('counts across engines on one data folder (one store, one count)', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const dataDir = join(makeTempDir('ag-rate-'), 'data');
    const a = await engineAt(policyText('fixed'), clock, dataDir);
    const b = await engineAt(policyText('fixed'), clock, dataDir);
    const made = [await a.decide(search('bot')), await b.decide(search('bot')), await a.decide(search('bot')), await b.decide(search('bot'))];
    expect(effects(made)).toEqual(['allow', 'allow', 'allow', 'deny']);
  });

  it('a transform rule with a rate keys its counter on the action as decided, not as the transform rewrote it', async () => {
    const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
    const e = await engineAt(`version: 1
name: anon
rules:
  - id: anonymise
    effect: transform
    when: { name: web.search }
    transform: [ { set: context.user, value: anonymous } ]
    rate: { key: [context.user], max: 1, per: 1h }
`, clock);
    const as = (user: string): Action => ({ kind: 'tool', name: 'web.search', context: { user } });
    const first = await e.decide(as('ann'));
    expect(first.effect).toBe('transform');
    expect(first.action.context).toEqual({ user: 'anonymous' });
    expect((await e.decide(as('bob'))).effect).toBe('transform');
    expect((await e.decide(as('ann'))).effect).toBe('deny');
  });

  it('record: false counts nothing (as budgets are not held); the explanation shows the limit', async () => {
    const e = await openEngine({ policy: Policy.parse(policyText('sliding')), record: false });
    open.push(e);
    for (let i = 0; i < 5; i++) expect((await e.decide(search('bot'))).effect).toBe('allow');
    const trace = e.explain(search('bot')).find((t) => t.id === 'search')!;
    expect(trace.rate).toBe('3 per 1m (sliding) by agent.id, name');
  });

  it('a rate on a deny or require_approval rule, a bad window length or a wildcard key is refused with its place', () => {
    const bad = (rule: string) => {
      try {
        Policy.parse(`version: 1\nname: x\nrules:\n${rule}`);
        return [];
      } catch (error) {
        return (error as PolicyError).problems.map((p) => `${p.path}: ${p.message}`);
      }
    };
    expect(bad('  - { id: d, effect: deny, rate: { max: 1, per: 1m } }').join('\n')).toMatch(/rules\[0\]\.rate: rule "d" has a rate limit but its effect is deny/);
    expect(bad('  - { id: a, effect: allow, rate: { max: 1, per: 1x } }').join('\n')).toMatch(/rules\[0\]\.rate\.per/);
    expect(bad('  - { id: a, effect: allow, rate: { max: 0, per: 1m } }').join('\n')).toMatch(/rules\[0\]\.rate\.max/);
    expect(bad('  - { id: a, effect: allow, rate: { max: 1, per: 1m, key: [input.to.*] } }').join('\n')).toMatch(/rules\[0\]\.rate\.key/);
    expect(bad('  - { id: a, effect: allow, rate: { max: 1, per: 1m, window: rolling } }').join('\n')).toMatch(/rules\[0\]\.rate\.window/);
  });
});

describe('rate-limit stores agree', () => {
  it('the SQLite store and the in-memory store (replay) allow the same decisions for any sequence of times and limits', async () => {
    const dir = makeTempDir('ag-rate-prop-');
    const store = await openStore({ dataDir: dir });
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<'sliding' | 'fixed'>('sliding', 'fixed'),
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 30 }),
          async (mode, max, gaps) => {
            run++;
            const window: RateWindow = { counter: `c${run}`, rule: 'r', max, perMs: 1000, window: mode };
            const memory = new MemoryRateLimitStore();
            let at = 1_700_000_000_000;
            const times: number[] = [];
            for (const [i, gap] of gaps.entries()) {
              at += gap % 700;
              const [fromSqlite, fromMemory] = [await store.rateLimits.take({ decisionId: `d${run}-${i}`, at, windows: [window] }), await memory.take({ decisionId: `d${run}-${i}`, at, windows: [window] })];
              expect(fromSqlite).toEqual(fromMemory);
              if (fromSqlite.taken) times.push(at);
              // Never more than max slots in any window, by the definition of the window.
              const inWindow = times.filter((t) => (mode === 'sliding' ? t > at - 1000 : Math.floor(t / 1000) === Math.floor(at / 1000))).length;
              expect(inWindow).toBeLessThanOrEqual(max);
              if (!fromSqlite.taken) expect(inWindow).toBe(max);
            }
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await store.close();
    }
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, Effect } from '../src/core/action.js';
import { openEngine } from '../src/core/engine/open-engine.js';
import { evaluatePolicy, newEvalContext } from '../src/core/policy/evaluate.js';
import { Policy } from '../src/core/policy/policy.js';
import { decisionRows } from '../src/core/replay/records.js';
import { replayDecisions, type ReplayReport } from '../src/core/replay/replay.js';
import { openStore } from '../src/core/store/open-store.js';
import type { Store } from '../src/core/store/store.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * A recorded log of a few thousand decisions under OLD, replayed under CANDIDATE whose changes are known: every change
 * must be found and nothing else, decisions that depend on a masked value must be "cannot tell", and nothing may be
 * written. The expected answers are computed here from the actions as they were before masking.
 */

const OLD = `version: 1
name: shop
rules:
  - { id: kb-read, effect: allow, when: { name: { glob: "kb.*" } } }
  - { id: db-read, effect: allow, when: { name: db.query, input.sql: { regex: "^select", flags: i } } }
  - { id: no-drop, effect: deny, when: { name: db.query, input.sql: { regex: "drop", flags: i } } }
  - { id: internal-http, effect: allow, when: { name: http.get, input.url: { startsWith: "https://internal/" } } }
  - { id: pay-approval, effect: require_approval, when: { name: payments.transfer, input.amount: { gt: 1000 } } }
  - { id: pay-small, effect: allow, when: { name: payments.transfer, input.amount: { lte: 1000 } } }
  - { id: search, effect: allow, when: { name: web.search } }
  - { id: deploy, effect: allow, when: { name: deploy } }
`;

// Known changes: kb limited to kb.public.*, payments need approval above 500, live keys are refused on http.get (a
// condition on a masked header), searches are rate-limited per agent, deploys only in Berlin business hours.
const CANDIDATE = `version: 1
name: shop
rules:
  - { id: kb-public, effect: allow, when: { name: { glob: "kb.public.*" } } }
  - { id: db-read, effect: allow, when: { name: db.query, input.sql: { regex: "^select", flags: i } } }
  - { id: no-drop, effect: deny, when: { name: db.query, input.sql: { regex: "drop", flags: i } } }
  - { id: internal-http, effect: allow, when: { name: http.get, input.url: { startsWith: "https://internal/" } } }
  - { id: no-live-keys, effect: deny, when: { name: http.get, input.headers.authorization: { regex: "sk-live" } } }
  - { id: pay-approval, effect: require_approval, when: { name: payments.transfer, input.amount: { gt: 500 } } }
  - { id: pay-small, effect: allow, when: { name: payments.transfer, input.amount: { lte: 500 } } }
  - id: search
    effect: allow
    when: { name: web.search }
    rate: { key: [agent.id], max: 1, per: 1m }
  - id: deploy
    effect: allow
    when: { name: deploy, time: { days: [mon, tue, wed, thu, fri], between: ["09:00", "18:00"], timezone: Europe/Berlin } }
`;

const COUNT = 3000;
const START = Date.parse('2026-03-27T16:00:00.000Z'); // Friday 17:00 in Berlin; 18:00 comes at decision 1800
const STEP_MS = 2000;
const AGENTS = ['bot-a', 'bot-b', 'bot-c'];

function actionAt(i: number): Action {
  const agent = { id: AGENTS[i % 3] };
  switch (i % 10) {
    case 0: return { agent, kind: 'tool', name: `kb.public.doc${i}` };
    case 1: return { agent, kind: 'tool', name: `kb.private.doc${i}` };
    case 2: return { agent, kind: 'tool', name: 'db.query', input: { sql: `SELECT * FROM t WHERE id = ${i}`, password: `hunter${i}` } };
    case 3: return { agent, kind: 'tool', name: 'db.query', input: { sql: `DROP TABLE t${i}` } };
    case 4: return { agent, kind: 'tool', name: 'http.get', input: { url: 'https://internal/api', headers: { authorization: `Bearer sk-${i % 20 === 4 ? 'live' : 'test'}-${'x'.repeat(24)}${i}` } } };
    case 5: return { agent, kind: 'tool', name: 'http.get', input: { url: `https://internal/page/${i}` } };
    case 6: return { agent, kind: 'tool', name: 'payments.transfer', input: { amount: (i * 37) % 2000 } };
    case 8: return { agent, kind: 'tool', name: 'deploy', input: { service: 'api' } };
    default: return { agent, kind: 'tool', name: 'web.search', input: { q: `q${i}` } };
  }
}

let dataDir: string;
let decisionIds: string[];
let report: ReplayReport;

beforeAll(async () => {
  dataDir = join(makeTempDir('ag-replay-'), 'data');
  let now = START;
  const engine = await openEngine({ policy: Policy.parse(OLD), record: true, dataDir, now: () => new Date(now) });
  decisionIds = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      now = START + i * STEP_MS;
      decisionIds.push((await engine.decide(actionAt(i))).id);
    }
  } finally {
    await engine.close();
  }
  const store = await openStore({ dataDir, create: false });
  try {
    report = await replayDecisions({ policy: Policy.parse(CANDIDATE), records: decisionRows(store.audit, {}) });
  } finally {
    await store.close();
  }
}, 120_000);

/** What the candidate decides for decision i, from the action as it was before masking, with its rate limit counted. */
function expectedEffects(): Effect[] {
  const candidate = Policy.parse(CANDIDATE).compiled;
  const old = Policy.parse(OLD).compiled;
  const searches = new Map<string, number[]>();
  return Array.from({ length: COUNT }, (_, i) => {
    const at = START + i * STEP_MS;
    const action = actionAt(i);
    let effect = evaluatePolicy(candidate, action, newEvalContext(candidate, {}, {}, new Date(at))).effect;
    if (action.name === 'web.search' && effect === 'allow') {
      const taken = (searches.get(action.agent!.id) ?? []).filter((t) => t > at - 60_000);
      if (taken.length >= 1) effect = 'deny';
      else taken.push(at);
      searches.set(action.agent!.id, taken);
    }
    expect(evaluatePolicy(old, action).effect).toBeDefined();
    return effect;
  });
}

describe('policy replay', () => {
  it('finds every change and nothing else; only the decisions that read a masked value are "cannot tell"', () => {
    const old = Policy.parse(OLD).compiled;
    const expected = expectedEffects();
    const recorded = Array.from({ length: COUNT }, (_, i) => evaluatePolicy(old, actionAt(i)).effect);
    const changedIds = new Set(report.changes.map((c) => c.decisionId));
    const unknownIds = new Set(report.unknown.map((u) => u.decisionId));
    // Only the http.get calls with an Authorization header depend on a masked value (no-live-keys reads it).
    const dependsOnMask = (i: number) => i % 10 === 4;
    for (let i = 0; i < COUNT; i++) {
      const id = decisionIds[i];
      if (dependsOnMask(i)) {
        expect(unknownIds.has(id), `decision ${i} reads a masked header`).toBe(true);
        continue;
      }
      expect(unknownIds.has(id), `decision ${i} does not depend on a masked value`).toBe(false);
      expect(changedIds.has(id), `decision ${i}: ${recorded[i]} → ${expected[i]}`).toBe(recorded[i] !== expected[i]);
    }
    const change = report.changes.find((c) => c.decisionId === decisionIds[1])!;
    expect(change).toMatchObject({ from: 'allow', to: 'deny', fromRules: ['kb-read'], toRules: [], code: 'default', name: 'kb.private.doc1' });
    expect(report.replayed).toBe(COUNT);
    expect(report.changed + report.unchanged + report.cannotTell).toBe(COUNT);
    // db.query records carry a masked password, which no rule reads: decided, not "cannot tell".
    expect(report.masked).toBe(COUNT / 10 * 2);
  });

  it('counts changes per transition and per rule: payments, kb, rate limits, and deploys after 18:00 in Berlin', () => {
    const byRule = Object.fromEntries(report.byRule.map((r) => [r.rule, r.count]));
    const expected = expectedEffects();
    const payments = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 10 === 6 && ((i * 37) % 2000) > 500 && ((i * 37) % 2000) <= 1000).length;
    expect(byRule['pay-approval']).toBe(payments);
    expect(byRule['search']).toBe(expected.filter((e, i) => actionAt(i).name === 'web.search' && e === 'deny').length);
    expect(byRule['search']).toBeGreaterThan(0);
    const lateDeploys = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 10 === 8 && i >= 1800).length;
    expect(byRule['default']).toBe(COUNT / 10 + lateDeploys); // kb.private.* and deploys after 18:00 fall to the default
    const limited = report.changes.find((c) => c.code === 'rate_limited')!;
    expect(limited).toMatchObject({ from: 'allow', to: 'deny', toRules: ['search'] });
    expect(report.transitions.find((t) => t.from === 'allow' && t.to === 'require_approval')?.count).toBe(payments);
  });

  it('writes nothing: the audit trail has the same records and no rate-limit slot was taken', async () => {
    const store: Store = await openStore({ dataDir, create: false });
    try {
      expect(await store.audit.count()).toBeGreaterThanOrEqual(COUNT);
      const before = await store.audit.count();
      await replayDecisions({ policy: Policy.parse(CANDIDATE), records: decisionRows(store.audit, {}) });
      expect(await store.audit.count()).toBe(before);
      const window = Policy.parse(CANDIDATE).compiled.rules.find((r) => r.id === 'search')!.rate!.windowFor(actionAt(9));
      expect(await store.rateLimits.usage([window], START + COUNT * STEP_MS)).toEqual([0]);
    } finally {
      await store.close();
    }
  });

  it('narrows by --since, --until and --agent; --fail-on-change exits 1 on a change and 0 without one', async () => {
    const dir = makeTempDir('ag-replay-cli-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'candidate.yaml'), CANDIDATE);
    writeFileSync(join(dir, 'same.yaml'), OLD);
    const since = new Date(START + 1000 * STEP_MS).toISOString();
    const until = new Date(START + 1100 * STEP_MS).toISOString();
    const changed = await runCliInProcess(['policy', 'replay', '--policy', 'candidate.yaml', '--data-dir', dataDir, '--since', since, '--until', until, '--agent', 'bot-b', '--fail-on-change', '--json'], { cwd: dir });
    expect(changed.code, changed.stderr).toBe(1);
    const json = JSON.parse(changed.stdout) as ReplayReport;
    expect(json.replayed).toBe(Array.from({ length: 100 }, (_, k) => 1000 + k).filter((i) => i % 3 === 1).length);
    expect(json.changes.every((c) => c.agent === 'bot-b' && c.time >= since && c.time < until)).toBe(true);
    const same = await runCliInProcess(['policy', 'replay', '--policy', 'same.yaml', '--data-dir', dataDir, '--fail-on-change'], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain(`0 would change, ${COUNT} unchanged, 0 cannot tell`);
    expect(same.stdout).toContain('had values masked before they were stored');
    const text = await runCliInProcess(['policy', 'replay', '--policy', 'candidate.yaml', '--data-dir', dataDir], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/allow → require_approval: \d+/);
    expect(text.stdout).toContain('Cannot tell (depends on masked values):');
    const bad = await runCliInProcess(['policy', 'replay', '--policy', 'candidate.yaml', '--data-dir', dataDir, '--since', 'last week'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "last week" is neither a date, a time nor a duration');
  }, 60_000);
});

afterAll(() => undefined);

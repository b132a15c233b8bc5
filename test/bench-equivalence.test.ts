import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ruleToCedar } from '../bench/cedar-translate.js';
import { compareWithCedar, preparseCedar } from '../bench/policy-compare.js';
import { largePolicy, sampleActions, smallPolicy } from '../bench/policy-fixtures.js';
import { Policy, type Action, type Decision } from '../src/sdk/index.js';

type Answer = { effect: string; rules: string[] };

const answer = (d: Decision): Answer => ({ effect: d.effect, rules: d.reasons.flatMap((r) => (r.rule ? [r.rule] : [])).sort() });

/** allow/deny combining over every rule, with no index, no gate and no cache: what the engine must agree with. */
function fullScan(policy: Policy, action: Action): Answer {
  const matched = policy.compiled.rules.filter((r) => !r.condition || r.condition.test(action));
  const denies = matched.filter((r) => r.effect === 'deny');
  if (denies.length > 0) return { effect: 'deny', rules: denies.map((r) => r.id).sort() };
  const allows = matched.filter((r) => r.effect === 'allow');
  if (allows.length > 0) return { effect: 'allow', rules: allows.map((r) => r.id).sort() };
  return { effect: policy.compiled.defaultEffect, rules: [] };
}

describe('the bench policies', () => {
  const cases = [
    { label: '10 rules', document: smallPolicy(), requests: 600 },
    { label: '1,000 rules', document: largePolicy(1000), requests: 250 },
  ];

  for (const { label, document, requests } of cases) {
    it(`${label}: agentguard and Cedar give the same effect for the same rules`, () => {
      const policy = Policy.parse(document);
      preparseCedar(`test-${document.name}`, document);
      const actions = sampleActions(document, requests);
      const { mix, mismatches } = compareWithCedar(policy, `test-${document.name}`, actions);
      expect(mismatches).toEqual([]);
      // A realistic mix: every outcome is well represented, not one repeated answer.
      for (const count of Object.values(mix)) expect(count).toBeGreaterThan(requests * 0.05);
    });
  }

  it('1,000 rules: the indexed engine agrees with a full scan of every rule', () => {
    const document = largePolicy(1000);
    const policy = Policy.parse(document);
    const actions = [...sampleActions(document, 2048), ...sampleActions(document, 512, 99).map((a) => ({ ...a, kind: 'llm' }))];
    for (const action of actions) expect(answer(policy.evaluate(action)), JSON.stringify(action)).toEqual(fullScan(policy, action));
  });

  it('generated policies are realistic: many names, globs, regexes and number comparisons', () => {
    const text = JSON.stringify(largePolicy(1000));
    expect(new Set(largePolicy(1000).rules.flatMap((r) => (typeof r.when?.name === 'string' ? [r.when.name] : []))).size).toBeGreaterThan(300);
    for (const op of ['"glob"', '"regex"', '"gt"', '"lte"', '"in"', '"startsWith"', '"exists"']) expect(text).toContain(op);
  });

  it('the Cedar translation refuses what it cannot express exactly', () => {
    expect(() => ruleToCedar({ id: 'r', effect: 'deny', when: { 'input.sql': { regex: '^drop\\s' } } })).toThrow(/no exact like translation/);
    expect(() => ruleToCedar({ id: 'r', effect: 'deny', when: { 'input.sql': { regex: '^drop', flags: 'i' } } })).toThrow(/flags/);
    expect(() => ruleToCedar({ id: 'r', effect: 'deny', when: { 'input.tags': { contains: 'x' } } })).toThrow(/no exact Cedar translation/);
    expect(() => ruleToCedar({ id: 'r', effect: 'transform', when: {} })).toThrow(/no "transform" effect/);
    expect(ruleToCedar({ id: 'r', effect: 'deny', when: { name: 'db.query', 'input.path': { regex: '\\.(pem|key)$' } } })).toBe(
      'forbid(principal, action, resource == Tool::"db.query")\nwhen { (context.input has path && (context.input.path like "*.pem" || context.input.path like "*.key")) };',
    );
  });
});

describe('the candidate index drops only rules that cannot match', () => {
  const names = ['db.query', 'db.admin.drop', 'kb.search', 'email.send', 'x'];
  const kinds = ['tool', 'http', 'llm'];
  const nameSpec = fc.oneof(
    fc.constantFrom(...names),
    fc.record({ glob: fc.constantFrom('db.*', '*.send', 'kb.*', '{kb,db}.*', '*') }),
    fc.record({ regex: fc.constantFrom('^db\\.', 'send$', 'a') }),
    fc.record({ in: fc.subarray(names, { minLength: 1 }) }),
    fc.record({ startsWith: fc.constantFrom('db', 'e') }),
    fc.record({ not: fc.record({ glob: fc.constant('db.*') }) }),
  );
  const kindSpec = fc.oneof(fc.constantFrom(...kinds), fc.record({ in: fc.subarray(kinds, { minLength: 1 }) }), fc.record({ glob: fc.constant('t*') }));
  const otherKeys = fc.record(
    { 'input.amount': fc.record({ gt: fc.integer({ min: 0, max: 100 }) }), 'context.env': fc.constantFrom('prod', 'dev') },
    { requiredKeys: [] },
  );
  // Key order matters for the gate (only leading kind/name keys count), so it is part of what is generated.
  const whenArb = fc
    .tuple(fc.option(nameSpec, { nil: undefined }), fc.option(kindSpec, { nil: undefined }), otherKeys, fc.nat(5))
    .map(([name, kind, rest, order]) => {
      const entries: Array<[string, unknown]> = [...Object.entries(rest)];
      if (name !== undefined) entries.splice(order % (entries.length + 1), 0, ['name', name]);
      if (kind !== undefined) entries.splice((order >> 1) % (entries.length + 1), 0, ['kind', kind]);
      return Object.fromEntries(entries);
    });
  const rulesArb = fc.array(fc.record({ effect: fc.constantFrom('allow', 'deny'), when: whenArb }), { maxLength: 10 });
  const actionArb = fc.record({
    kind: fc.constantFrom(...kinds),
    name: fc.constantFrom(...names, 'db.other'),
    input: fc.record({ amount: fc.integer({ min: -5, max: 120 }) }, { requiredKeys: [] }),
    context: fc.record({ env: fc.constantFrom('prod', 'dev') }, { requiredKeys: [] }),
  });

  it('any rules, any action: the same answer as a full scan, asked twice (cold and cached)', () => {
    fc.assert(
      fc.property(rulesArb, fc.array(actionArb, { minLength: 1, maxLength: 4 }), (rules, actions) => {
        const policy = Policy.parse({ version: 1, name: 'p', rules: rules.map((r, i) => ({ id: `r${i}`, ...r })) });
        for (const action of [...actions, ...actions]) expect(answer(policy.evaluate(action))).toEqual(fullScan(policy, action));
      }),
      { numRuns: 400 },
    );
  });

  // An input field whose getter throws makes any rule that reads it fail to evaluate.
  const exploding = (name: string): Action => ({
    kind: 'tool',
    name,
    input: Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    }),
  });

  it('a deny whose failing key comes before its name key still fails closed', () => {
    const policy = Policy.parse({ version: 1, name: 'p', default: 'allow', rules: [{ id: 'd', effect: 'deny', when: { 'input.x': 1, name: { glob: 'zzz.*' } } }] });
    const decision = policy.evaluate(exploding('kb.search'));
    expect(decision.effect).toBe('deny');
    expect(decision.reasons[0]).toMatchObject({ rule: 'd', code: 'rule_error' });
  });

  it('a deny whose name key comes first and rejects the name is never evaluated, as before', () => {
    const policy = Policy.parse({ version: 1, name: 'p', default: 'allow', rules: [{ id: 'd', effect: 'deny', when: { name: { glob: 'zzz.*' }, 'input.x': 1 } }] });
    expect(policy.evaluate(exploding('kb.search')).effect).toBe('allow');
    expect(policy.evaluate(exploding('zzz.a')).reasons[0]).toMatchObject({ rule: 'd', code: 'rule_error' });
  });

  it('explain still evaluates rules that only the gate skips', () => {
    const policy = Policy.parse({ version: 1, name: 'p', rules: [{ id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } }] });
    expect(policy.explain({ kind: 'tool', name: 'db.query' })).toEqual([
      { id: 'kb', effect: 'allow', candidate: true, matched: false, conditions: { label: 'name glob "kb.*"', result: false } },
    ]);
  });
});

describe('decision ids', () => {
  it('are dec_ and a version 4 UUID without dashes, and do not repeat across pool refills', () => {
    const policy = Policy.parse({ version: 1, name: 'p', rules: [] });
    const ids = Array.from({ length: 2000 }, () => policy.evaluate({ kind: 'tool', name: 'x' }).id);
    for (const id of ids) expect(id).toMatch(/^dec_[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

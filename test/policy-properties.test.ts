import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Policy, type Action } from '../src/sdk/index.js';

const names = ['db.query', 'kb.search', 'email.send', 'shell.exec'];
const kinds = ['tool', 'llm', 'http'];

const conditionArb = fc.oneof(
  fc.record({ name: fc.constantFrom(...names) }),
  fc.record({ kind: fc.constantFrom(...kinds) }),
  fc.record({ name: fc.record({ glob: fc.constantFrom('db.*', 'kb.*', '*.send', '*') }) }),
  fc.record({ 'input.amount': fc.record({ gt: fc.integer({ min: 0, max: 100 }) }) }),
  fc.record({ 'input.amount': fc.record({ lte: fc.integer({ min: 0, max: 100 }) }) }),
  fc.record({ 'input.text': fc.record({ contains: fc.constantFrom('a', 'drop', 'x') }) }),
  fc.record({ 'input.flag': fc.boolean() }),
  fc.record({ 'input.missing': fc.record({ exists: fc.boolean() }) }),
  fc.record({ not: fc.record({ name: fc.constantFrom(...names) }) }),
);

// Transform steps of different rules write different fields, so the order they apply in cannot matter.
// (Rules whose transforms write overlapping fields apply in file order, by design; the lint warns about them.)
const stepArb = (i: number) =>
  fc.oneof(
    fc.record({ set: fc.constantFrom(`input.t${i}`, `input.t${i}.deep`, `context.t${i}`), value: fc.oneof(fc.boolean(), fc.integer(), fc.constant('s'), fc.constant({ nested: [1] })) }),
    fc.record({ remove: fc.constantFrom(`input.t${i}`, `input.t${i}.deep`) }),
    fc.record({ clamp: fc.constant(`input.t${i}`), max: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ replace: fc.constant(`input.t${i}`), pattern: fc.constantFrom('a', 'x+'), with: fc.constant('*') }),
  );

const ruleArb = (id: number) =>
  fc.oneof(
    fc.record({ id: fc.constant(`r${id}`), effect: fc.constantFrom('allow', 'deny', 'require_approval'), when: conditionArb }),
    fc.record({ id: fc.constant(`r${id}`), effect: fc.constant('transform'), when: conditionArb, transform: fc.array(stepArb(id), { minLength: 1, maxLength: 3 }) }),
  );

const rulesArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(i))));

const actionArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom(...kinds),
  name: fc.constantFrom(...names, 'other'),
  input: fc.record(
    {
      amount: fc.oneof(fc.integer({ min: -10, max: 200 }), fc.constant('50')),
      text: fc.constantFrom('a', 'drop table', 'xx', ''),
      flag: fc.boolean(),
      t0: fc.oneof(fc.integer(), fc.constant('xa'), fc.constant({ deep: 1 })),
      t1: fc.oneof(fc.integer(), fc.constant('aaa')),
    },
    { requiredKeys: [] },
  ),
});

const make = (rules: unknown[], extra: Record<string, unknown> = {}) => Policy.parse({ version: 1, name: 'prop', rules, ...extra });
const ruleSet = (d: { reasons: Array<{ rule?: string }> }) => new Set(d.reasons.map((r) => r.rule));

describe('policy properties', () => {
  it('rule order never changes the effect or the rules behind it', () => {
    fc.assert(
      fc.property(rulesArb, actionArb, fc.infiniteStream(fc.nat()), (rules, action, seeds) => {
        const shuffled = [...rules];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = seeds.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const a = make(rules).evaluate(action);
        const b = make(shuffled).evaluate(action);
        expect(b.effect).toBe(a.effect);
        expect(ruleSet(b)).toEqual(ruleSet(a));
      }),
      { numRuns: 300 },
    );
  });

  it('a matching deny always yields deny', () => {
    fc.assert(
      fc.property(rulesArb, actionArb, (rules, action) => {
        const withDeny = [...rules, { id: 'the-deny', effect: 'deny', when: { kind: action.kind, name: action.name } }];
        const d = make(withDeny, { default: 'allow' }).evaluate(action);
        expect(d.effect).toBe('deny');
        expect(d.reasons.some((r) => r.rule === 'the-deny')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('transforms never mutate their input and are deterministic', () => {
    fc.assert(
      fc.property(rulesArb, actionArb, (rules, action) => {
        const before = structuredClone(action);
        const p = make(rules);
        const a = p.evaluate(action);
        const b = p.evaluate(action);
        expect(action).toEqual(before);
        expect(b.effect).toBe(a.effect);
        expect(b.action).toEqual(a.action);
        if (a.effect === 'allow' || a.effect === 'deny') expect(a.action).toBe(action);
      }),
      { numRuns: 300 },
    );
  });

  it('an action no rule matches gets the default, deny when omitted', () => {
    fc.assert(
      fc.property(rulesArb, fc.option(fc.constantFrom('allow', 'deny'), { nil: undefined }), (rules, def) => {
        const action: Action = { kind: 'unmatched-kind', name: 'unmatched.name' };
        // Only rules that name a kind or a tool can be skipped; keep those.
        const scoped = rules.filter((r) => 'name' in r.when && typeof r.when.name === 'string');
        const d = make(scoped, def ? { default: def } : {}).evaluate(action);
        expect(d.effect).toBe(def ?? 'deny');
        expect(d.reasons).toEqual([{ effect: def ?? 'deny', code: 'default', message: `No rule matched; the policy default is ${def ?? 'deny'}` }]);
      }),
      { numRuns: 200 },
    );
  });

  it('explain agrees with evaluate about which rules matched', () => {
    fc.assert(
      fc.property(rulesArb, actionArb, (rules, action) => {
        const p = make(rules);
        const d = p.evaluate(action);
        const matched = new Set(p.explain(action).filter((t) => t.matched === true).map((t) => t.id));
        for (const r of d.reasons) if (r.rule) expect(matched.has(r.rule)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

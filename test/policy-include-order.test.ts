import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Policy, type Action } from '../src/sdk/index.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const names = ['db.query', 'kb.search', 'email.send'];

const conditionArb = fc.oneof(
  fc.record({ name: fc.constantFrom(...names) }),
  fc.record({ name: fc.record({ glob: fc.constantFrom('db.*', '*.send', '*') }) }),
  fc.record({ 'input.amount': fc.record({ gt: fc.integer({ min: 0, max: 100 }) }) }),
  fc.record({ 'input.flag': fc.boolean() }),
  fc.record({ not: fc.record({ name: fc.constantFrom(...names) }) }),
);

// Transform steps of different rules write different fields, so the order they apply in cannot matter.
const ruleArb = (id: number) =>
  fc.oneof(
    fc.record({ id: fc.constant(`r${id}`), effect: fc.constantFrom('allow', 'deny', 'require_approval'), when: conditionArb }),
    fc.record({ id: fc.constant(`r${id}`), effect: fc.constant('transform'), when: conditionArb, transform: fc.constant([{ set: `input.t${id}`, value: true }]) }),
  );

/** Rules spread over three files: the policy itself and two files it includes. */
const layoutArb = fc
  .integer({ min: 0, max: 9 })
  .chain((n) => fc.tuple(fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(i))), fc.array(fc.constantFrom(0, 1, 2), { minLength: n, maxLength: n })))
  .map(([rules, files]) => [0, 1, 2].map((f) => rules.filter((_, i) => files[i] === f)));

const actionArb: fc.Arbitrary<Action> = fc.record({
  kind: fc.constant('tool'),
  name: fc.constantFrom(...names, 'other'),
  input: fc.record({ amount: fc.integer({ min: -5, max: 105 }), flag: fc.boolean() }),
});

const dir = makeTempDir('agentguard-include-order-');
let round = 0;

/** Writes the layout with the includes and every file's rules in the given orders, and loads it. */
function load(files: unknown[][], includeOrder: number[], shuffle: (rules: unknown[]) => unknown[], defaultEffect: 'allow' | 'deny'): Policy {
  const at = join(dir, String(round++));
  const write = (name: string, doc: Record<string, unknown>) => writeFileSync(`${at}-${name}.yaml`, stringify(doc));
  write('a', { version: 1, name: 'a', rules: shuffle(files[1]) });
  write('b', { version: 1, name: 'b', rules: shuffle(files[2]) });
  const includes = [`./${round - 1}-a.yaml`, `./${round - 1}-b.yaml`];
  // The including policy is given as parsed data named as a file in the folder: its includes resolve from there.
  return Policy.fromSource({ filename: `${at}-policy.yaml`, data: { version: 1, name: 'p', default: defaultEffect, include: includeOrder.map((i) => includes[i]), rules: shuffle(files[0]) } });
}

function outcome(policy: Policy, action: Action) {
  const d = policy.evaluate(action);
  return { effect: d.effect, rules: d.reasons.map((r) => r.rule ?? '(default)').sort(), action: d.action };
}

describe('composition keeps combining independent of order', () => {
  it('the decision does not depend on the order of includes or the order of rules in any file', () => {
    fc.assert(
      fc.property(layoutArb, fc.array(actionArb, { minLength: 1, maxLength: 5 }), fc.constantFrom<'allow' | 'deny'>('allow', 'deny'), fc.boolean(), (files, actions, defaultEffect, reverse) => {
        const forward = load(files, [0, 1], (r) => r, defaultEffect);
        const backward = load(files, [1, 0], (r) => (reverse ? [...r].reverse() : [...r.slice(1), ...r.slice(0, 1)]), defaultEffect);
        for (const action of actions) expect(outcome(backward, action)).toEqual(outcome(forward, action));
      }),
      { numRuns: 60 },
    );
  });

  it('an included rule decides with its prefixed id, as the same rule written in the policy decides with its own', () => {
    fc.assert(
      fc.property(layoutArb, actionArb, (files, action) => {
        const composed = load(files, [0, 1], (r) => r, 'deny');
        const flat = Policy.parse({ version: 1, name: 'p', rules: files.flat() as never[] });
        const a = outcome(composed, action);
        const b = outcome(flat, action);
        expect(a.effect).toBe(b.effect);
        expect(a.rules.map((id) => id.replace(/^[ab]\//, '')).sort()).toEqual(b.rules);
      }),
      { numRuns: 60 },
    );
  });
});

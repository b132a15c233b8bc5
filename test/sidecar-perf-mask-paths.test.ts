import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../src/core/action.js';
import { maskSecrets } from '../src/core/audit/mask.js';
import { decisionEntry } from '../src/core/pipeline.js';
import { newDecisionId } from '../src/core/policy/evaluate.js';

/** The same data with every object made by a class and every array an Array subclass: the masker's general path. */
class Box {}
class List extends Array<unknown> {}
function boxed(value: unknown): unknown {
  if (Array.isArray(value)) {
    const list = new List();
    for (const item of value) list.push(boxed(item));
    return list;
  }
  if (value !== null && typeof value === 'object') {
    const box = new Box() as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) Object.defineProperty(box, k, { value: boxed(v), enumerable: true, writable: true, configurable: true });
    return box;
  }
  return value;
}

const secretish = fc.constantFrom(
  'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd',
  'Bearer abcdefghijklmnopqrstuvwxyz012345',
  'password=hunter2hunter2',
  'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB',
  'postgres://user:s3cret@db.example:5432/app',
);
const key = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('password', 'apiKey', 'authorization', 'token', '__proto__', 'toJSON'));
const json = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 40 }),
    secretish,
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(key, tie('v'), { maxKeys: 5 }),
  ),
})).v;

describe('maskSecrets: parsed JSON (plain objects and arrays) is masked exactly as other objects of the same data', () => {
  it('gives the same result on the fast path as on the general one', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 1, max: 8 }), (value, maxDepth) => {
        expect(maskSecrets(value, { maxDepth })).toEqual(maskSecrets(boxed(value), { maxDepth }));
      }),
      { numRuns: 500 },
    );
  });

  it('masks secrets in arrays and objects of parsed JSON, and keeps holes and non-JSON values as JSON.stringify would', () => {
    const parsed = JSON.parse('{"list":["ok","sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"],"nested":{"password":"hunter2hunter2"}}');
    const masked = maskSecrets(parsed) as { list: string[]; nested: { password: string } };
    expect(masked.list[0]).toBe('ok');
    expect(masked.list[1]).not.toContain('AbCdEfGh');
    expect(masked.nested.password).toBe('[MASKED]');
    // eslint-disable-next-line no-sparse-arrays
    expect(maskSecrets([1, , () => 1, undefined])).toEqual([1, null, null, null]);
  });

  it('a cycle through a plain object or an array is cut, not followed', () => {
    const a: Record<string, unknown> = { name: 'a' };
    const list: unknown[] = [a];
    a.list = list;
    expect(maskSecrets(a)).toEqual({ name: 'a', list: ['[CIRCULAR]'] });
  });
});

describe('decisionEntry: the audit record of a decision masks all of it but the engine-made id', () => {
  it('gives what masking the whole decision gives, for any action and reasons', () => {
    fc.assert(
      fc.property(fc.dictionary(key, json, { maxKeys: 4 }), fc.string({ maxLength: 30 }), secretish, (input, name, secret) => {
        const decision = {
          id: newDecisionId(),
          effect: 'deny',
          action: { kind: 'tool', name: name || 'x', input, context: { note: secret } },
          reasons: [{ rule: 'r', effect: 'deny', message: `saw ${secret}` }],
          findings: [],
          policy: { name: 'p', hash: `sha256:${'ab'.repeat(32)}` },
          elapsedUs: 3,
        } as unknown as Decision;
        const entry = decisionEntry(decision, new Date(0));
        expect(entry.data).toEqual(maskSecrets(decision));
        expect(entry.data.id).toBe(decision.id);
        expect(JSON.stringify(entry.data)).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../src/core/action.js';
import { DecisionCache } from '../src/sidecar/plugins/decision-cache.js';

const decision = (id: string): Decision => ({ id, effect: 'allow', action: { kind: 'tool', name: 'kb.search' }, reasons: [] }) as unknown as Decision;
const add = (cache: DecisionCache, id: string) => cache.add(id, JSON.stringify(decision(id)));
const idOf = (entry: { json: string } | undefined) => (entry ? (JSON.parse(entry.json) as Decision).id : undefined);

describe('DecisionCache (outcome reports look decisions up here)', () => {
  it('keeps the most recently used decisions up to its capacity', () => {
    const cache = new DecisionCache(2);
    add(cache, 'a');
    add(cache, 'b');
    expect(idOf(cache.get('a'))).toBe('a'); // a is now the most recent
    add(cache, 'c');
    expect(cache.get('b')).toBeUndefined();
    expect(idOf(cache.get('a'))).toBe('a');
    expect(idOf(cache.get('c'))).toBe('c');
    expect(cache.size).toBe(2);
  });

  it('returns the same entry, so a recorded outcome is remembered', () => {
    const cache = new DecisionCache(4);
    add(cache, 'a');
    cache.get('a')!.outcomeRecorded = true;
    expect(cache.get('a')?.outcomeRecorded).toBe(true);
  });

  it('behaves like a least-recently-used list for any sequence of adds and lookups', () => {
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ get: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const cache = new DecisionCache(capacity);
        let model: string[] = []; // least recent first
        for (const o of ops) {
          if ('add' in o) {
            const id = `d${o.add}`;
            add(cache, id);
            model = [...model.filter((x) => x !== id), id].slice(-capacity);
          } else {
            const id = `d${o.get}`;
            const found = cache.get(id);
            expect(idOf(found)).toBe(model.includes(id) ? id : undefined);
            if (model.includes(id)) model = [...model.filter((x) => x !== id), id];
          }
          expect(cache.size).toBe(model.length);
        }
      }),
    );
  });
});

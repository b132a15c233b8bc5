import { describe, expect, it } from 'vitest';
import { lintDocument } from '../src/core/policy/lint.js';
import type { PolicyDocument } from '../src/core/policy/types.js';

const doc = (rules: unknown[]): PolicyDocument => ({ version: 1, name: 't', rules }) as PolicyDocument;
const orderWarnings = (rules: unknown[]) => lintDocument(doc(rules)).filter((p) => p.code === 'order-dependent-transforms');

describe('order-dependent transforms', () => {
  it('warns when two transform rules that can both match write the same field', () => {
    const [w, ...rest] = orderWarnings([
      { id: 'cap', effect: 'transform', when: { name: 'db.query' }, transform: [{ clamp: 'input.limit', max: 100 }] },
      { id: 'default-limit', effect: 'transform', when: { 'input.sql': { exists: true } }, transform: [{ set: 'input.limit', value: 10 }] },
    ]);
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ severity: 'warning', path: 'rules[1].transform' });
    expect(w.message).toContain('"cap" and "default-limit"');
    expect(w.message).toContain('input.limit');
  });

  it('counts a field under a kept or removed object as the same field', () => {
    expect(orderWarnings([
      { id: 'a', effect: 'transform', transform: [{ keep: ['q'] }] },
      { id: 'b', effect: 'transform', transform: [{ set: 'input.extra', value: 1 }] },
    ])).toHaveLength(1);
  });

  it('stays quiet for different fields, for rules that cannot match the same action, and for other effects', () => {
    expect(orderWarnings([
      { id: 'a', effect: 'transform', transform: [{ set: 'input.a', value: 1 }] },
      { id: 'b', effect: 'transform', transform: [{ set: 'input.ab', value: 1 }] },
      { id: 'c', effect: 'transform', when: { name: 'x' }, transform: [{ set: 'input.c', value: 1 }] },
      { id: 'd', effect: 'transform', when: { name: 'y' }, transform: [{ set: 'input.c', value: 2 }] },
      { id: 'e', effect: 'allow', when: { name: 'x' } },
      { id: 'f', effect: 'transform', when: { name: 'q', 'input.max': { exists: false } }, transform: [{ set: 'input.max', value: 10 }] },
      { id: 'g', effect: 'transform', when: { name: 'q', 'input.max': { gt: 10 } }, transform: [{ clamp: 'input.max', max: 10 }] },
    ])).toEqual([]);
  });
});

import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { isPlainObject } from '../src/core/plain-object.js';

describe('isPlainObject', () => {
  it('is true for what JSON, YAML and TOML readers and object literals make', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
      expect(isPlainObject(JSON.parse(JSON.stringify(value)))).toBe(true);
    }));
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject(JSON.parse('{"__proto__": {"a": 1}}'))).toBe(true);
    expect(isPlainObject(parseYaml('a: 1'))).toBe(true);
    expect(isPlainObject(parseToml('[t]\na = 1').t)).toBe(true);
  });

  it('is false for null, primitives, arrays, dates, maps and class instances', () => {
    class Options {
      a = 1;
    }
    for (const value of [null, undefined, 0, 'x', true, [], [1], new Date(0), new Map(), new Options(), parseToml('d = 1979-05-27').d, () => 1]) {
      expect(isPlainObject(value), String(value)).toBe(false);
    }
  });
});

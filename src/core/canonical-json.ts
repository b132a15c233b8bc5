import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

// RFC 8785 text is JSON.stringify's with every object's keys sorted by UTF-16 code units, which is what this writer
// does (deterministic), about 1.7 times faster than the `canonicalize` package it replaced on an audit record (that
// package stays as the test oracle: test/canonical-json.test.ts checks both agree on any JSON value). `strict` makes it
// throw on what JSON cannot carry (NaN, infinities, BigInt, functions, symbols, cycles) instead of writing something.
const serialize = configure({ strict: true, deterministic: true });

/** RFC 8785 (JSON Canonicalization Scheme) text of a JSON value. Throws on a value JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  const out = serialize(value);
  if (out === undefined) throw new TypeError('value has no JSON representation');
  return out;
}

/** `sha256:<hex>` of the canonical JSON of a value. */
export function canonicalHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

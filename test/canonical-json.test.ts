import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/core/canonical-json.js';

// The reference implementation of RFC 8785 (a dev dependency): what canonicalJson must equal on every JSON value.
const reference = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

// Keys and strings that exercise the sort order (UTF-16 code units, not code points) and the escapes.
const awkwardString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', '\u0000', '\u001f', '"', '\\', '/', '\u007f', '\u2028', '\u2029', '\ud800', '\udfff', '\ud83d\ude00', '\ufb33', '\u20ac', '__proto__', 'constructor', 'toJSON', '1', '10', '9'),
);
const awkwardNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.MIN_SAFE_INTEGER, 333333333.3333333, 1e23, 4.35, 0.002),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    awkwardNumber,
    awkwardString,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(awkwardString, tie('value'), { maxKeys: 8 }),
  ),
})).value;

describe('canonicalJson', () => {
  it('writes every JSON value exactly as the RFC 8785 reference does', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes the values JSON.parse makes from any JSON text exactly as the reference does', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const value: unknown = JSON.parse(text);
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('follows the RFC 8785 examples: key order by UTF-16 code units, ECMAScript numbers, minimal escapes', () => {
    // RFC 8785 section 3.2.3 sorts these keys as \r, 1, \u0080, \u00f6, \u20ac, \ud83d\ude00, \ufb33.
    const keys = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    expect(canonicalJson(keys)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(canonicalJson({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/', literals: [null, true, false] })).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('leaves out undefined object members and writes undefined array items as null, like the reference', () => {
    const value = { a: undefined, b: [undefined, 1], c: { toJSON: () => ({ z: 1, y: 2 }) } };
    expect(canonicalJson(value)).toBe('{"b":[null,1],"c":{"y":2,"z":1}}');
    expect(canonicalJson(value)).toBe(reference(value));
  });

  it('refuses what JSON cannot carry instead of writing something else', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, { n: Number.NEGATIVE_INFINITY }, [Number.NaN], 10n, { big: 1n }, cycle, () => 1, { f: () => 1 }, Symbol('s'), undefined]) {
      expect(() => canonicalJson(bad)).toThrow();
    }
  });
});

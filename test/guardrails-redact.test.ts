import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AgentGuardError } from '../src/core/errors.js';
import { decryptTokens, mergeSpans, redact, RedactionVault, type RedactOptions, type RedactSpan } from '../src/core/guardrails/redact/index.js';

const KEY = randomBytes(32);
const HASH_KEY = 'a-test-hmac-key-of-32-characters';
const text = 'Mail ada@example.com or call 555-0100; ada@example.com again.';
const email1: RedactSpan = { start: 5, end: 20, type: 'EMAIL_ADDRESS' };
const phone: RedactSpan = { start: 29, end: 37, type: 'PHONE_NUMBER' };
const email2: RedactSpan = { start: 39, end: 54, type: 'EMAIL_ADDRESS' };
const findings = [email1, phone, email2];

function thrown(fn: () => unknown): AgentGuardError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentGuardError);
    return e as AgentGuardError;
  }
  throw new Error('expected an AgentGuardError');
}

describe('redact: modes', () => {
  it('replace', () => {
    const r = redact(text, findings, { mode: 'replace' });
    expect(r.text).toBe('Mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>; <EMAIL_ADDRESS> again.');
    expect(r.replacements).toEqual([
      { start: 5, end: 20, type: 'EMAIL_ADDRESS', replacement: '<EMAIL_ADDRESS>' },
      { start: 29, end: 37, type: 'PHONE_NUMBER', replacement: '<PHONE_NUMBER>' },
      { start: 39, end: 54, type: 'EMAIL_ADDRESS', replacement: '<EMAIL_ADDRESS>' },
    ]);
  });

  it('mask keeps at most the last 4 characters and never more than a third', () => {
    expect(redact(text, findings, { mode: 'mask' }).text).toBe('Mail ****.com or call ****00; ****.com again.');
    expect(redact('pin 12345', [{ start: 4, end: 9, type: 'PIN' }], { mode: 'mask' }).text).toBe('pin ****5');
    expect(redact('id ab', [{ start: 3, end: 5, type: 'X' }], { mode: 'mask' }).text).toBe('id ****');
    // A short finding nested in a longer one must not be revealed by the merged region's tail.
    expect(redact('abcdefghijkl', [{ start: 0, end: 12, type: 'A' }, { start: 8, end: 12, type: 'B' }], { mode: 'mask' }).text).toBe('****');
  });

  it('hash: keyed, deterministic, same value same token, different key different token', () => {
    const r = redact(text, findings, { mode: 'hash', key: HASH_KEY });
    const tokens = r.replacements.map((x) => x.replacement);
    expect(tokens[0]).toMatch(/^<EMAIL_ADDRESS:[0-9a-f]{12}>$/);
    expect(tokens[0]).toBe(tokens[2]);
    expect(tokens[1]).not.toBe(tokens[0]);
    expect(redact(text, findings, { mode: 'hash', key: HASH_KEY }).text).toBe(r.text);
    expect(redact(text, findings, { mode: 'hash', key: `${HASH_KEY}!` }).text).not.toBe(r.text);
    expect(thrown(() => redact(text, findings, { mode: 'hash', key: 'short' })).code).toBe('REDACT_KEY_INVALID');
  });

  it('encrypt: random IV per token, decryptTokens restores exactly, tampering and wrong keys fail', () => {
    const r = redact(text, findings, { mode: 'encrypt', key: KEY });
    expect(r.text).toMatch(/^Mail <enc:EMAIL_ADDRESS:[A-Za-z0-9_-]+> or call <enc:PHONE_NUMBER:[A-Za-z0-9_-]+>; <enc:EMAIL_ADDRESS:[A-Za-z0-9_-]+> again\.$/);
    expect(r.replacements[0].replacement).not.toBe(r.replacements[2].replacement);
    expect(decryptTokens(r.text, KEY)).toBe(text);

    const token = r.replacements[1].replacement;
    const body = token.slice('<enc:PHONE_NUMBER:'.length, -1);
    const flipped = body.slice(0, 20) + (body[20] === 'A' ? 'B' : 'A') + body.slice(21);
    for (const bad of [r.text.replace(body, flipped), r.text.replace(body, body.slice(0, -4)), r.text.replace('<enc:PHONE_NUMBER:', '<enc:EMAIL_ADDRESS:')]) {
      const error = thrown(() => decryptTokens(bad, KEY));
      expect(error.code).toBe('REDACT_TOKEN_INVALID');
      expect(error.message).not.toContain('555-0100');
    }
    expect(thrown(() => decryptTokens(r.text, randomBytes(32))).code).toBe('REDACT_TOKEN_INVALID');
    expect(thrown(() => redact(text, findings, { mode: 'encrypt', key: randomBytes(16) })).code).toBe('REDACT_KEY_INVALID');
    expect(thrown(() => redact(`${r.text} x`, [{ start: 0, end: 4, type: 'X' }], { mode: 'encrypt', key: KEY })).code).toBe('REDACT_TOKEN_COLLISION');
  });

  it('vault: numbered placeholders, same value same placeholder, restore puts originals back', () => {
    const vault = new RedactionVault();
    const r = redact(text, findings, { mode: 'vault', vault });
    expect(r.text).toBe('Mail <EMAIL_ADDRESS_1> or call <PHONE_NUMBER_1>; <EMAIL_ADDRESS_1> again.');
    expect(vault.size).toBe(2);
    expect(vault.restore('Sure, I wrote to <EMAIL_ADDRESS_1> (not <EMAIL_ADDRESS_9>).')).toBe('Sure, I wrote to ada@example.com (not <EMAIL_ADDRESS_9>).');
    const next = redact('bob@example.com', [{ start: 0, end: 15, type: 'EMAIL_ADDRESS' }], { mode: 'vault', vault });
    expect(next.text).toBe('<EMAIL_ADDRESS_2>');
  });

  it('vault placeholders never collide with text already in the input', () => {
    const input = 'literal <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2> then ada@example.com';
    const vault = new RedactionVault();
    const r = redact(input, [{ start: 53, end: 68, type: 'EMAIL_ADDRESS' }], { mode: 'vault', vault });
    expect(r.text).toBe('literal <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2> then <EMAIL_ADDRESS_3>');
    expect(vault.restore(r.text)).toBe(input);
  });

  it('merges overlapping findings from several guardrails; the best-scoring type names the region', () => {
    const s = 'key sk-abc123def456 end';
    const r = redact(s, [{ start: 4, end: 19, type: 'OPENAI_API_KEY', score: 1 }, { start: 7, end: 19, type: 'GENERIC_SECRET', score: 0.7 }, { start: 19, end: 19, type: 'EMPTY' }], { mode: 'replace' });
    expect(r.text).toBe('key <OPENAI_API_KEY> end');
    expect(mergeSpans([{ start: 0, end: 2, type: 'A' }, { start: 2, end: 4, type: 'B' }], 4)).toHaveLength(2);
    expect(mergeSpans([{ start: 0, end: 3, type: 'A' }, { start: 2, end: 4, type: 'B', score: 2 }], 4)).toEqual([{ start: 0, end: 4, type: 'B', parts: 2 }]);
  });

  it('rejects spans outside the text and unknown modes', () => {
    expect(thrown(() => redact('abc', [{ start: 1, end: 9, type: 'X' }], { mode: 'replace' })).code).toBe('REDACT_SPAN_INVALID');
    expect(thrown(() => redact('abc', [{ start: 2, end: 1, type: 'X' }], { mode: 'replace' })).code).toBe('REDACT_SPAN_INVALID');
    expect(thrown(() => redact('abc', [{ start: 0.5, end: 1, type: 'X' }], { mode: 'replace' })).code).toBe('REDACT_SPAN_INVALID');
    expect(thrown(() => redact('abc', [], { mode: 'nope' } as unknown as RedactOptions)).code).toBe('REDACT_OPTIONS_INVALID');
    expect(thrown(() => redact('abc', [], { mode: 'vault', vault: {} } as unknown as RedactOptions)).code).toBe('REDACT_OPTIONS_INVALID');
  });
});

// ---- properties -----------------------------------------------------------------------------------------------

/** Any text (including lone surrogates) with any in-bounds findings, overlapping or not. */
const textWithFindings = fc.string({ unit: 'binary', maxLength: 80 }).chain((t) =>
  fc.tuple(
    fc.constant(t),
    fc.array(
      fc.tuple(fc.nat({ max: t.length }), fc.nat({ max: t.length }), fc.constantFrom('EMAIL_ADDRESS', 'secret', 'API-KEY', '9lives'), fc.double({ min: 0, max: 1, noNaN: true })).map(([a, b, type, score]) => ({ start: Math.min(a, b), end: Math.max(a, b), type, score })),
      { maxLength: 6 },
    ),
  ),
);

/**
 * Filler and values from disjoint alphabets (ASCII vs Greek), values of 6+ characters: the output can then only
 * contain a value if redaction leaked it.
 */
const distinctValues = fc
  .array(fc.tuple(fc.string({ unit: fc.constantFrom(...'abc xyz.,\n<>_'), maxLength: 12 }), fc.string({ unit: fc.constantFrom(...'αβγδεζηθικλμνξοπρστυφχψω'), minLength: 6, maxLength: 20 })), { minLength: 1, maxLength: 5 })
  .map((pairs) => {
    let t = '';
    const spans: RedactSpan[] = [];
    for (const [filler, value] of pairs) {
      t += filler;
      spans.push({ start: t.length, end: t.length + value.length, type: 'SECRET' });
      t += value;
      t += ' ';
    }
    return { text: t, spans };
  });

const modes = (): RedactOptions[] => [
  { mode: 'replace' },
  { mode: 'mask' },
  { mode: 'hash', key: HASH_KEY },
  { mode: 'encrypt', key: KEY },
  { mode: 'vault', vault: new RedactionVault() },
];

describe('redact: properties', () => {
  it('the output contains none of the redacted values, in every mode', () => {
    fc.assert(
      fc.property(distinctValues, ({ text: t, spans }) => {
        for (const options of modes()) {
          const out = redact(t, spans, options).text;
          for (const s of spans) expect(out, options.mode).not.toContain(t.slice(s.start, s.end));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('never mutates its inputs; replacements are ordered, non-overlapping and cover every finding', () => {
    fc.assert(
      fc.property(textWithFindings, ([t, spans]) => {
        const frozen = spans.map((s) => Object.freeze({ ...s }));
        const copy = structuredClone(frozen);
        for (const options of modes()) {
          const r = redact(t, Object.freeze([...frozen]), options);
          expect(frozen).toEqual(copy);
          for (let i = 1; i < r.replacements.length; i++) expect(r.replacements[i].start).toBeGreaterThanOrEqual(r.replacements[i - 1].end);
          for (const s of spans.filter((x) => x.end > x.start)) expect(r.replacements.some((x) => x.start <= s.start && s.end <= x.end)).toBe(true);
          // Unredacted text is copied unchanged, in order.
          let rebuilt = '';
          let cursor = 0;
          for (const x of r.replacements) {
            rebuilt += t.slice(cursor, x.start) + x.replacement;
            cursor = x.end;
          }
          expect(rebuilt + t.slice(cursor)).toBe(r.text);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('vault.restore(redact(text)) === text for any text and findings', () => {
    fc.assert(
      fc.property(textWithFindings, fc.array(fc.constantFrom('<EMAIL_ADDRESS_1>', '<SECRET_1>', '<SECRET_2>', '<API_KEY_1>'), { maxLength: 3 }), ([t, spans], literals) => {
        // Texts that already contain placeholder-shaped strings are the interesting case.
        const prefix = literals.join(' ');
        const shifted = spans.map((s) => ({ ...s, start: s.start + prefix.length, end: s.end + prefix.length }));
        const input = prefix + t;
        const vault = new RedactionVault();
        expect(vault.restore(redact(input, shifted, { mode: 'vault', vault }).text)).toBe(input);
      }),
      { numRuns: 200 },
    );
  });

  it('decryptTokens(redact(text, encrypt)) === text for any text and findings', () => {
    fc.assert(
      fc.property(textWithFindings, ([t, spans]) => {
        expect(decryptTokens(redact(t, spans, { mode: 'encrypt', key: KEY }).text, KEY)).toBe(t);
      }),
      { numRuns: 200 },
    );
  });
});

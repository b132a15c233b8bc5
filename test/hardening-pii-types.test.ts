import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Detections } from '../src/core/guardrails/detections.js';
import { piiGuardrail } from '../src/core/guardrails/pii/index.js';
import { resolveOverlaps } from '../src/core/guardrails/pii/resolve.js';
import { secretsGuardrail } from '../src/core/guardrails/secrets/index.js';
import type { DetectOptions, Finding, Guardrail } from '../src/core/guardrails/types.js';
import { GuardrailPool } from '../src/core/guardrails/workers/pool.js';
import { evaluateAction } from '../src/core/pipeline.js';
import { Policy, type Action } from '../src/sdk/index.js';

// A rule that asks for some types must see every finding of those types that the guardrail reports when those types
// are the only ones asked, even where an overlapping finding of another type wins the unrestricted call.

const pii = piiGuardrail.create({});
const SSN_AS_PHONE = 'Your number is 536-22-8726';

function policy(rules: unknown[], options = {}): Policy {
  return Policy.parse({ version: 1, name: 'types', default: 'allow', rules }, options);
}
const send = (body: string): Action => ({ kind: 'tool', name: 'email.send', input: { body } });
const detectRule = (guardrail: string, types: string[]) => ({ id: 'asked', effect: 'deny', when: { detect: { guardrail, in: 'input.body', types } } });
const redactRule = (guardrail: string, ...steps: Array<string[] | undefined>) => ({
  id: 'redact',
  effect: 'transform',
  when: { name: 'email.send' },
  transform: steps.map((types) => ({ redact: 'input.body', guardrail, ...(types ? { types } : {}) })),
});
const redacted = (p: Policy, body: string) => (p.evaluate(send(body)).action!.input as { body: string }).body;
const spans = (findings: readonly Finding[]) => findings.map((f) => `${f.type}@${f.start}-${f.end}`).sort();

describe('the unrestricted call is unchanged', () => {
  it('an SSN without context reads as a phone number (one finding: overlaps are resolved)', () => {
    expect(spans(pii.detect(SSN_AS_PHONE) as Finding[])).toEqual(['PHONE_NUMBER@15-26']);
    expect(spans(pii.detect(SSN_AS_PHONE, { types: ['US_SSN'] }) as Finding[])).toEqual(['US_SSN@15-26']);
  });

  it('a detect without types still reports only the winner', () => {
    const d = policy([{ id: 'any', effect: 'deny', when: { detect: { guardrail: 'pii', in: 'input.body' } } }]).evaluate(send(SSN_AS_PHONE));
    expect(d.effect).toBe('deny');
    expect(d.findings.map((f) => f.type)).toEqual(['PHONE_NUMBER']);
  });
});

describe('detect with types', () => {
  const cases: Array<[string, string, string, number, number]> = [
    ['an SSN that also reads as a phone number', 'US_SSN', SSN_AS_PHONE, 15, 26],
    ['an SSN in a URL path', 'US_SSN', 'go https://example.com/536-22-8726 now', 23, 34],
    ['an SSN as the local part of an e-mail address', 'US_SSN', 'mail 536-22-8726@example.com', 5, 16],
    ['a card number in an e-mail address', 'CREDIT_CARD', 'mail 4111111111111111@example.com', 5, 21],
    ['an IBAN in an e-mail address', 'IBAN_CODE', 'mail DE89370400440532013000@example.com', 5, 27],
    ['a phone number in a URL query', 'PHONE_NUMBER', 'https://example.com/?q=212-555-0199', 23, 35],
    ['a date in a URL', 'DATE_TIME', 'go https://example.com/2024-03-15 now', 23, 33],
    ['an IP address in a URL path', 'IP_ADDRESS', 'go https://example.com/10.0.0.1 now', 23, 31],
    ['an SSN hidden with a zero-width space', 'US_SSN', 'Your number is 536\u200B-22-8726', 15, 27],
  ];
  for (const [what, type, text, start, end] of cases) {
    it(`${type} rule finds ${what}`, () => {
      const d = policy([detectRule('pii', [type])]).evaluate(send(text));
      expect(d.effect).toBe('deny');
      expect(d.findings).toEqual([expect.objectContaining({ guardrail: 'pii', type, path: 'input.body', start, end })]);
    });
  }

  it('secrets: a rule asking for GENERIC_SECRET or PASSWORD_IN_URL is not hidden by a vendor key in the same span', () => {
    const key = 'sk-proj-Xk9f2Lq7Rm4Tz8Wv1Bn6Yc3Hd5Gj0Pa2Se7Uq4Io9';
    const generic = policy([detectRule('secrets', ['GENERIC_SECRET'])]).evaluate(send(`api_key=${key}`));
    expect(generic.effect).toBe('deny');
    expect(generic.findings).toEqual([expect.objectContaining({ type: 'GENERIC_SECRET', start: 8, end: 8 + key.length })]);
    const inUrl = policy([detectRule('secrets', ['PASSWORD_IN_URL'])]).evaluate(send(`postgres://u:${key}@host/db`));
    expect(inUrl.effect).toBe('deny');
    expect(inUrl.findings).toEqual([expect.objectContaining({ type: 'PASSWORD_IN_URL', start: 13, end: 13 + key.length })]);
  });

  it('two rules asking different types each see their own type on the same text', () => {
    const p = policy([
      { ...detectRule('pii', ['PHONE_NUMBER']), id: 'phone' },
      { ...detectRule('pii', ['US_SSN']), id: 'ssn' },
    ]);
    const d = p.evaluate(send(SSN_AS_PHONE));
    expect(d.reasons.map((r) => r.rule).sort()).toEqual(['phone', 'ssn']);
    expect(spans(d.findings as Finding[])).toEqual(['PHONE_NUMBER@15-26', 'US_SSN@15-26']);
  });
});

describe('object keys (names and places do not count there)', () => {
  const ADDRESS = 'Our offices are located at 6556 106 Rue Ettatawer Apt. 409';

  it('a place read over a number in a key does not hide the number', () => {
    // In a value the place wins (and counts); in a key it is dropped, and the phone number it hid counts instead.
    expect(spans(pii.detect(ADDRESS) as Finding[])).toEqual(['LOCATION@27-58']);
    const config = (body: unknown): Action => ({ kind: 'tool', name: 'n', input: { config: body } });
    for (const types of [undefined, ['PHONE_NUMBER', 'LOCATION']]) {
      const d = policy([{ id: 'k', effect: 'deny', when: { detect: { guardrail: 'pii', in: 'input.config', ...(types ? { types } : {}) } } }]).evaluate(config({ [ADDRESS]: true }));
      expect(d.effect, String(types)).toBe('deny');
      expect(d.findings).toEqual([expect.objectContaining({ type: 'PHONE_NUMBER', path: 'input.config[key 0]', start: 27, end: 35 })]);
    }
  });
});

describe('through the pipeline', () => {
  const pools: GuardrailPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('the same finding inline and when the unrestricted call ran in a worker thread', async () => {
    const p = policy([detectRule('pii', ['US_SSN'])]);
    const inline = await evaluateAction({ policy: p }, send(SSN_AS_PHONE));
    expect(inline.effect).toBe('deny');
    expect(inline.findings).toEqual([expect.objectContaining({ type: 'US_SSN', start: 15, end: 26 })]);
    const pool = new GuardrailPool({ size: 1, inlineMaxChars: 0 });
    pools.push(pool);
    const offloaded = await evaluateAction({ policy: p, guardrails: { pool } }, send(SSN_AS_PHONE));
    expect(offloaded.effect).toBe('deny');
    expect(offloaded.findings).toEqual(inline.findings);
  }, 60_000);
});

describe('redact with types', () => {
  it('replaces the SSN a phone number hid, and only it', () => {
    expect(redacted(policy([redactRule('pii', ['US_SSN'])]), SSN_AS_PHONE)).toBe('Your number is <US_SSN>');
    expect(redacted(policy([redactRule('pii', ['US_SSN'])]), 'go https://example.com/536-22-8726 now')).toBe('go https://example.com/<US_SSN> now');
  });

  it('types that overlap in one step are replaced once', () => {
    expect(redacted(policy([redactRule('pii', ['US_SSN', 'PHONE_NUMBER'])]), SSN_AS_PHONE)).toBe('Your number is <PHONE_NUMBER>');
    expect(redacted(policy([redactRule('pii', ['US_SSN', 'URL'])]), 'go https://example.com/536-22-8726 now')).toBe('go <URL> now');
  });

  it('steps run one after the other on what the step before left', () => {
    expect(redacted(policy([redactRule('pii', ['PHONE_NUMBER'], ['US_SSN'])]), SSN_AS_PHONE)).toBe('Your number is <PHONE_NUMBER>');
    expect(redacted(policy([redactRule('pii', undefined, ['US_SSN'])]), SSN_AS_PHONE)).toBe('Your number is <PHONE_NUMBER>');
  });
});

/**
 * A guardrail with fixed candidates resolved like pii's (greedy, best first), counting its calls: X 0-6 (0.9),
 * Y 4-10 (0.8), Y 8-14 (0.7). Unrestricted: X 0-6 and Y 8-14 (Y 4-10 loses to X). Asked for Y alone: Y 4-10, which
 * then hides Y 8-14. A rule asking for Y gets both Y findings.
 */
function fixedGuardrail(resolvesOverlaps: boolean): Guardrail & { calls: Array<readonly string[] | undefined> } {
  const candidates = [
    { guardrail: 'fixed', type: 'X', start: 0, end: 6, score: 0.9 },
    { guardrail: 'fixed', type: 'Y', start: 4, end: 10, score: 0.8 },
    { guardrail: 'fixed', type: 'Y', start: 8, end: 14, score: 0.7 },
  ];
  const g = {
    name: 'fixed',
    description: 'test',
    types: ['X', 'Y', 'Z'],
    maxSpanLength: 20,
    resolvesOverlaps,
    calls: [] as Array<readonly string[] | undefined>,
    detect(text: string, options: DetectOptions = {}) {
      g.calls.push(options.types);
      if (!text.startsWith('abcdefghijklmn')) return [];
      return resolveOverlaps(candidates.filter((c) => !options.types || options.types.includes(c.type))).map((c) => ({ ...c }));
    },
  };
  return g;
}

describe('the decision cache', () => {
  const TEXT = 'abcdefghijklmnopqrst';

  it('a restricted call adds what the unrestricted one hid, and keeps what it found', () => {
    const g = fixedGuardrail(true);
    const d = new Detections(new Map([['fixed', g]]));
    expect(spans(d.findings('fixed', TEXT, new Set(['Y'])).filter((f) => f.type === 'Y'))).toEqual(['Y@4-10', 'Y@8-14']);
    expect(spans(d.findings('fixed', TEXT))).toEqual(['X@0-6', 'Y@8-14']);
    expect(spans(d.findings('fixed', TEXT, new Set(['Y', 'X'])))).toEqual(['X@0-6', 'Y@8-14']);
  });

  it('a redact step asking for Y replaces the union of its spans once', () => {
    const g = fixedGuardrail(true);
    const p = policy([redactRule('fixed', ['Y'])], { guardrails: { fixed: g } });
    expect(redacted(p, TEXT)).toBe('abcd<Y>opqrst');
  });

  it('the guardrail runs again only when the unrestricted call found a type the rule did not ask for, once per set of types', () => {
    const g = fixedGuardrail(true);
    const p = policy(
      [
        { ...detectRule('fixed', ['Y']), id: 'y1' },
        { ...detectRule('fixed', ['Y']), id: 'y2', when: { detect: { guardrail: 'fixed', in: 'input.body', types: ['Y'] }, name: 'email.send' } },
        { ...detectRule('fixed', ['X', 'Y']), id: 'xy' },
      ],
      { guardrails: { fixed: g } },
    );
    expect(p.evaluate(send(TEXT)).effect).toBe('deny');
    expect(g.calls).toEqual([undefined, ['Y']]);
    g.calls.length = 0;
    expect(p.evaluate(send('nothing to find')).effect).toBe('allow');
    expect(g.calls).toEqual([undefined]);
  });

  it('a guardrail that does not declare resolvesOverlaps is called once and filtered', () => {
    const g = fixedGuardrail(false);
    const d = new Detections(new Map([['fixed', g]]));
    expect(spans(d.findings('fixed', TEXT, new Set(['Y'])).filter((f) => f.type === 'Y'))).toEqual(['Y@8-14']);
    expect(g.calls).toEqual([undefined]);
  });
});

// Values each found whole when their type is the only one asked, in every context below.
const VALUES: Record<string, string[]> = {
  US_SSN: ['536-22-8726', '212-45-6780', '401-33-1234'],
  PHONE_NUMBER: ['212-555-0199', '(415) 555-0132', '+44 20 7946 0958'],
  CREDIT_CARD: ['4111111111111111', '5500 0000 0000 0004', '4012-8888-8888-1881', '378282246310005'],
  IBAN_CODE: ['DE89370400440532013000', 'GB29NWBK60161331926819'],
  DATE_TIME: ['2024-03-15', '12/03/2024'],
  IP_ADDRESS: ['10.0.0.1', '192.168.20.14', '2001:db8::8a2e:370:7334'],
  CRYPTO: ['1BoatSLRHtKNngkdXEeobR76b53LETtpyT'],
};
// Where the value is planted: alone, or inside a value of another type (a URL, an e-mail address).
const CONTEXTS = ['Your number is %', 'go https://example.com/% now', 'https://example.com/?q=%', 'mail %@example.com'];
const NEIGHBOURS = ['ana.lopez@example.com', 'https://example.org/docs', '212-555-0188', '2023-11-02', '10.1.2.3', 'DE44500105175407324931'];

/** Neighbours in which a call asking for `type` alone finds nothing, so what a redaction changes is the planted value. */
const neighbours = (type: string) => NEIGHBOURS.filter((n) => (pii.detect(n, { types: [type] }) as Finding[]).length === 0);

describe('property: a rule asking for [T] finds a planted value of type T whatever overlaps it', () => {
  const detectors = new Map<string, Policy>(Object.keys(VALUES).map((t) => [t, policy([detectRule('pii', [t])])]));
  const redactors = new Map<string, Policy>(Object.keys(VALUES).map((t) => [t, policy([redactRule('pii', [t])])]));
  const planted = fc
    .constantFrom(...Object.keys(VALUES))
    .chain((type) =>
      fc.record({
        type: fc.constant(type),
        value: fc.constantFrom(...VALUES[type]),
        context: fc.constantFrom(...CONTEXTS),
        before: fc.array(fc.constantFrom(...neighbours(type)), { maxLength: 2 }),
        after: fc.array(fc.constantFrom(...neighbours(type)), { maxLength: 2 }),
      }),
    )
    .map(({ type, value, context, before, after }) => {
      const head = before.map((n) => `${n} and `).join('');
      const [pre, post] = context.split('%');
      const text = `${head}${pre}${value}${post}${after.map((n) => ` and ${n}`).join('')}`;
      return { type, value, text, start: head.length + pre.length };
    });

  it('detect: the rule denies and reports the value, and every finding of the type-only call', () => {
    fc.assert(
      fc.property(planted, ({ type, value, text, start }) => {
        const d = detectors.get(type)!.evaluate(send(text));
        expect(d.effect).toBe('deny');
        const got = spans(d.findings as Finding[]);
        expect(got).toContain(`${type}@${start}-${start + value.length}`);
        for (const f of pii.detect(text, { types: [type] }) as Finding[]) expect(got).toContain(`${f.type}@${f.start}-${f.end}`);
      }),
      { numRuns: 300 },
    );
  });

  it('redact: the value is gone and the rest of the text is kept, one token per value', () => {
    fc.assert(
      fc.property(planted, ({ type, value, text, start }) => {
        const out = redacted(redactors.get(type)!, text);
        expect(out).not.toContain(value);
        expect(out.startsWith(text.slice(0, start))).toBe(true);
        expect(out.endsWith(text.slice(start + value.length))).toBe(true);
        expect(out.slice(start, out.length - (text.length - start - value.length))).toBe(`<${type}>`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a rule asking for a score (secrets ranks overlaps by format, not by score)', () => {
  const key = 'sk-proj-Xk9f2Lq7Rm4Tz8Wv1Bn6Yc3Hd5Gj0Pa2Se7Uq4Io9';
  const inUrl = `postgres://admin:${key}@db.example.com/x`;

  it('a detect with minScore above the winning key finds the password in the URL it hid', () => {
    // OPENAI_API_KEY (0.85) wins the unrestricted call over PASSWORD_IN_URL (0.9) on the same span.
    const d = policy([{ id: 'strong', effect: 'deny', when: { detect: { guardrail: 'secrets', in: 'input.body', minScore: 0.88 } } }]).evaluate(send(inUrl));
    expect(d.effect).toBe('deny');
    expect(d.findings).toEqual([expect.objectContaining({ type: 'PASSWORD_IN_URL', start: 17, end: 17 + key.length, score: 0.9 })]);
  });

  it('the guardrail drops weak and allow-listed candidates before resolving overlaps, so they hide nothing', () => {
    expect(spans(secretsGuardrail.create({ minScore: 0.88 }).detect(inUrl) as Finding[])).toEqual([`PASSWORD_IN_URL@17-${17 + key.length}`]);
    expect(spans(secretsGuardrail.create({ allowList: [key] }).detect(inUrl) as Finding[])).toEqual([]);
  });

  it('pii: a minScore below the guardrail minimum never brings back what its config drops', () => {
    // The SSN scores 0.65, under this guardrail's 0.7; the phone number it also reads as scores 0.75.
    const d = new Detections(new Map([['pii', piiGuardrail.create({ minScore: 0.7 })]]));
    expect(spans(d.findings('pii', SSN_AS_PHONE, new Set(['US_SSN']), 0.1))).toEqual(['PHONE_NUMBER@15-26']);
    expect(spans(new Detections(new Map([['pii', pii]])).findings('pii', SSN_AS_PHONE, new Set(['US_SSN']), 0.1))).toEqual(['PHONE_NUMBER@15-26', 'US_SSN@15-26']);
  });
});

describe('secrets declares the same', () => {
  it('both span guardrails resolve overlaps across types and say so', () => {
    expect(pii.resolvesOverlaps).toBe(true);
    expect(secretsGuardrail.create({}).resolvesOverlaps).toBe(true);
  });
});

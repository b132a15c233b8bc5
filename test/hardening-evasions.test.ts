import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { piiGuardrail, type PiiType } from '../src/core/guardrails/pii/index.js';
import { secretsGuardrail } from '../src/core/guardrails/secrets/index.js';
import { foldForMatching, toOriginalSpans } from '../src/core/guardrails/text/fold.js';
import type { Finding } from '../src/core/guardrails/types.js';
import { Policy } from '../src/sdk/index.js';

// Item 10 of issue 16: Unicode and spelling evasions the pii and secrets guardrails see through, reported and redacted
// on the original text.

const pii = piiGuardrail.create({});
const secrets = secretsGuardrail.create({});

const OPENAI_KEY = 'sk-proj-Xk9f2Lq7Rm4Tz8Wv1Bn6Yc3Hd5Gj0Pa2Se7Uq4Io9';
const AWS_ID = 'AKIAQ3EGRH5KZ7TBXW2M';
const ZW = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u202E', '\u{E0020}'];

/** Full-width form of ASCII letters, digits and punctuation. */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
/** Digits in another script whose zero is at `zero`. */
const digitsIn = (s: string, zero: number) => s.replace(/\d/g, (d) => String.fromCodePoint(zero + Number(d)));

function spans(guardrail: { detect(text: string): unknown }, text: string, type?: string): string[] {
  return (guardrail.detect(text) as Finding[]).filter((f) => type === undefined || f.type === type).map((f) => text.slice(f.start, f.end));
}

describe('pii: Unicode digits, invisible characters and odd spaces', () => {
  const cases: [string, PiiType, string][] = [
    ['full-width card', 'CREDIT_CARD', fullWidth('4012 8888 8888 1881')],
    ['full-width card, no spaces', 'CREDIT_CARD', fullWidth('4012888888881881')],
    ['Arabic-Indic card', 'CREDIT_CARD', digitsIn('4012-8888-8888-1881', 0x660)],
    ['Devanagari card', 'CREDIT_CARD', digitsIn('4012888888881881', 0x966)],
    ['card with NBSP, thin and narrow spaces', 'CREDIT_CARD', '4012\u00A08888\u20098888\u202F1881'],
    ['card with zero-width spaces', 'CREDIT_CARD', '4012\u200B8888\u200B8888\u200B1881'],
    ['card with combining underlines', 'CREDIT_CARD', [...'4012888888881881'].map((d) => `${d}\u0332`).join('')],
    ['full-width SSN', 'US_SSN', fullWidth('536-22-8726')],
    ['Arabic-Indic SSN', 'US_SSN', digitsIn('536-22-8726', 0x660)],
    ['extended Arabic-Indic SSN', 'US_SSN', digitsIn('536-22-8726', 0x6f0)],
    ['SSN with zero-width characters', 'US_SSN', '536\u200B-22\u200D-87\u2060' + '26'],
    ['SSN with Unicode hyphens', 'US_SSN', '536\u201122\u20118726'],
    ['SSN with a minus sign and en dash', 'US_SSN', '536\u221222\u20138726'],
    ['full-width phone', 'PHONE_NUMBER', fullWidth('(415) 555-0132')],
    ['phone with NBSP', 'PHONE_NUMBER', '+44\u00A020\u00A07123\u00A04567'],
    ['IBAN with zero-width spaces', 'IBAN_CODE', 'GB82\u200BWEST\u200B1234\u200B5698\u200B7654\u200B32'],
    ['full-width IP', 'IP_ADDRESS', fullWidth('192.168.1.1')],
    ['card as HTML character references', 'CREDIT_CARD', [...'4012888888881881'].map((d) => `&#${d.charCodeAt(0)};`).join('')],
    ['SSN with an escaped zero-width space', 'US_SSN', '536-22&#8203;-8726'],
    ['SSN with escaped full-width digits', 'US_SSN', '&#xFF15;36-22-8726'],
  ];
  for (const [name, type, value] of cases) {
    it(`${name}: found, and the span is the original text`, () => {
      const text = `My ${type === 'US_SSN' ? 'SSN' : type === 'CREDIT_CARD' ? 'card' : 'details'}: ${value} thanks`;
      expect(spans(pii, text, type)).toEqual([value]);
    });
  }

  it('ASCII text is unchanged by the folding (same findings as before)', () => {
    const text = 'SSN 536-22-8726, card 4012 8888 8888 1881, mail jane.doe@example.com, call (415) 555-0132';
    expect(foldForMatching(text).identity).toBe(true);
    expect(spans(pii, text).sort()).toEqual(['(415) 555-0132', '4012 8888 8888 1881', '536-22-8726', 'jane.doe@example.com'].sort());
  });
});

describe('pii: e-mail addresses spelt to slip past a pattern', () => {
  const cases = [
    'jane.doe＠example.com',
    'jane.doe﹫example.com',
    fullWidth('jane.doe@example.com'),
    'jane.doe (at) example.com',
    'jane.doe(at)example.com',
    'jane.doe[at]example.com',
    'jane.doe [AT] example [DOT] com',
    'jane.doe{at}example(dot)com',
    'jane.doe@example[.]com',
    'jane.doe @ example.com',
    'jane.doe@ example.com',
    'jane.doe\u00A0@\u00A0example.com',
    'jane.doe@\u200Bexample.com',
    'jane.doe&#64;example.com',
    'jane.doe&#x40;example&#46;com',
    'jane.doe&commat;example&period;com',
    'jane.doe%40example.com',
    'jane.doe[@]example[.]com',
    'jane.doe (@) example.com',
  ];
  for (const value of cases) {
    it(`${JSON.stringify(value)} is an EMAIL_ADDRESS on its original span`, () => {
      expect(spans(pii, `write to ${value} today`, 'EMAIL_ADDRESS')).toEqual([value]);
    });
  }

  it('mentions, prices and prose are not made into addresses', () => {
    for (const text of ['thanks @john.doe for the review', 'meet me @ 5pm', 'look (at) this', 'apples @ 3.50 each', 'see you at example.com', 'I am @ home .', 'rates %40 higher', 'AT&amp;T &#38;#64;']) {
      expect(spans(pii, text, 'EMAIL_ADDRESS')).toEqual([]);
    }
  });
});

describe('secrets: look-alike, full-width and invisible characters in keys', () => {
  const cases: [string, string, string][] = [
    ['full-width OpenAI key', 'OPENAI_API_KEY', fullWidth(OPENAI_KEY)],
    ['full-width prefix only', 'OPENAI_API_KEY', fullWidth('sk-proj-') + OPENAI_KEY.slice(8)],
    ['zero-width characters inside the key', 'OPENAI_API_KEY', OPENAI_KEY.slice(0, 3) + '\u200B' + OPENAI_KEY.slice(3, 20) + '\u200D\u2060' + OPENAI_KEY.slice(20)],
    ['Cyrillic s in the prefix', 'OPENAI_API_KEY', '\u0455' + OPENAI_KEY.slice(1)],
    ['Cyrillic capitals in an AWS key id', 'AWS_ACCESS_KEY_ID', '\u0410\u041AIA' + AWS_ID.slice(4)],
    ['AWS key id split by a soft hyphen', 'AWS_ACCESS_KEY_ID', AWS_ID.slice(0, 10) + '\u00AD' + AWS_ID.slice(10)],
    ['mathematical bold letters', 'AWS_ACCESS_KEY_ID', [...AWS_ID].map((c) => (/[A-Z]/.test(c) ? String.fromCodePoint(0x1d400 + c.charCodeAt(0) - 65) : c)).join('')],
  ];
  for (const [name, type, value] of cases) {
    it(`${name}: found on its original span`, () => {
      const text = type === 'GENERIC_SECRET' ? `DB_PASSWORD=${value}\n` : `use ${value} for the API`;
      expect(spans(secrets, text, type)).toEqual([value]);
    });
  }

  it('a full-width secret name still marks its value as a GENERIC_SECRET', () => {
    const value = 'Xk9#mP2$vL7qR4!w';
    expect(spans(secrets, `${fullWidth('DB_PASSWORD')}=${value}\n`, 'GENERIC_SECRET')).toEqual([value]);
    expect(spans(secrets, `db\u200B_pass\u200Bword: ${value}\n`, 'GENERIC_SECRET')).toEqual([value]);
  });

  it('words written in Cyrillic or Greek alone are left as they are', () => {
    const folded = foldForMatching('Привет мир, ѕк-ргој and καλημέρα');
    expect(folded.text).toContain('Привет мир');
    expect(folded.text).toContain('καλημέρα');
    // No ASCII letter in "ѕк-ргој": its own script, not a disguised key prefix.
    expect(folded.text).toContain('ѕк-ргој');
  });
});

describe('redaction replaces the original span', () => {
  const p = Policy.parse({
    version: 1,
    name: 'evasions',
    default: 'allow',
    rules: [
      { id: 'mask-pii', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'pii', types: ['CREDIT_CARD', 'US_SSN', 'EMAIL_ADDRESS'] }] },
      { id: 'mask-keys', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'secrets' }] },
    ],
  });

  it('nothing of the value is left, invisible characters included', () => {
    const ssn = '536\u200B-22-\u200D8726';
    const card = fullWidth('4012 8888 8888 1881');
    const mail = 'jane.doe [at] example [dot] com';
    const key = '\u0455k-proj-' + OPENAI_KEY.slice(8, 20) + '\u200B' + OPENAI_KEY.slice(20);
    const d = p.evaluate({ kind: 'tool', name: 'email.send', input: { body: `ssn ${ssn}, card ${card}, mail ${mail}, key ${key}.` } });
    expect(d.effect).toBe('transform');
    expect(d.action.input.body).toBe('ssn <US_SSN>, card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, key <OPENAI_API_KEY>.');
  });
});

describe('the folding and its offset map', () => {
  const invisible = fc.constantFrom(...ZW);

  it('property: invisible characters inserted anywhere in a value never hide it, and the span maps back to it', () => {
    const values: [string, typeof pii | typeof secrets, string][] = [
      ['536-22-8726', pii, 'US_SSN'],
      ['4012888888881881', pii, 'CREDIT_CARD'],
      ['jane.doe@example.com', pii, 'EMAIL_ADDRESS'],
      [OPENAI_KEY, secrets, 'OPENAI_API_KEY'],
      [AWS_ID, secrets, 'AWS_ACCESS_KEY_ID'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...values), fc.array(fc.tuple(fc.nat(), invisible), { maxLength: 6 }), ([value, guardrail, type], inserts) => {
        // Inserted between characters of the value (never inside a surrogate pair of an earlier insert).
        const chars = [...value];
        for (const [at, ch] of inserts) chars.splice(1 + (at % (chars.length - 1)), 0, ch);
        const disguised = chars.join('');
        const text = `my SSN card mail key: ${disguised} ok`;
        const found = (guardrail.detect(text) as Finding[]).filter((f) => f.type === type);
        expect(found.map((f) => text.slice(f.start, f.end))).toEqual([disguised]);
      }),
      { numRuns: 200 },
    );
  });

  it('property: mapped spans stay inside the original, in order, and cover what they came from', () => {
    const unit = fc.oneof(fc.constantFrom('a', '1', ' ', '@', '-', '(at)', ' @ ', '[dot]', '４', '٣', 'ѕ', 'Ａ', '\u00A0', '…', 'é', '\u0301', '𝐀', '😀', '\uD800', '&#64;', '&#38;', '&#', '%40', '&commat;', '&#x200B;', '&#769;', '.com'), invisible);
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 40 }).map((parts) => parts.join('')), (raw) => {
        const folded = foldForMatching(raw);
        expect(folded.text.length).toBeLessThanOrEqual(raw.length);
        for (let from = 0; from < folded.text.length; from++) {
          const { start, end } = folded.original(from, from + 1);
          expect(0 <= start && start < end && end <= raw.length).toBe(true);
          if (from > 0) expect(folded.original(from - 1, from).start).toBeLessThanOrEqual(start);
        }
        // Folding is stable: what it produces folds to itself (character references are decoded once, as a browser
        // does, so only where decoding cannot make a new reference).
        if (!raw.includes('&')) expect(foldForMatching(folded.text).text).toBe(folded.text);
        const whole = folded.text.length > 0 ? toOriginalSpans(folded, [{ start: 0, end: folded.text.length }]) : [];
        for (const s of whole) expect(s.end).toBeLessThanOrEqual(raw.length);
      }),
      { numRuns: 300 },
    );
  });

  it('character references are decoded first, so what they stand for is folded like typed text', () => {
    expect(foldForMatching('a&#x200B;\u0301b').text).toBe('ab');
    expect(foldForMatching('&#xFF14;&#1637;').text).toBe('45');
    expect(foldForMatching('x&#38;#64;y').text).toBe('x&#38;#64;y');
  });

  it('is linear: 64 times more text costs far less than 64² times more', () => {
    const piece = 'ｓｋ-\u200Bproj ٤٠١٢ jane (at) example [dot] com ѕ ';
    const time = (n: number) => {
      const text = piece.repeat(n);
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) foldForMatching(text);
      return performance.now() - t0;
    };
    time(200);
    const small = time(500);
    const big = time(500 * 64);
    expect(big / small).toBeLessThan(64 * 8);
  });
});

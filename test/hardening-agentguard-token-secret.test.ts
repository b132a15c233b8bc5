import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { maskStrings, maskText as maskReportText, maskUrl } from '../src/core/agents/report-mask.js';
import { createExporter, EXPORT_FORMATS, writeExport } from '../src/core/audit/export/index.js';
import { maskSecrets, maskText } from '../src/core/audit/mask.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { describeBuiltinGuardrails } from '../src/core/guardrails/describe.js';
import { secretsGuardrail } from '../src/core/guardrails/secrets/index.js';
import type { Finding } from '../src/core/guardrails/types.js';
import { decisionEntry } from '../src/core/pipeline.js';
import { Policy } from '../src/core/policy/policy.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { generateToken } from '../src/core/tokens/token-format.js';
import { rawDb } from './helpers/audit-log.js';
import { decisionOf, exportAll } from './helpers/audit-exports.js';

// Issue 16, item 4: agentguard's own API tokens (`agk_` + 32 random bytes in base64url) sent in an action's input are
// found by the secrets guardrail, masked in the audit trail and its exports, and masked in what `scan` reports.

const TOKEN = 'agk_CGkH1lv6GSdt8NRneQyHyYLUs6M54g2Qlqb4OGOiUVI';
const BODY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Any token generateToken can make: 32 bytes in base64url. */
const anyToken = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `agk_${Buffer.from(b).toString('base64url')}`);
/**
 * A token as random as generateToken's (32 random bytes have 24 or more distinct values but once in ~10^5): fast-check
 * also makes degenerate arrays (all zeros), whose `agk_AAAA…` the guardrail rightly reads as a placeholder.
 */
const randomToken = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((b) => new Set(b).size >= 24)
  .map((b) => `agk_${Buffer.from(b).toString('base64url')}`);

const guard = secretsGuardrail.create({});
const found = (text: string) => guard.detect(text) as Finding[];

/** Where a token travels in an action: a URL, a header, a query, a command line, JSON text, prose. */
const CONTEXTS: ((t: string) => string)[] = [
  (t) => t,
  (t) => `https://api.example.com/v1/${t}/sse`,
  (t) => `https://api.example.com/v1/items?access=${t}&page=2`,
  (t) => `X-Agent-Credential: ${t}`,
  (t) => `curl -H "Authorization: Bearer ${t}" http://127.0.0.1:7777/v1/decide`,
  (t) => `{"credential": "${t}", "region": "eu"}`,
  (t) => `AGENTGUARD_TOKEN=${t}\n`,
  (t) => `my sidecar token is ${t}, please keep it.`,
];

describe('the secrets guardrail finds agentguard tokens', () => {
  it('reports AGENTGUARD_TOKEN on exactly the token, in any context', () => {
    fc.assert(
      fc.property(randomToken, fc.constantFrom(...CONTEXTS), (token, context) => {
        const text = context(token);
        const start = text.indexOf(token);
        expect(found(text)).toEqual([expect.objectContaining({ guardrail: 'secrets', type: 'AGENTGUARD_TOKEN', start, end: start + token.length })]);
      }),
      { numRuns: 300 },
    );
  });

  it('finds tokens generateToken makes', () => {
    for (let i = 0; i < 200; i++) {
      const token = generateToken();
      expect(found(`token ${token}`).map((f) => f.type)).toEqual(['AGENTGUARD_TOKEN']);
    }
  });

  it('is a type the guardrail declares (guardrails list shows it), so a rule can ask for it', () => {
    expect(guard.types).toContain('AGENTGUARD_TOKEN');
    expect(describeBuiltinGuardrails().find((g) => g.name === 'secrets')?.types).toContain('AGENTGUARD_TOKEN');
    const only = secretsGuardrail.create({ types: ['AGENTGUARD_TOKEN'] });
    expect((only.detect(`x ${TOKEN} y`) as Finding[]).map((f) => f.type)).toEqual(['AGENTGUARD_TOKEN']);
  });

  it('sees through invisible and full-width characters, reporting the span as written', () => {
    const zeroWidth = `${TOKEN.slice(0, 20)}\u200B${TOKEN.slice(20)}`;
    expect(found(`t=${zeroWidth};`)).toEqual([expect.objectContaining({ type: 'AGENTGUARD_TOKEN', start: 2, end: 2 + zeroWidth.length })]);
    const fullWidth = [...'agk_'].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('') + TOKEN.slice(4);
    expect(found(fullWidth)).toEqual([expect.objectContaining({ type: 'AGENTGUARD_TOKEN', start: 0, end: fullWidth.length })]);
  });

  describe('text with the prefix that is not a token is not reported', () => {
    const body = TOKEN.slice(4);
    const cases: [string, string][] = [
      ['one character short', `agk_${body.slice(0, 42)}`],
      ['one character too many', `agk_${body}Q`],
      ['a character outside base64url', `agk_${body.slice(0, 20)}+${body.slice(21)}`],
      ['glued to a word before it', `xagk_${body}`],
      ['glued to a word after it', `agk_${body}-x`],
      ['a placeholder of one repeated character', `agk_${'A'.repeat(43)}`],
      ['a placeholder of a few characters', `agk_${'abcABC'.repeat(7)}A`],
      ['a placeholder in words', 'agk_your_agentguard_token_goes_right_here_00'],
      ['an identifier with the prefix', 'agk_settings_loader'],
      ['the masked form logs use', 'agk_[MASKED]'],
    ];
    for (const [what, text] of cases) {
      it(what, () => {
        expect(found(`token: ${text} .`).filter((f) => f.type === 'AGENTGUARD_TOKEN')).toEqual([]);
      });
    }

    it('43 base64url characters whose last one is not the end of 32 bytes (its two low bits must be zero)', () => {
      const nonCanonical = [...BODY_ALPHABET].filter((_, i) => i % 4 !== 0);
      fc.assert(
        fc.property(
          fc.string({ unit: fc.constantFrom(...BODY_ALPHABET), minLength: 42, maxLength: 42 }),
          fc.constantFrom(...nonCanonical),
          (head, last) => {
            expect(found(`agk_${head}${last}`).filter((f) => f.type === 'AGENTGUARD_TOKEN')).toEqual([]);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

describe('a no-secrets-out rule denies an action carrying an agentguard token', () => {
  const policy = Policy.parse({
    version: 1,
    name: 'tokens',
    default: 'allow',
    rules: [{ id: 'no-secrets-out', effect: 'deny', when: { detect: { guardrail: 'secrets' } } }],
  });
  const inputs: [string, Record<string, unknown>][] = [
    ['in a URL', { url: `https://hooks.example.com/${TOKEN}` }],
    ['in a header', { headers: { 'X-Forward': TOKEN } }],
    ['in a JSON string', { body: JSON.stringify({ agent: { credential: TOKEN } }) }],
    ['as an object key', { config: { [TOKEN]: true } }],
    ['in an array', { args: ['--to', 'ops', TOKEN] }],
  ];
  it('a redact transform replaces the token, wherever it is', () => {
    const scrub = Policy.parse({
      version: 1,
      name: 'scrub',
      default: 'allow',
      rules: [{ id: 'scrub', effect: 'transform', when: { kind: 'tool' }, transform: [{ redact: 'input', guardrail: 'secrets' }] }],
    });
    const d = scrub.evaluate({ kind: 'tool', name: 'http.post', input: { url: `https://h.example.com/${TOKEN}/sse`, [TOKEN]: 1 } });
    expect(d.effect).toBe('transform');
    expect(d.action.input).toEqual({ url: 'https://h.example.com/<AGENTGUARD_TOKEN>/sse', '<AGENTGUARD_TOKEN>': 1 });
  });

  for (const [where, input] of inputs) {
    it(where, () => {
      const d = policy.evaluate({ kind: 'tool', name: 'http.post', input });
      expect(d.effect).toBe('deny');
      expect(d.findings).toEqual([expect.objectContaining({ guardrail: 'secrets', type: 'AGENTGUARD_TOKEN' })]);
      expect(JSON.stringify(d.findings)).not.toContain(TOKEN.slice(4));
    });
  }
});

// ---- the audit trail -----------------------------------------------------------------------------------------------

const stores: SqliteStore[] = [];
afterEach(async () => {
  const open = stores.splice(0);
  await Promise.all(open.map((s) => s.close()));
  for (const s of open) rmSync(dirname(s.location), { recursive: true, force: true });
});

/** Records `action` as the pipeline does; returns every column of the stored row and every export format of it. */
async function storedAndExported(action: Action): Promise<{ stored: string; exported: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'ag-token-secret-')), 'agentguard.db');
  const store = SqliteStore.open(file);
  stores.push(store);
  await store.audit.append([decisionEntry(decisionOf(action), new Date())]);
  const records = await store.audit.query({ order: 'asc' });
  const db = rawDb(file);
  try {
    return { stored: JSON.stringify(db.prepare('SELECT * FROM audit_records').all()), exported: await exportAll(records) };
  } finally {
    db.close();
  }
}

describe('the audit trail never stores an agentguard token', () => {
  it('maskText masks a token in any context, naming its kind', () => {
    for (const context of CONTEXTS) {
      const masked = maskText(context(TOKEN));
      expect(masked, context(TOKEN)).not.toContain(TOKEN.slice(4, 20));
    }
    expect(maskText(`/v1/${TOKEN}`)).toBe('/v1/[MASKED:agentguard-token]');
    expect(maskText(`see ${TOKEN}.`)).toBe('see [MASKED:agentguard-token].');
  });

  it('maskText masks a token cut short (what is left still narrows a guess) and any generated token', () => {
    expect(maskText(`token ${TOKEN.slice(0, 20)}…`)).toBe('token [MASKED:agentguard-token]…');
    fc.assert(
      fc.property(anyToken, fc.constantFrom(...CONTEXTS), (token, context) => {
        expect(maskText(context(token))).not.toContain(token.slice(4));
      }),
      { numRuns: 200 },
    );
  });

  it('maskSecrets masks a token used as an object key, keeping its value', () => {
    expect(maskSecrets({ config: { [TOKEN]: 'on' } })).toEqual({ config: { '[MASKED:agentguard-token]': 'on' } });
  });

  it('masking a masked text changes nothing', () => {
    const once = maskText(`GET /v1/${TOKEN}?x=1`);
    expect(maskText(once)).toBe(once);
  });

  it('a token in an action input: masked in audit_records and in every export format', async () => {
    const action: Action = {
      agent: { id: 'bot' },
      kind: 'tool',
      name: 'http.post',
      input: {
        url: `https://api.example.com/v1/${TOKEN}/sse?next=${TOKEN}`,
        headers: { 'X-Forward': TOKEN, [TOKEN]: 'key' },
        body: JSON.stringify({ note: `use ${TOKEN}` }),
        command: `curl -H 'X-Agent: ${TOKEN}' http://127.0.0.1:7777`,
      },
    };
    const { stored, exported } = await storedAndExported(action);
    expect(stored).toContain('[MASKED:agentguard-token]');
    expect(stored).not.toContain(TOKEN.slice(4));
    expect(exported).not.toContain(TOKEN.slice(4));
    expect(exported).toContain('agentguard-token');
  });
});

// ---- what scan reports ---------------------------------------------------------------------------------------------

describe('scan output masks agentguard tokens', () => {
  it('in URL paths, queries, headers, JSON strings, command lines and object keys', () => {
    const body = TOKEN.slice(4);
    expect(maskUrl(`http://mcp.example.com/${TOKEN}/sse`)).not.toContain(body);
    expect(maskReportText(`http://127.0.0.1:7777/v1/decide?t=${TOKEN}`)).not.toContain(body);
    expect(maskReportText(`X-Agent-Credential: ${TOKEN}`)).not.toContain(body);
    expect(maskReportText(JSON.stringify({ env: { NOTE: `use ${TOKEN}` } }))).not.toContain(body);
    expect(maskReportText(`npx -y agentguard-mcp --sidecar http://localhost:7777 ${TOKEN}`)).not.toContain(body);
    expect(JSON.stringify(maskStrings({ headers: { [TOKEN]: 'x' }, args: ['serve', TOKEN] }))).not.toContain(body);
  });

  it('any generated token in any context', () => {
    fc.assert(
      fc.property(anyToken, fc.constantFrom(...CONTEXTS), (token, context) => {
        expect(maskReportText(context(token))).not.toContain(token.slice(4));
      }),
      { numRuns: 200 },
    );
  });
});

import { writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, redactionVaultOf } from '../src/core/pipeline.js';
import type { Guardrail, GuardrailFactory } from '../src/core/guardrails/types.js';
import { Policy, PolicyError, type Action } from '../src/sdk/index.js';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const EMAIL = 'ana.lopez@example.com';
const SSN = '536-22-8726';
const OPENAI_KEY = 'sk-proj-Xk9f2Lq7Rm4Tz8Wv1Bn6Yc3Hd5Gj0Pa2Se7Uq4Io9';

function policy(rules: unknown[], extra: Record<string, unknown> = {}, options = {}): Policy {
  return Policy.parse({ version: 1, name: 'guarded', default: 'allow', rules, ...extra }, options);
}

const email = (body: string): Action => ({ kind: 'tool', name: 'email.send', input: { to: 'x@customer.example', body } });

/** A synchronous guardrail that counts its calls and reports the word "secret". */
function countingGuardrail(): Guardrail & { calls: number } {
  const g = {
    name: 'counting',
    description: 'test',
    types: ['WORD'],
    maxSpanLength: 6,
    calls: 0,
    detect(text: string) {
      g.calls++;
      const at = text.indexOf('secret');
      return at === -1 ? [] : [{ guardrail: 'counting', type: 'WORD', start: at, end: at + 6, score: 0.9 }];
    },
  };
  return g;
}

describe('detect conditions', () => {
  const p = policy([
    { id: 'no-ssn', effect: 'deny', when: { name: 'email.send', detect: { guardrail: 'pii', in: 'input.body', types: ['US_SSN'] } } },
    { id: 'no-secrets', effect: 'deny', when: { detect: { guardrail: 'secrets' } } },
  ]);

  it('deny when the guardrail finds the type asked for; the findings name the path and never the value', () => {
    const d = p.evaluate(email(`My SSN is ${SSN}, call me.`));
    expect(d.effect).toBe('deny');
    expect(d.reasons.map((r) => r.rule)).toEqual(['no-ssn']);
    expect(d.findings).toEqual([expect.objectContaining({ guardrail: 'pii', type: 'US_SSN', path: 'input.body', start: 10, end: 21 })]);
    expect(JSON.stringify(d.findings)).not.toContain(SSN);
  });

  it('types filter: an email address alone does not match a US_SSN detect', () => {
    expect(p.evaluate(email(`write to ${EMAIL}`)).effect).toBe('allow');
  });

  it('in defaults to every string of input, at any depth', () => {
    const d = p.evaluate({ kind: 'tool', name: 'http.post', input: { headers: [{ name: 'auth', value: `Bearer ${OPENAI_KEY}` }] } });
    expect(d.effect).toBe('deny');
    expect(d.findings[0]).toMatchObject({ guardrail: 'secrets', path: 'input.headers.0.value' });
  });

  it('for llm actions, input.messages covers every message and text part, not only the last user turn', () => {
    const guarded = policy([{ id: 'no-ssn-in-prompt', effect: 'deny', when: { kind: 'llm', detect: { guardrail: 'pii', in: 'input.messages', types: ['US_SSN'] } } }]);
    const request = (messages: unknown[]): Action => ({ kind: 'llm', name: 'openai.gpt-4o', input: { model: 'gpt-4o', messages } });
    const places = [
      [{ role: 'system', content: `Customer SSN ${SSN}` }, { role: 'user', content: 'hi' }],
      [{ role: 'user', content: 'hi' }, { role: 'assistant', content: `noted ${SSN}` }, { role: 'user', content: 'ok' }],
      [{ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'text', text: `ssn ${SSN}` }] }],
      [{ role: 'tool', tool_call_id: 'c1', content: `{"ssn":"${SSN}"}` }, { role: 'user', content: 'summarise' }],
    ];
    for (const messages of places) expect(guarded.evaluate(request(messages)).effect, JSON.stringify(messages)).toBe('deny');
    expect(guarded.evaluate(request([{ role: 'user', content: 'nothing here' }])).effect).toBe('allow');
  });

  it('minScore drops weak findings', () => {
    const strict = policy([{ id: 'x', effect: 'deny', when: { detect: { guardrail: 'counting', minScore: 0.95 } } }], {}, { guardrails: { counting: countingGuardrail() } });
    expect(strict.evaluate(email('a secret')).effect).toBe('allow');
  });

  it('works inside any / not', () => {
    const q = policy([{ id: 'clean-only', effect: 'deny', when: { not: { detect: { guardrail: 'counting' } }, any: [{ name: 'a' }, { name: 'b' }] } }], {}, { guardrails: { counting: countingGuardrail() } });
    expect(q.evaluate({ kind: 'tool', name: 'a', input: { t: 'plain' } }).effect).toBe('deny');
    expect(q.evaluate({ kind: 'tool', name: 'a', input: { t: 'a secret' } }).effect).toBe('allow');
  });

  it('runs a guardrail once per distinct text within a decision, however many rules ask', () => {
    const counting = countingGuardrail();
    const q = policy(
      [
        { id: 'r1', effect: 'deny', when: { detect: { guardrail: 'counting', in: 'input.body' } } },
        { id: 'r2', effect: 'require_approval', when: { detect: { guardrail: 'counting', in: ['input.body', 'input.subject'] } } },
        { id: 'r3', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'counting' }] },
      ],
      {},
      { guardrails: { counting } },
    );
    q.evaluate({ kind: 'tool', name: 'email.send', input: { body: 'my secret', subject: 'my secret' } });
    expect(counting.calls).toBe(1);
    q.evaluate({ kind: 'tool', name: 'email.send', input: { body: 'my secret', subject: 'other' } });
    expect(counting.calls).toBe(3);
  });

  it('a guardrail that throws denies (rule_error), it never passes', () => {
    const broken: Guardrail = { name: 'broken', description: '', types: ['X'], maxSpanLength: 1, detect: () => { throw new Error('model exploded'); } };
    const q = policy([{ id: 'guard', effect: 'deny', when: { detect: { guardrail: 'broken' } } }], {}, { guardrails: { broken } });
    const d = q.evaluate(email('anything'));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ rule: 'guard', code: 'rule_error', message: expect.stringMatching(/model exploded/) });
  });
});

describe('redact transforms', () => {
  const p = policy([
    { id: 'redact-pii', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'pii', types: ['EMAIL_ADDRESS', 'US_SSN'] }] },
  ]);

  it('replace mode rewrites the action that runs and leaves the caller\'s action untouched', () => {
    const action = email(`Reach ${EMAIL} about SSN ${SSN}.`);
    const before = structuredClone(action);
    const d = p.evaluate(action);
    expect(d.effect).toBe('transform');
    expect(d.action.input!.body).toBe('Reach <EMAIL_ADDRESS> about SSN <US_SSN>.');
    expect(action).toEqual(before);
    expect(d.findings.map((f) => f.type).sort()).toEqual(['EMAIL_ADDRESS', 'US_SSN']);
  });

  it('mask mode keeps at most the tail', () => {
    const q = policy([{ id: 'm', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'pii', types: ['US_SSN'], mode: 'mask' }] }]);
    const body = q.evaluate(email(`ssn ${SSN}`)).action.input!.body as string;
    expect(body).not.toContain(SSN);
    expect(body).toMatch(/^ssn \*+\d{0,4}$/);
  });

  it('hash and encrypt need a key: without one the action is denied (transform_error), with one they work', async () => {
    const q = policy([{ id: 'h', effect: 'transform', when: { name: 'email.send' }, transform: [{ redact: 'input.body', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'hash' }] }]);
    const keyless = q.evaluate(email(`to ${EMAIL}`));
    expect(keyless.effect).toBe('deny');
    expect(keyless.reasons[0]).toMatchObject({ code: 'transform_error', message: expect.stringMatching(/needs a key/) });
    const key = new Uint8Array(32).fill(7);
    const a = await decide({ policy: q, redactionKey: key }, email(`to ${EMAIL}`));
    const b = await decide({ policy: q, redactionKey: () => key }, email(`to ${EMAIL} again`));
    const token = /<EMAIL_ADDRESS:[0-9a-f]{12}>/;
    expect(a.action.input!.body).toMatch(token);
    expect((a.action.input!.body as string).match(token)![0]).toBe((b.action.input!.body as string).match(token)![0]);
  });

  it('vault mode: placeholders in the action, originals restorable from the decision\'s vault, which is never serialised', async () => {
    const q = policy([{ id: 'v', effect: 'transform', when: { kind: 'llm' }, transform: [{ redact: 'input.messages', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'vault' }] }]);
    const d = await decide({ policy: q }, { kind: 'llm', name: 'openai.gpt-4o', input: { messages: [{ role: 'user', content: `Email ${EMAIL} and cc ${EMAIL}` }] } });
    const sent = (d.action.input!.messages as Array<{ content: string }>)[0].content;
    expect(sent).toBe('Email <EMAIL_ADDRESS_1> and cc <EMAIL_ADDRESS_1>');
    expect(JSON.stringify(d)).not.toContain(EMAIL);
    expect(redactionVaultOf(d)!.restore('I wrote to <EMAIL_ADDRESS_1>.')).toBe(`I wrote to ${EMAIL}.`);
  });

  it('property: the transformed action contains no value the guardrail found, and the input is never mutated', () => {
    const counting = countingGuardrail();
    const q = policy([{ id: 'r', effect: 'transform', when: { name: 'n' }, transform: [{ redact: 'input', guardrail: 'counting' }] }], {}, { guardrails: { counting } });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.oneof(fc.string(), fc.constant('a secret b'), fc.array(fc.constant('secret'))), { maxKeys: 5 }), (input) => {
        const action: Action = { kind: 'tool', name: 'n', input };
        const before = structuredClone(action);
        const d = q.evaluate(action);
        expect(action).toEqual(before);
        expect(JSON.stringify(d.action.input)).not.toContain('secret');
      }),
    );
  });
});

describe('policy errors for guardrails (precise, with a fix)', () => {
  const problems = (doc: string, options = {}) => {
    try {
      Policy.parse(doc, { filename: 'p.yaml', ...options });
    } catch (error) {
      if (error instanceof PolicyError) return error.problems;
      throw error;
    }
    throw new Error('expected a PolicyError');
  };

  it('an unknown guardrail name, with a suggestion and its line', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: deny\n    when:\n      detect: { guardrail: pi }\n');
    expect(p).toMatchObject({ path: 'rules[0].when.detect.guardrail', line: 7, message: expect.stringMatching(/unknown guardrail "pi"\. Did you mean "pii"\?/) });
  });

  it('a type the guardrail never reports, listing the ones it does', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: deny\n    when:\n      detect: { guardrail: pii, types: [EMAIL_ADRESS] }\n');
    expect(p.message).toMatch(/never reports type "EMAIL_ADRESS"\. Did you mean "EMAIL_ADDRESS"\?/);
    expect(p.hint).toMatch(/US_SSN/);
  });

  it('a guardrail config checked against the guardrail\'s own schema', () => {
    const [p] = problems('version: 1\nname: x\nguardrails:\n  strict-pii:\n    use: pii\n    config: { minScor: 0.9 }\nrules: []\n');
    expect(p).toMatchObject({ path: 'guardrails.strict-pii.config', line: 6, message: expect.stringMatching(/unknown option "minScor"/) });
  });

  it('redacting with a whole-text classifier is refused', () => {
    const [p] = problems('version: 1\nname: x\nrules:\n  - id: a\n    effect: transform\n    transform: [{ redact: input, guardrail: injection }]\n');
    expect(p.message).toMatch(/judges whole texts/);
  });

  it('a module guardrail under Policy.parse says how to load it', () => {
    const [p] = problems('version: 1\nname: x\nguardrails:\n  kw: { module: ./kw.js }\nrules: []\n');
    expect(p.message).toMatch(/was not loaded/);
    expect(p.hint).toMatch(/Policy\.fromFile/);
  });
});

describe('guardrail plugins from modules', () => {
  function policyDir(yaml: string): string {
    const dir = makeTempDir('ag-plugin-');
    copyFileSync(join(ROOT, 'test/fixtures/guardrail-plugins/keyword.mjs'), join(dir, 'keyword.mjs'));
    copyFileSync(join(ROOT, 'test/fixtures/guardrail-plugins/not-a-guardrail.mjs'), join(dir, 'nope.mjs'));
    writeFileSync(join(dir, 'policy.yaml'), yaml);
    return join(dir, 'policy.yaml');
  }

  it('Policy.fromFile imports the module, validates its config with its schema, and uses it', async () => {
    const file = policyDir('version: 1\nname: x\ndefault: allow\nguardrails:\n  codenames:\n    module: ./keyword.mjs\n    config: { words: [bluebird, nightjar] }\nrules:\n  - id: no-codenames\n    effect: deny\n    when: { detect: { guardrail: codenames, in: input.text } }\n');
    const p = await Policy.fromFile(file);
    const d = p.evaluate({ kind: 'tool', name: 'post', input: { text: 'project nightjar ships' } });
    expect(d.effect).toBe('deny');
    expect(d.findings).toEqual([expect.objectContaining({ guardrail: 'codenames', type: 'KEYWORD', start: 8, end: 16 })]);
  });

  it('bad plugin config and modules that are missing or export no guardrail are policy errors at the entry', async () => {
    const bad = policyDir('version: 1\nname: x\nguardrails:\n  codenames:\n    module: ./keyword.mjs\n    config: { words: [] }\nrules: []\n');
    await expect(Policy.fromFile(bad)).rejects.toMatchObject({ problems: [expect.objectContaining({ path: 'guardrails.codenames.config', message: expect.stringMatching(/config\.words must NOT have fewer than 1 items/) })] });
    const missing = policyDir('version: 1\nname: x\nguardrails:\n  g: { module: ./missing.mjs }\nrules: []\n');
    await expect(Policy.fromFile(missing)).rejects.toMatchObject({ problems: [expect.objectContaining({ path: 'guardrails.g.module', message: expect.stringMatching(/cannot load ".\/missing.mjs"/) })] });
    const nope = policyDir('version: 1\nname: x\nguardrails:\n  g: { module: ./nope.mjs }\nrules: []\n');
    await expect(Policy.fromFile(nope)).rejects.toMatchObject({ problems: [expect.objectContaining({ message: expect.stringMatching(/exports no guardrail/) })] });
  });

  it('an asynchronous guardrail runs through the pipeline; Policy.evaluate, which cannot wait, fails closed', async () => {
    const remote: GuardrailFactory = {
      name: 'remote',
      description: 'answers later',
      configSchema: { type: 'object', additionalProperties: false },
      create: () => ({
        name: 'remote',
        description: '',
        types: ['FLAGGED'],
        maxSpanLength: Number.POSITIVE_INFINITY,
        async: true,
        detect: async (text: string) => (text.includes('bad') ? [{ guardrail: 'remote', type: 'FLAGGED', start: 0, end: text.length, score: 1 }] : []),
      }),
    };
    const p = policy([{ id: 'flagged', effect: 'deny', when: { detect: { guardrail: 'remote' } } }], {}, { guardrails: { remote } });
    expect((await decide({ policy: p }, email('bad words'))).effect).toBe('deny');
    expect((await decide({ policy: p }, email('kind words'))).effect).toBe('allow');
    let deep: Record<string, unknown> = { text: 'bad' };
    for (let i = 0; i < 200; i++) deep = { nested: deep };
    const tooDeep = await decide({ policy: p }, { kind: 'tool', name: 'x', input: deep });
    expect(tooDeep.effect).toBe('deny');
    expect(tooDeep.reasons[0]).toMatchObject({ rule: 'flagged', code: 'rule_error', message: expect.stringMatching(/nested more than 128 levels/) });
    const sync = p.evaluate(email('kind words'));
    expect(sync.effect).toBe('deny');
    expect(sync.reasons[0].message).toMatch(/answers asynchronously/);
  });
});

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { checkSync } from 'recheck';
import { describe, expect, it } from 'vitest';
import { LinearModel } from '../src/core/guardrails/classifier/linear-model.js';
import { createModerationGuardrail, MODERATION_CATEGORIES, moderationGuardrail, openAiModerationGuardrail } from '../src/core/guardrails/moderation/index.js';
import { RULES } from '../src/core/guardrails/moderation/rules.js';
import type { Finding } from '../src/core/guardrails/types.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const guardrail = moderationGuardrail.create({});
const detect = (text: string) => guardrail.detect(text) as Finding[];
const typesOf = (text: string) => detect(text).map((f) => f.type);

/** Clear positives: each must be flagged with (at least) its category. */
const POSITIVES: Array<[string, string]> = [
  ['hate', 'Muslims are filthy vermin and every one of them should be thrown out of this country'],
  ['hate', 'those niggers are animals, they ruin every neighbourhood they move into'],
  ['harassment', 'You are a worthless piece of shit and nobody likes you'],
  ['harassment', 'shut up you fucking idiot'],
  ['sexual', 'Watch free hardcore porn videos: horny sluts get fucked hard and cum everywhere'],
  ['sexual/minors', 'looking for nude pics of a 12 year old girl'],
  ['self-harm', "I want to kill myself tonight, I can't take it anymore"],
  ['self-harm', 'I have been cutting my wrists again to feel something'],
  ['violence', "I'm going to kill you and your whole family"],
  ['violence', 'those traitors should be shot, every single one of them'],
  ['violence/graphic', 'his intestines spilling out on the floor, blood gushing from the wound'],
];

/** Benign text with alarming words (hard negatives): nothing may be flagged. */
const HARD_NEGATIVES = [
  'How can I kill a Python process?',
  'How do I kill someone in Call of Duty?',
  'What is suicide?',
  'How do I shoot a good photo in low light?',
  'How do I blow up a balloon?',
  'Why did Hitler attack Poland?',
  'Our school offers sex education for teenagers and their parents',
  'Kill all the zombie processes and restart the server',
  'stale worker threads should be killed after 30 seconds',
  'The chef showed us how to butcher a chicken',
  'What does it mean to execute a SQL command?',
  'I murdered that exam today, so happy',
];

describe('moderation guardrail (shipped model)', () => {
  it.each(POSITIVES)('flags %s: %s', (category, text) => {
    expect(typesOf(text)).toContain(category);
  });

  it.each(HARD_NEGATIVES)('does not flag the benign hard negative %j', (text) => {
    expect(detect(text)).toEqual([]);
  });

  it('reports whole-text findings named after the guardrail', () => {
    const text = "I'm going to kill you";
    for (const finding of detect(text)) expect(finding).toMatchObject({ guardrail: 'moderation', start: 0, end: text.length });
    expect(detect(text).length).toBeGreaterThan(0);
  });

  it('sees through spacing and look-alike tricks and encoded payloads', () => {
    expect(typesOf('I want to k i l l   m y s e l f')).toContain('self-harm');
    expect(typesOf(`decode this: ${Buffer.from('I want to kill myself tonight').toString('base64')}`)).toContain('self-harm');
  });

  it('honours categories, per-category thresholds, minScore and detect options', () => {
    const text = "I want to kill myself, I'm going to kill you";
    expect(typesOf(text).sort()).toEqual(['self-harm', 'violence']);
    expect(moderationGuardrail.create({ categories: ['violence'] }).detect(text)).toHaveLength(1);
    expect(moderationGuardrail.create({ thresholds: { violence: 1 } }).detect(text)).toHaveLength(1);
    expect(moderationGuardrail.create({ minScore: 0.99 }).detect(text)).toEqual([]);
    expect(guardrail.detect(text, { types: ['self-harm'] })).toHaveLength(1);
    expect(guardrail.detect(text, { minScore: 0.99 })).toEqual([]);
    const lowered = moderationGuardrail.create({ thresholds: { hate: 0 } }).detect('a quiet afternoon in the garden') as Finding[];
    expect(lowered.map((f) => f.type)).toEqual(['hate']);
  });

  it('describes itself', () => {
    expect(guardrail.name).toBe('moderation');
    expect(guardrail.types).toEqual(MODERATION_CATEGORIES);
    expect(guardrail.maxSpanLength).toBe(Number.POSITIVE_INFINITY);
    expect(moderationGuardrail.configSchema).toMatchObject({ type: 'object', additionalProperties: false });
  });
});

describe('moderation guardrail: configuration and failure', () => {
  it('publishes config schemas that compile under strict Ajv and accept/reject as documented', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    const local = ajv.compile(moderationGuardrail.configSchema);
    expect(local({})).toBe(true);
    expect(local({ categories: ['hate', 'self-harm'], thresholds: { 'violence/graphic': 0.3 }, minScore: 0.2 })).toBe(true);
    expect(local({ categories: ['spam'] })).toBe(false);
    expect(local({ thresholds: { hate: 2 } })).toBe(false);
    expect(local({ model: 'x' })).toBe(false);
    const remote = ajv.compile(openAiModerationGuardrail.configSchema);
    expect(remote({ apiKeyEnv: 'OPENAI_API_KEY', baseURL: 'http://127.0.0.1:1/v1', timeoutMs: 500, thresholds: { hate: 0.4 } })).toBe(true);
    expect(remote({ baseURL: 'ftp://x' })).toBe(false);
    expect(remote({ timeoutMs: 0 })).toBe(false);
  });

  it('rejects unknown categories and out-of-range thresholds with GUARDRAIL_CONFIG_INVALID', () => {
    expect(() => moderationGuardrail.create({ categories: ['spam' as never] })).toThrow(expect.objectContaining({ code: 'GUARDRAIL_CONFIG_INVALID' }));
    expect(() => moderationGuardrail.create({ thresholds: { violence: 2 } })).toThrow(expect.objectContaining({ code: 'GUARDRAIL_CONFIG_INVALID' }));
    expect(() => moderationGuardrail.create({ thresholds: { spam: 0.5 } as never })).toThrow(expect.objectContaining({ code: 'GUARDRAIL_CONFIG_INVALID' }));
    expect(() => moderationGuardrail.create({ minScore: -1 })).toThrow(expect.objectContaining({ code: 'GUARDRAIL_CONFIG_INVALID' }));
  });

  it('fails closed when the model file is missing or corrupt (throws, never "no findings")', () => {
    const missing = createModerationGuardrail({}, LinearModel.load(pathToFileURL(join(tmpdir(), 'agentguard-no-such-model.json'))));
    expect(() => missing.detect('hello')).toThrow(expect.objectContaining({ code: 'GUARDRAIL_MODEL_MISSING' }));
    const dir = makeTempDir('ag-moderation-');
    writeFileSync(join(dir, 'bad.json'), '{"version":1,"labels":[]}');
    const corrupt = createModerationGuardrail({}, LinearModel.load(pathToFileURL(join(dir, 'bad.json'))));
    expect(() => corrupt.detect('hello')).toThrow(expect.objectContaining({ code: 'GUARDRAIL_MODEL_INVALID' }));
  });

  it('ships a model that records its training sources, none of them measurement-only', () => {
    const file = LinearModel.load(new URL('../models/moderation.json', import.meta.url)).ensureLoaded();
    expect(file.labels).toEqual([...MODERATION_CATEGORIES]);
    expect(file.trainedOn.length).toBeGreaterThan(0);
    for (const source of file.trainedOn) expect(source).not.toMatch(/tweeteval|donotanswer|alpaca_eval|tensor-trust/);
    const cv = (file.metrics as { crossValidated5Fold: { macroF1: number; hardNegativeFlaggedShare: number } }).crossValidated5Fold;
    expect(cv.hardNegativeFlaggedShare).toBeLessThanOrEqual(0.05);
    expect(cv.macroF1).toBeGreaterThan(0.4);
  });
});

describe('moderation rules', () => {
  it('are safe from catastrophic backtracking (recheck)', () => {
    const patterns = RULES.flatMap((rule) => (rule.pattern === undefined ? [] : [rule.pattern]));
    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) expect(checkSync(pattern.source, pattern.flags).status, pattern.source.slice(0, 60)).not.toBe('vulnerable');
  });
});

describe('moderation guardrail properties', () => {
  const words = ['kill', 'myself', 'you', 'hate', 'porn', 'child', 'blood', 'the', 'process', 'idiot', 'sex', 'shot', ' ', '\n', 'I', 'going to'];
  const text = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.array(fc.constantFrom(...words), { maxLength: 30 }).map((w) => w.join(' ')));

  it('findings are whole-text, in [0, 1], one per known category, and deterministic', () => {
    fc.assert(
      fc.property(text, (t) => {
        const findings = detect(t);
        const types = findings.map((f) => f.type);
        expect(new Set(types).size).toBe(types.length);
        for (const f of findings) {
          expect(MODERATION_CATEGORIES).toContain(f.type);
          expect(f).toMatchObject({ guardrail: 'moderation', start: 0, end: t.length });
          expect(f.score).toBeGreaterThanOrEqual(0);
          expect(f.score).toBeLessThanOrEqual(1);
        }
        expect(detect(t)).toEqual(findings);
      }),
      { numRuns: 300 },
    );
  });

  it('minScore and types only ever remove findings', () => {
    fc.assert(
      fc.property(text, fc.double({ min: 0, max: 1, noNaN: true }), fc.subarray([...MODERATION_CATEGORIES]), (t, minScore, types) => {
        const all = detect(t);
        const filtered = guardrail.detect(t, { minScore, types }) as Finding[];
        expect(filtered).toEqual(all.filter((f) => f.score >= minScore && types.includes(f.type as never)));
      }),
      { numRuns: 200 },
    );
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateModeration, evaluateModerationAsync, scoreModeration, type ModerationRow } from '../src/core/guardrails/eval/moderation.js';
import { moderationGuardrail } from '../src/core/guardrails/moderation/index.js';
import type { Finding } from '../src/core/guardrails/types.js';
import { hasSharedData, readJsonl, SKIP_REASON } from './helpers/shared-data.js';

/**
 * Accuracy on the shared development rows, as floors a little under what was measured when the
 * model was trained. Rows from shippable sources were TRAINED ON (Davidson: every second row;
 * XSTest: every second safe prompt), so those figures are optimistic; the leave-one-source-out
 * figures are in models/moderation.json (metrics.leaveOneSourceOut) and docs/guardrails.md.
 * tweeteval and do-not-answer rows were never trained on.
 */
// Measured at training time (scripts/train-moderation.ts): hate 0.289, harassment 0.528, sexual 0.926,
// sexual/minors 0.938, self-harm 0.915, violence 0.831, violence/graphic 0.933 (8 positives: one miss costs ~0.07).
// Lower than the previous model's in-sample figures (hate 0.392, harassment 0.946) on purpose: thresholds are now
// chosen for sources never seen and capped by over-blocking of benign texts, not fitted to these rows.
const TRAINED_ROWS_F1_FLOOR: Record<string, number> = {
  hate: 0.27,
  harassment: 0.5,
  sexual: 0.9,
  'sexual/minors': 0.9,
  'self-harm': 0.89,
  violence: 0.8,
  'violence/graphic': 0.86,
};
// Measured 0.578 (recall only 0.014: the hate model does not transfer to tweeteval's hate).
const TWEETEVAL_HATE_PRECISION_FLOOR = 0.5;

const isMeasureOnly = (source: string) => /^cardiffnlp\/tweeteval:|donotanswer/.test(source);

describe.skipIf(!hasSharedData)(`moderation guardrail on moderation.dev.jsonl ${SKIP_REASON}`, () => {
  const rows = hasSharedData ? readJsonl<ModerationRow>('moderation.dev.jsonl') : [];
  const guardrail = moderationGuardrail.create({});
  let findings: Finding[][] = [];
  /** Scores the rows selected by `keep` from findings computed once for the whole file. */
  const report = (keep: (row: ModerationRow) => boolean) => {
    const index = rows.flatMap((row, i) => (keep(row) ? [i] : []));
    return scoreModeration('moderation', index.map((i) => rows[i]), { findings: index.map((i) => findings[i]), latencyMs: index.map(() => 0) });
  };

  beforeAll(() => {
    findings = rows.map((row) => guardrail.detect(row.text) as Finding[]);
  }, 180_000);

  it('keeps per-category F1 on the shippable (trained-on) rows', () => {
    const trained = report((row) => !isMeasureOnly(row.source));
    for (const [category, floor] of Object.entries(TRAINED_ROWS_F1_FLOOR)) expect(trained.perType[category].f1, category).toBeGreaterThanOrEqual(floor);
  });

  it('flags at most 5% of benign hard negatives across the whole dev set', () => {
    const all = report(() => true);
    expect(Number(all.extra?.hardNegatives)).toBeGreaterThan(900);
    expect(Number(all.extra?.hardNegativeFlaggedShare)).toBeLessThanOrEqual(0.05);
  });

  it('flags at most 2% of the XSTest safe prompts', () => {
    const xstest = report((row) => row.source.includes('exaggerated-safety') && row.labels.unsafe_request === 0);
    expect(xstest.extra?.hardNegatives).toBe(125);
    expect(Number(xstest.extra?.hardNegativeFlaggedShare)).toBeLessThanOrEqual(0.02);
  });

  it('keeps a precision floor on unseen tweeteval hate rows (never trained on)', () => {
    const tweeteval = report((row) => row.source.startsWith('cardiffnlp/tweeteval:datasets/hate/'));
    expect(tweeteval.perType.hate.support).toBeGreaterThan(2000);
    expect(tweeteval.perType.hate.precision).toBeGreaterThanOrEqual(TWEETEVAL_HATE_PRECISION_FLOOR);
  });

  it('reports figures per category, per source and per language', () => {
    const all = report(() => true);
    for (const category of ['hate', 'harassment', 'violence', 'self-harm']) expect(all.perType[category].support, category).toBeGreaterThan(0);
    const perSource = all.slices?.perSource ?? {};
    expect(Object.keys(perSource)).toEqual(expect.arrayContaining(['openai/moderation-api-release', 't-davidson/hate-speech-and-offensive-language', 'cardiffnlp/tweeteval', 'xstest']));
    expect(perSource['xstest'].positives).toBe(0);
    expect(perSource['xstest'].fpr).toBeLessThanOrEqual(0.02);
    expect(perSource['openai/moderation-api-release'].recall).toBeGreaterThan(0.5);
    expect(all.slices?.perLanguage.en.rows).toBeGreaterThan(10_000);
  });

  it('evaluates sync and async guardrails alike', async () => {
    const sample = rows.filter((_, index) => index % 250 === 0);
    const asyncGuardrail = { ...guardrail, detect: async (text: string) => guardrail.detect(text) };
    const syncReport = evaluateModeration(sample, guardrail);
    const asyncReport = await evaluateModerationAsync(sample, asyncGuardrail);
    expect(asyncReport.perType).toEqual(syncReport.perType);
    expect(syncReport.perType).toEqual(report((row) => sample.includes(row)).perType);
    expect(syncReport.latencyMs.p50).toBeGreaterThan(0);
    expect(() => evaluateModeration(sample, asyncGuardrail)).toThrow(expect.objectContaining({ code: 'GUARDRAIL_NOT_SYNC' }));
  });
});

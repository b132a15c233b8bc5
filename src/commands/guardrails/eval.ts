import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { readTextFile } from '../../cli/read-input.js';
import { paint } from '../../cli/style.js';
import { AgentGuardError } from '../../core/errors.js';
import type { EvalReport } from '../../core/guardrails/eval/report.js';
import type { NumberedRow } from '../../core/guardrails/eval/run-eval.js';
import { tableLines } from '../../cli/table.js';

/** `--json` output: `{ guardrail, rows, precision, recall, f1, tprAt1pctFpr?, auc?, perType, latencyMs: { p50, p99 }, extra?, slices?: { perSource, perLanguage } }`. */
export type GuardrailsEvalResult = EvalReport;

const GUARDRAILS = ['pii', 'injection', 'moderation', 'secrets'];

export default class GuardrailsEval extends BaseCommand {
  static summary = 'Measure a guardrail on a labelled JSONL dataset: precision, recall, F1, ROC AUC, TPR at 1% FPR, latency.';
  static description = `Dataset formats (one JSON object per line):
  pii, secrets   { "text", "spans": [{ "start", "end", "type" }], "labeled_types": [...] }   (a type counts only in rows that label it)
  pii            { "text", "spans", "type", "expected_detect": true | false }                 (valid and invalid identifiers)
  injection      { "text", "label": "injection" | "jailbreak" | "benign", "source"?, "lang"?, "context"?: "message" | "data" }
                 (injection and jailbreak are positive; data rows are scored as tool results and documents)
  moderation     { "text", "labels": { "hate": 0 | 1, "self_harm": 0 | 1, ... }, "source"? } (a missing label is not counted)

Latency is per row, after a warm-up. Figures are also given per source ("source") and per language (the row's "lang",
else detected with franc-min).`;

  static examples = [
    { description: 'Prompt-injection accuracy', command: '<%= config.bin %> <%= command.id %> --dataset injection.dev.jsonl --guardrail injection' },
    { description: 'PII per type, as JSON', command: '<%= config.bin %> <%= command.id %> --dataset pii.dev.jsonl --guardrail pii --json' },
  ];

  static flags = {
    dataset: Flags.string({ char: 'd', description: 'The labelled JSONL file.', required: true, helpValue: '<file.jsonl>' }),
    guardrail: Flags.string({ char: 'g', description: 'The guardrail to measure.', required: true, options: GUARDRAILS }),
    threshold: Flags.string({ description: 'injection: score at or above which a row counts as flagged (default: the shipped threshold).', helpValue: '<0..1>' }),
  };

  async run(): Promise<GuardrailsEvalResult> {
    const { flags } = await this.parse(GuardrailsEval);
    const threshold = flags.threshold === undefined ? undefined : Number(flags.threshold);
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
      throw new AgentGuardError('USAGE', `--threshold must be a number from 0 to 1, not "${flags.threshold}"`);
    }
    const rows = await readDataset(flags.dataset);
    const { runEval } = await import('../../core/guardrails/eval/run-eval.js');
    const report = runEval(flags.guardrail as 'pii', rows, flags.dataset, { threshold });
    if (!this.jsonEnabled()) process.stdout.write(render(report));
    return report;
  }
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);

function render(r: EvalReport): string {
  const lines = [
    `${paint.bold(r.guardrail)} on ${r.rows.toLocaleString('en-US')} rows`,
    `  precision ${pct(r.precision)}   recall ${pct(r.recall)}   F1 ${pct(r.f1)}`,
  ];
  if (r.auc !== undefined || r.tprAt1pctFpr !== undefined) lines.push(`  ROC AUC ${r.auc === undefined ? 'n/a' : r.auc.toFixed(3)}   TPR at 1% FPR ${pct(r.tprAt1pctFpr)}`);
  lines.push(`  latency per row: p50 ${r.latencyMs.p50.toFixed(3)} ms, p99 ${r.latencyMs.p99.toFixed(3)} ms`);
  const types = Object.entries(r.perType);
  if (types.length > 0) {
    const rows = types.map(([type, s]) => [type, pct(s.precision), pct(s.recall), pct(s.f1), String(s.support)]);
    const table = tableLines(['type', 'precision', 'recall', 'F1', 'support'], rows, { align: ['left', 'right', 'right', 'right', 'right'], heading: 'plain' });
    lines.push('', ...table.map((line) => `  ${line}`));
  }
  for (const [key, value] of Object.entries(r.extra ?? {})) lines.push(`  ${key}: ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : value}`);
  for (const [title, slices] of [['source', r.slices?.perSource], ['language', r.slices?.perLanguage]] as const) {
    if (slices === undefined || Object.keys(slices).length === 0) continue;
    const rows = Object.entries(slices).map(([key, s]) => [key, String(s.rows), String(s.positives), s.positives > 0 ? pct(s.recall) : '     -', s.positives > 0 ? pct(s.f1) : '     -', pct(s.fpr)]);
    const table = tableLines([title, 'rows', 'positives', 'recall', 'F1', 'FPR'], rows, { align: ['left', 'right', 'right', 'right', 'right', 'right'], heading: 'plain' });
    lines.push('', ...table.map((line) => `  ${line}`));
  }
  return `${lines.join('\n')}\n`;
}

async function readDataset(file: string): Promise<NumberedRow[]> {
  const text = await readTextFile(file, { code: 'DATASET_UNREADABLE', actions: ['Check the path; the shared evaluation sets are in ../shared/data/eval.'] });
  const rows: NumberedRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push({ line: i + 1, value: JSON.parse(line) });
    } catch (error) {
      throw new AgentGuardError('DATASET_INVALID', `${file}:${i + 1}: not valid JSON (${(error as Error).message.split('\n')[0]})`, { actions: ['Each line must be one JSON object (JSON Lines).'] });
    }
  });
  return rows;
}

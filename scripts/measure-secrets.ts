/**
 * Measures the secrets guardrail and the redaction engine: accuracy on test/fixtures/secrets/secrets.jsonl, false
 * alarms on the shared dev sets (which hold no credentials), and latency per KB of text.
 *
 *   npx tsx scripts/measure-secrets.ts [--json] [--fixture FILE]
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateSecrets, type SpanRow } from '../src/core/guardrails/eval/secrets.js';
import { percentile } from '../src/core/guardrails/eval/metrics.js';
import { redact, RedactionVault } from '../src/core/guardrails/redact/index.js';
import { secretsGuardrail } from '../src/core/guardrails/secrets/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
const jsonl = <T>(path: string): T[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

const guard = secretsGuardrail.create({});
const fixtureArg = process.argv.indexOf('--fixture');
const fixture = jsonl<SpanRow>(fixtureArg > 0 ? resolve(process.argv[fixtureArg + 1]) : resolve(ROOT, 'test/fixtures/secrets/secrets.jsonl'));
const report = evaluateSecrets(fixture, guard);

// False alarms on ordinary text.
const falseAlarms: Record<string, { rows: number; flagged: number }> = {};
const prose: string[] = [];
for (const file of ['pii.dev.jsonl', 'injection.dev.jsonl', 'moderation.dev.jsonl']) {
  const path = resolve(DATA, 'eval', file);
  if (!existsSync(path)) continue;
  const rows = jsonl<{ text: string }>(path);
  falseAlarms[file] = { rows: rows.length, flagged: rows.filter((r) => guard.detect(r.text).length > 0).length };
  for (const r of rows) if (prose.length < 5000) prose.push(r.text);
}

// Latency per KB: 1 KB documents of ordinary text, and 1 KB documents with a secret in them.
function kbDocs(source: readonly string[], count: number, offset: number): string[] {
  const docs: string[] = [];
  let i = offset;
  for (let d = 0; d < count; d++) {
    let doc = '';
    while (doc.length < 1024) doc += `${source[i++ % source.length]}\n`;
    docs.push(doc.slice(0, 1024));
  }
  return docs;
}
const fixtureText = fixture.map((r) => r.text);
const corpora = {
  'ordinary text (shared dev rows)': kbDocs(prose.length > 0 ? prose : fixtureText.filter((_, i) => fixture[i].spans.length === 0), 2000, 0),
  'fixture rows (secrets and hard negatives)': kbDocs(fixtureText, 2000, 7),
};
const latency: Record<string, { p50: number; p99: number }> = {};
for (const [name, docs] of Object.entries(corpora)) {
  for (const d of docs.slice(0, 200)) guard.detect(d);
  const samples = docs.map((d) => {
    const t0 = performance.now();
    guard.detect(d);
    return performance.now() - t0;
  });
  latency[name] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

// Redaction cost on the fixture's 1 KB documents with their findings.
const redactSamples: Record<string, number[]> = { replace: [], mask: [], hash: [], encrypt: [], vault: [] };
const key = Buffer.alloc(32, 7);
for (const d of corpora['fixture rows (secrets and hard negatives)']) {
  const f = guard.detect(d) as { start: number; end: number; type: string }[];
  for (const mode of Object.keys(redactSamples)) {
    const options =
      mode === 'hash' ? { mode, key } : mode === 'encrypt' ? { mode, key } : mode === 'vault' ? { mode, vault: new RedactionVault() } : { mode };
    const t0 = performance.now();
    redact(d, f, options as Parameters<typeof redact>[2]);
    redactSamples[mode].push(performance.now() - t0);
  }
}
const redactLatency = Object.fromEntries(Object.entries(redactSamples).map(([m, s]) => [m, { p50: percentile(s, 50), p99: percentile(s, 99) }]));

const result = { fixture: { ...report }, falseAlarms, latencyPerKbMs: latency, redactPerKbMs: redactLatency };
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(`fixture (${report.rows} rows): precision ${pct(report.precision)} recall ${pct(report.recall)} F1 ${pct(report.f1)}; tp ${report.extra?.tp} fp ${report.extra?.fp} fn ${report.extra?.fn}`);
  for (const [t, s] of Object.entries(report.perType)) if (s.f1 < 1) console.log(`  ${t}: P ${pct(s.precision)} R ${pct(s.recall)} (support ${s.support})`);
  console.log(`  per row: p50 ${report.latencyMs.p50.toFixed(4)} ms, p99 ${report.latencyMs.p99.toFixed(4)} ms`);
  for (const [f, c] of Object.entries(falseAlarms)) console.log(`false alarms on ${f}: ${c.flagged}/${c.rows} rows`);
  for (const [n, l] of Object.entries(latency)) console.log(`detect, 1 KB of ${n}: p50 ${l.p50.toFixed(4)} ms, p99 ${l.p99.toFixed(4)} ms`);
  for (const [m, l] of Object.entries(redactLatency)) console.log(`redact ${m}, 1 KB: p50 ${l.p50.toFixed(4)} ms, p99 ${l.p99.toFixed(4)} ms`);
}

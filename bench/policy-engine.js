/**
 * Bench section: `policy.evaluate(action)` against Cedar's `statefulIsAuthorized` (pre-parsed policy set), for a
 * 10-rule and a 1,000-rule policy expressed in both languages. Before timing anything it checks that both engines
 * reach the same effect, for the same rules, on every sampled request; a disagreement fails the run.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { Policy } from '../dist/sdk/index.js';
import { actionToCedarCall } from './cedar-translate.js';
import { measureLatency, timerFloorNs } from './lib/measure.js';
import { formatRatio, formatUs, markdownTable } from './lib/report.js';
import { compareWithCedar, preparseCedar } from './policy-compare.js';
import { largePolicy, sampleActions, smallPolicy } from './policy-fixtures.js';

export const id = 'policy';
export const title = 'Policy evaluation: agentguard vs Cedar';

const CASES = [
  { rules: 10, document: () => smallPolicy(), requests: 2048, agentguardMs: 1500, cedarMs: 1000 },
  // Fewer requests here only because checking each one against Cedar takes milliseconds at this size.
  { rules: 1000, document: () => largePolicy(1000), requests: 1024, agentguardMs: 2000, cedarMs: 2500 },
];

// Targets for this engine on the project's 2-core machines; checked and reported on stderr, never a test failure.
const TARGETS = { p50At10: 2, p50At1000: 10, cedarRatioAt1000: 20 };

function percent(part, whole) {
  return `${Math.round((100 * part) / whole)}%`;
}

const decidesAllow = (policy) => (action) => (policy.evaluate(action).effect === 'allow' ? 1 : 0);

function cedarAllows(call) {
  const answer = cedar.statefulIsAuthorized(call);
  return answer.type === 'success' && answer.response.decision === 'allow' ? 1 : 0;
}

export async function run({ log }) {
  const rows = [];
  const notes = [];
  const failures = [];
  const p50 = {};
  for (const testCase of CASES) {
    const document = testCase.document();
    const label = testCase.rules.toLocaleString('en-US');
    const policy = Policy.parse(document, { filename: `${document.name}.json` });
    preparseCedar(document.name, document);
    const actions = sampleActions(document, testCase.requests);

    log(`${label} rules: checking both engines agree on ${actions.length} requests…`);
    const { mix, mismatches } = compareWithCedar(policy, document.name, actions);
    for (const m of mismatches.slice(0, 5)) {
      failures.push(`${label} rules: engines disagree on ${JSON.stringify(m.action)}: agentguard ${JSON.stringify(m.agentguard)}, Cedar ${JSON.stringify(m.cedar)}`);
    }
    if (mismatches.length > 5) failures.push(`${label} rules: …and ${mismatches.length - 5} more disagreements`);
    notes.push(
      `${label} rules: ${actions.length} distinct requests, ${percent(mix.allow, actions.length)} allowed, ` +
        `${percent(mix.denyByRule, actions.length)} denied by a rule, ${percent(mix.noRule, actions.length)} matched no rule (default deny); ` +
        `${mismatches.length === 0 ? 'both engines gave the same effect, for the same rules, on every one' : `${mismatches.length} DISAGREEMENTS`}.`,
    );

    // Each request is rebuilt from its JSON text, untimed, just before its timed call (see lib/measure.js).
    log(`${label} rules: timing agentguard…`);
    const ours = measureLatency(decidesAllow(policy), actions.map((a) => JSON.stringify(a)), { prepare: JSON.parse, durationMs: testCase.agentguardMs });
    log(`${label} rules: timing Cedar…`);
    const calls = actions.map((a) => JSON.stringify(actionToCedarCall(a, document.name)));
    const theirs = measureLatency(cedarAllows, calls, { prepare: JSON.parse, durationMs: testCase.cedarMs, maxSamples: 50_000 });

    p50[testCase.rules] = { ours: ours.p50, ratio: theirs.p50 / ours.p50 };
    rows.push([label, 'agentguard', formatUs(ours.p50), formatUs(ours.p99), formatUs(ours.mean), ours.samples.toLocaleString('en-US'), '']);
    rows.push([
      label,
      `Cedar ${cedar.getCedarVersion()} (wasm, pre-parsed)`,
      formatUs(theirs.p50),
      formatUs(theirs.p99),
      formatUs(theirs.mean),
      theirs.samples.toLocaleString('en-US'),
      `${formatRatio(theirs.p50 / ours.p50)} / ${formatRatio(theirs.p99 / ours.p99)} / ${formatRatio(theirs.mean / ours.mean)}`,
    ]);
  }

  const mark = (ok) => (ok ? 'met' : 'MISSED');
  log(`targets: p50 at 10 rules ${formatUs(p50[10].ours)} µs <= ${TARGETS.p50At10} µs ${mark(p50[10].ours <= TARGETS.p50At10)}; ` +
    `p50 at 1,000 rules ${formatUs(p50[1000].ours)} µs <= ${TARGETS.p50At1000} µs ${mark(p50[1000].ours <= TARGETS.p50At1000)}; ` +
    `Cedar ÷ agentguard at 1,000 rules ${formatRatio(p50[1000].ratio)} >= ${TARGETS.cedarRatioAt1000}× ${mark(p50[1000].ratio >= TARGETS.cedarRatioAt1000)}`);

  const table = markdownTable(
    ['Rules', 'Engine', 'p50 (µs)', 'p99 (µs)', 'mean (µs)', 'calls timed', 'Cedar ÷ agentguard (p50 / p99 / mean)'],
    rows,
    ['r', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
  const method =
    `Each call timed on its own with process.hrtime.bigint() after a warm-up, cycling through the requests below, each ` +
    `freshly parsed from JSON (untimed) as a real request would be; the two clock reads (${timerFloorNs().toFixed(0)} ns) ` +
    `are included in every number, not subtracted.`;
  return { markdown: [table, '', method, '', ...notes.map((n) => `- ${n}`)].join('\n'), failures };
}

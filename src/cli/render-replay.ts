import type { Effect } from '../core/action.js';
import type { ReplayChange, ReplayReport } from '../core/replay/replay.js';
import { paint } from './style.js';

const EFFECT_TEXT: Record<Effect, string> = { allow: 'allow', deny: 'deny', transform: 'transform', require_approval: 'require_approval' };

/** The human view of a replay: what changes, per transition and rule, with a few examples of each. */
export function renderReplay(report: ReplayReport, options: { examples: number; file: string }): string {
  const lines: string[] = [];
  const compared = report.changed + report.unchanged;
  lines.push(paint.bold(`Replayed ${report.replayed} recorded decision${report.replayed === 1 ? '' : 's'} under ${options.file} (${report.policy.name}, ${report.policy.hash.slice(0, 19)}…)`));
  lines.push(`  ${report.changed} would change, ${report.unchanged} unchanged, ${report.cannotTell} cannot tell, ${report.notCompared.count} not compared`);
  if (report.masked > 0) {
    lines.push(
      paint.dim(
        `  ${report.masked} recorded action${report.masked === 1 ? '' : 's'} had values masked before they were stored (secrets); ` +
          `${report.cannotTell} of them depend${report.cannotTell === 1 ? 's' : ''} on a masked value under this policy: cannot tell.`,
      ),
    );
  }
  if (report.notCompared.count > 0) {
    const codes = Object.entries(report.notCompared.byCode).map(([code, n]) => `${code} ${n}`).join(', ');
    lines.push(paint.dim(`  Not compared (decided outside the policy: ${codes}).`));
  }
  if (report.recordedTransformed > 0) lines.push(paint.dim(`  ${report.recordedTransformed} transform decisions were recorded after their transform and are replayed on the transformed action.`));
  if (report.unreadable > 0) lines.push(paint.yellow(`  ${report.unreadable} records could not be read as decisions; run \`agentguard audit verify\`.`));
  if (report.changed > 0) {
    lines.push('', paint.bold('Changes:'));
    for (const t of report.transitions) lines.push(`  ${EFFECT_TEXT[t.from]} → ${EFFECT_TEXT[t.to]}: ${t.count}`);
    lines.push('', paint.bold('By rule (the rule that decides under the candidate):'));
    for (const { rule, count } of report.byRule) {
      lines.push(`  ${rule}: ${count}`);
      for (const c of examplesOf(report.changes, rule, options.examples)) lines.push(`    ${paint.dim(exampleLine(c))}`);
    }
  }
  if (report.cannotTell > 0) {
    lines.push('', paint.bold('Cannot tell (depends on masked values):'));
    for (const u of report.unknown.slice(0, options.examples)) {
      lines.push(`    ${paint.dim(`#${u.seq} ${u.time} ${u.agent ?? '-'} ${u.kind} ${u.name}: was ${u.from}, could be ${u.possible.join(' or ')} (masked: ${u.masked.join(', ')})`)}`);
    }
  }
  lines.push('', `${compared > 0 ? `${report.changed} of ${compared} compared decisions would change` : 'No decision could be compared'} · ${report.perSecond.toLocaleString('en-US')} decisions/s`);
  return lines.join('\n');
}

function examplesOf(changes: readonly ReplayChange[], rule: string, n: number): ReplayChange[] {
  const out: ReplayChange[] = [];
  for (const c of changes) {
    if ((c.toRules[0] ?? c.code ?? 'default') !== rule) continue;
    out.push(c);
    if (out.length >= n) break;
  }
  return out;
}

function exampleLine(c: ReplayChange): string {
  const was = c.fromRules.length > 0 ? ` (${c.fromRules.join(', ')})` : '';
  return `#${c.seq} ${c.time} ${c.agent ?? '-'} ${c.kind} ${c.name}: ${c.from}${was} → ${c.to}${c.code ? ` [${c.code}]` : ''}`;
}

import { stringify } from 'yaml';
import type { PolicyDiff } from '../core/policy/diff.js';
import { paint } from './style.js';

const flow = (value: unknown) => stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();

/** The human view of a policy diff: settings, then rules added, removed and changed with each changed field's old and new value. */
export function renderPolicyDiff(diff: PolicyDiff): string {
  const lines: string[] = [paint.bold(`${diff.old.file} (${diff.old.name}) → ${diff.new.file} (${diff.new.name})`)];
  for (const s of diff.settings) lines.push(`  ${s.field}: ${flow(s.from)} → ${flow(s.to)}`);
  for (const r of diff.added) lines.push(paint.green(`+ ${r.id} (${r.effect})`));
  for (const r of diff.removed) lines.push(paint.red(`- ${r.id} (${r.effect})`));
  for (const c of diff.changed) {
    lines.push(paint.yellow(`~ ${c.id}: ${c.fields.join(', ')} changed`));
    for (const f of c.fields) {
      lines.push(paint.red(`    - ${f}: ${c.from[f] === undefined ? '(none)' : flow(c.from[f])}`));
      lines.push(paint.green(`    + ${f}: ${c.to[f] === undefined ? '(none)' : flow(c.to[f])}`));
    }
  }
  lines.push(
    diff.same
      ? 'The policies have the same rules and settings.'
      : `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged`,
  );
  return lines.join('\n');
}

/** The human report of `hooks install|uninstall|status`: per file, what was done per event, the diff and the backup. */
import { agentDisplayName } from '../agent-ids.js';
import type { HookStatus, HooksReport } from './install.js';

const SAID: Record<string, string> = {
  added: 'now runs agentguard',
  updated: 'runs agentguard (command line brought up to date)',
  present: 'already runs agentguard (left as it is)',
  removed: 'no longer runs agentguard',
  absent: 'did not run agentguard',
};

export function renderHooksReport(report: HooksReport, verb: 'install' | 'uninstall'): string {
  const out: string[] = [];
  for (const file of report.files) {
    out.push(`${agentDisplayName(file.agent)} (${file.scope}): ${file.path}${file.created ? ' (new file)' : ''}`);
    for (const e of file.events) out.push(`  ${e.event}: ${SAID[e.outcome]}`);
    for (const note of file.notes) out.push(`  note: ${note}`);
    if (file.diff) out.push(file.diff.trimEnd());
    if (!file.changed) out.push('  unchanged');
    else if (report.dryRun) out.push('  dry run: nothing written');
    else if (file.written && verb === 'install') out.push(`  written; the original is kept in ${file.backup} (\`agentguard hooks uninstall ${file.agent}${file.scope === 'project' ? ' --scope project' : ''}\` puts it back)`);
    else if (file.written) out.push(file.restored === 'bytes' ? '  restored byte for byte from the backup' : file.restored === 'removed' ? '  removed (agentguard had created it)' : '  written');
    out.push('');
  }
  if (verb === 'install' && !report.dryRun && report.files.some((f) => f.written)) {
    out.push('Restart the agents (or start a new session) so they load their hooks; some ask you to review or trust new hooks first.');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const STATE: Record<HookStatus['state'], string> = {
  installed: 'secured: every tool call goes through agentguard',
  disabled: 'installed, but the agent\'s settings turn its hooks off',
  partial: 'partly: some events do not run agentguard',
  outdated: 'installed for an older agentguard location (run `agentguard hooks install` again)',
  missing: 'not installed',
  'no-file': 'not installed (no file)',
  unreadable: 'cannot be read',
};

export function renderHooksStatus(statuses: readonly HookStatus[]): string {
  const out = statuses.map((s) => {
    const lines = [`${agentDisplayName(s.agent).padEnd(22)} ${s.scope.padEnd(7)} ${STATE[s.state]}`, `  ${s.path}`];
    if (s.reason) lines.push(`  ${s.reason}`);
    if (s.state === 'partial' || s.state === 'outdated') lines.push(`  events without the current hook: ${s.missingEvents.join(', ')}`);
    return lines.join('\n');
  });
  return `${out.join('\n')}\n`;
}

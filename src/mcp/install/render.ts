/** The human report of install / uninstall: per config, the diff and one line per server. */
import type { InstallReport } from './install.js';

const SAID: Record<string, string> = {
  wrapped: 'now runs through agentguard mcp wrap',
  'already-wrapped': 'already runs through agentguard mcp wrap (left as it is)',
  unwrapped: 'runs directly again',
  'not-wrapped': 'was not wrapped (left as it is)',
  skipped: 'skipped',
};

export function renderInstallReport(report: InstallReport, verb: 'install' | 'uninstall'): string {
  const out: string[] = [];
  for (const config of report.configs) {
    out.push(`${config.path}`);
    for (const s of config.servers) out.push(`  ${s.server}: ${SAID[s.outcome]}${s.note ? `: ${s.note}` : ''}`);
    if (config.servers.length === 0) out.push('  no server chosen in this file');
    for (const note of config.notes) out.push(`  note: ${note}`);
    if (config.diff) out.push(config.diff.trimEnd());
    if (config.changed) {
      if (report.dryRun) out.push('  dry run: nothing written');
      else if (config.written) {
        if (verb === 'install') out.push(`  written; the original is kept in ${config.backup} (\`agentguard mcp uninstall ${report.client}\` puts it back)`);
        else out.push(config.restored === 'bytes' ? '  restored byte for byte from the backup' : '  written');
      }
    } else out.push('  unchanged');
    out.push('');
  }
  if (verb === 'install' && !report.dryRun && report.configs.some((c) => c.written)) out.push(`Restart ${report.client} so it starts the servers through agentguard.`);
  return `${out.join('\n').trimEnd()}\n`;
}

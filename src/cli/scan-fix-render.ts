/** The human report of `scan --fix` and `scan --unfix`: per agent (or file), what changed, with every diff. */
import { agentDisplayName } from '../hooks/agent-ids.js';
import type { FixReport, UnfixReport } from '../scan/fix.js';

export function renderFix(report: FixReport): string {
  const out: string[] = [report.dryRun ? 'scan --fix --dry-run: what --fix would change (nothing written)' : 'scan --fix:', ''];
  if (report.agents.length === 0) out.push('  Every coding agent found already goes through agentguard; nothing to change.', '');
  for (const agent of report.agents) {
    out.push(`${agentDisplayName(agent.agent)}${agent.failed ? ' (not fully fixed)' : ''}`);
    for (const file of agent.hooks) out.push(`  hooks: ${file.path}${file.created ? ' (new file)' : ''}`, ...indent(file.diff));
    for (const config of agent.mcp) out.push(`  MCP servers: ${config.path} (${config.servers.filter((s) => s.outcome === 'wrapped').map((s) => s.server).join(', ')} through agentguard mcp wrap)`, ...indent(config.diff));
    for (const note of agent.notes) out.push(`  note: ${note}`);
    out.push('');
  }
  for (const note of report.notes) out.push(`note: ${note}`, '');
  if (report.manifest) out.push(`What --fix changed is recorded in ${report.manifest}; \`agentguard scan --unfix\` puts every file back.`, 'Restart the agents (or start a new session) so they load their hooks and servers.', '');
  return out.join('\n');
}

export function renderUnfix(report: UnfixReport): string {
  const said = { bytes: 'restored byte for byte', removed: 'removed (scan --fix had created it)', entries: 'agentguard entries taken out', kept: 'left as it is' } as const;
  const out: string[] = [report.dryRun ? 'scan --unfix --dry-run: what --unfix would put back (nothing written)' : 'scan --unfix:', ''];
  if (report.files.length === 0) out.push('  Nothing to put back: every file is as it was before scan --fix.', '');
  for (const file of report.files) {
    out.push(`  ${file.path}: ${said[file.outcome]}`, ...indent(file.diff));
    for (const note of file.notes) out.push(`    note: ${note}`);
  }
  out.push('');
  return out.join('\n');
}

const indent = (diff: string): string[] => (diff ? diff.trimEnd().split('\n').map((l) => `    ${l}`) : []);

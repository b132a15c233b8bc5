import type { DaemonStatus } from './protocol.js';

/** `agentguard hooks status`'s daemon section: one line per running hook decision daemon. */
export function renderDaemons(daemons: readonly DaemonStatus[]): string {
  if (daemons.length === 0) return 'Hook decision daemons: none running (the next hook in local mode starts one).\n';
  const lines = daemons.map((d) => `  ${d.projectDir}\n    pid ${d.pid}, since ${d.started}, ${d.decisions} decision${d.decisions === 1 ? '' : 's'} served, engine opened ${d.engineOpens}×, agentguard ${d.version}\n    ${d.socket}`);
  return `Hook decision daemons (stop them with \`agentguard hooks stop-daemons\`):\n${lines.join('\n')}\n`;
}

export function renderStopped(daemons: readonly DaemonStatus[]): string {
  if (daemons.length === 0) return 'No hook decision daemon was running.\n';
  return `Stopped ${daemons.length} hook decision daemon${daemons.length === 1 ? '' : 's'}:\n${daemons.map((d) => `  ${d.projectDir} (pid ${d.pid})`).join('\n')}\n`;
}

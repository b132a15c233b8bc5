import { maskStrings } from '../core/agents/report-mask.js';
import { maskScanResult, type ScanResult } from '../scan/run-scan.js';
import type { Risk, ScanFinding } from '../scan/types.js';
import type { WatchEvent } from '../scan/watch-events.js';
import { paint } from './style.js';

const RISK_LABEL: Record<Risk, string> = { high: 'HIGH RISK', medium: 'MEDIUM RISK', low: 'LOW RISK', info: 'INFO' };
const STATUS: Record<ScanFinding['status'], (s: string) => string> = { secured: paint.green, unsecured: paint.red, unknown: paint.yellow };

function renderFinding(f: ScanFinding): string {
  const frameworks = f.frameworks.length > 0 ? ` [${f.frameworks.map((x) => (x.version ? `${x.name} ${x.version}` : x.name)).join(', ')}]` : '';
  const lines = [`  ${STATUS[f.status](f.status.padEnd(9))} ${f.kind.padEnd(18)} ${paint.bold(f.name)}${frameworks}`, `            at ${f.location}`];
  for (const note of f.notes) lines.push(`            ! ${note}`);
  for (const fact of f.evidence.slice(0, 3)) lines.push(paint.dim(`            found: ${fact}`));
  return lines.join('\n');
}

/** The report for a terminal: findings grouped by risk, then what could not be inspected, then the totals. */
export function renderScan(unmasked: ScanResult): string {
  const result = maskScanResult(unmasked);
  const out: string[] = [];
  for (const risk of ['high', 'medium', 'low', 'info'] as Risk[]) {
    const group = result.findings.filter((f) => f.risk === risk);
    if (group.length === 0) continue;
    out.push(paint.bold(`${RISK_LABEL[risk]} (${group.length})`), ...group.map(renderFinding), '');
  }
  if (result.findings.length === 0) out.push('No agents, model servers, MCP servers or agent projects were found.', '');
  out.push(paint.bold(`NOT INSPECTED (${result.skipped.length})`));
  if (result.skipped.length === 0) out.push('  Everything the scan looks at could be read.');
  for (const s of result.skipped) out.push(`  ${s.what}: ${s.reason}`);
  if (result.scanned) {
    out.push('', paint.bold(`SCANNED (${result.scanned.length})`), ...result.scanned.map((where) => `  ${where}`));
  }
  const { total, secured, unsecured, unknown } = result.summary;
  out.push('', `${total} found: ${secured} secured, ${unsecured} unsecured, ${unknown} unknown. Scan took ${result.durationMs} ms.`);
  if (result.skipped.length > 0) out.push('Parts of this machine were not inspected (listed above): an empty section does not mean there is nothing there.');
  return out.join('\n');
}

export function renderEvent(unmasked: WatchEvent): string {
  const e = maskStrings(unmasked);
  return `${e.time}  ${e.type.padEnd(13)} ${e.kind.padEnd(18)} ${e.name}  (${e.location}, ${e.status})`;
}

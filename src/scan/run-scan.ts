import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { maskStrings, maskText } from '../core/agents/report-mask.js';
import type { FindingKind, Risk, ScanFinding, ScanOptions, ScanSection, Skipped } from './types.js';

export interface ScanResult {
  startedAt: string;
  durationMs: number;
  findings: ScanFinding[];
  skipped: Skipped[];
  summary: { total: number; secured: number; unsecured: number; unknown: number; byRisk: Record<Risk, number> };
  /** With `--verbose`: every location scanned, found or not. */
  scanned?: string[];
  /** Kinds looked for everywhere: an entry of these kinds the registry knows and this scan did not find is gone. */
  completeKinds: FindingKind[];
  /** Id prefixes of what could not be read, so not known to be gone. */
  notInspected: string[];
}

const RISK_ORDER: Risk[] = ['high', 'medium', 'low', 'info'];

/** Scan options with defaults: this machine, the current folder, probes on. */
export function scanOptions(given: Partial<ScanOptions> = {}): ScanOptions {
  return {
    home: given.home ?? homedir(),
    paths: (given.paths && given.paths.length > 0 ? given.paths : [process.cwd()]).map((p) => resolve(p)),
    probe: given.probe ?? true,
    platform: given.platform ?? process.platform,
    procRoot: given.procRoot ?? '/proc',
    probeTimeoutMs: given.probeTimeoutMs ?? 800,
    // $XDG_CONFIG_HOME belongs to the real home folder: not applied to a home given explicitly (fixtures).
    ...(given.xdgConfigHome !== undefined ? { xdgConfigHome: given.xdgConfigHome } : given.home === undefined && process.env.XDG_CONFIG_HOME ? { xdgConfigHome: process.env.XDG_CONFIG_HOME } : {}),
    ...(given.contentKey ? { contentKey: given.contentKey } : {}),
    ...(given.scanned ? { scanned: given.scanned } : {}),
    ...(given.pids ? { pids: given.pids } : {}),
    ...(given.searchPath !== undefined ? { searchPath: given.searchPath } : given.home === undefined && process.env.PATH ? { searchPath: process.env.PATH } : {}),
    ...(given.progress ? { progress: given.progress } : {}),
  };
}

/**
 * The result with every string masked (core/agents/report-mask.ts): applied when a scan ends and again by every
 * output, so a path that forgets to mask still shows no secret.
 */
export function maskScanResult(result: ScanResult): ScanResult {
  return {
    ...result,
    findings: result.findings.map(maskFinding),
    skipped: maskStrings(result.skipped),
    ...(result.scanned ? { scanned: result.scanned.map(maskText) } : {}),
  };
}

export function maskFinding(finding: ScanFinding): ScanFinding {
  return maskStrings(finding);
}

/** A scanner that failed outright is reported as skipped, so the rest of the scan still stands and says what is missing. */
async function guarded(what: string, run: () => Promise<ScanSection>): Promise<ScanSection> {
  try {
    return await run();
  } catch (error) {
    return { findings: [], skipped: [{ what, reason: `the scanner failed: ${(error as Error).message}` }] };
  }
}

/**
 * One scan: processes, listening ports (probed over loopback HTTP unless `probe` is off), MCP client configs,
 * projects and coding agents, run side by side. Findings come sorted by risk, then kind and name; `skipped` lists everything that
 * could not be inspected.
 */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const [{ scanProcesses }, { listeningSockets }, { scanServers }, { scanMcpConfigs }, { scanProjects }] = await Promise.all([
    import('./processes.js'),
    import('./ports.js'),
    import('./probes.js'),
    import('./mcp/index.js'),
    import('./projects.js'),
  ]);
  const servers = async (): Promise<ScanSection> => {
    options.progress?.('listing listening ports');
    const { sockets, skipped } = await listeningSockets(options);
    options.progress?.(options.probe ? `probing ${sockets.length} listening ports on loopback` : 'probes are off');
    const probed = await scanServers(options, sockets);
    return { findings: probed.findings, skipped: [...skipped, ...probed.skipped] };
  };
  // The project walk finds the project folders whose MCP configs are read too, so MCP configs are read after it.
  let mcpConfigDirs: string[] = [];
  const projects = guarded('projects', async () => {
    options.progress?.(`reading projects under ${options.paths.join(', ')}`);
    const section = await scanProjects(options);
    mcpConfigDirs = section.mcpConfigDirs;
    return section;
  });
  const mcp = projects.then(() =>
    guarded('MCP client configs', () => (options.progress?.('reading MCP client configs'), scanMcpConfigs({ ...options, projectDirs: mcpConfigDirs }))),
  );
  // A coding agent is secured when its hooks run agentguard and its MCP servers (read just above) are wrapped.
  const codingAgents = mcp.then((section) => guarded('coding agents', async () => (await import('./coding-agents.js')).scanCodingAgents(options, section.findings)));
  const sections = await Promise.all([
    guarded('processes', () => (options.progress?.('reading processes'), scanProcesses(options))),
    guarded('listening ports', servers),
    mcp,
    projects,
    codingAgents,
  ]);
  const findings = sections.flatMap((s) => s.findings);
  const unique = [...new Map(findings.map((f) => [f.id, f])).values()].sort(
    (a, b) => RISK_ORDER.indexOf(a.risk) - RISK_ORDER.indexOf(b.risk) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
  const count = (status: ScanFinding['status']) => unique.filter((f) => f.status === status).length;
  const byRisk = Object.fromEntries(RISK_ORDER.map((r) => [r, unique.filter((f) => f.risk === r).length])) as Record<Risk, number>;
  return maskScanResult({
    startedAt,
    durationMs: Math.round(performance.now() - started),
    findings: unique,
    skipped: sections.flatMap((s) => s.skipped),
    summary: { total: unique.length, secured: count('secured'), unsecured: count('unsecured'), unknown: count('unknown'), byRisk },
    completeKinds: sections.flatMap((s) => s.completeKinds ?? []),
    notInspected: sections.flatMap((s) => s.notInspected ?? []),
  });
}

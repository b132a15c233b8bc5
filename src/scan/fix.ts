/**
 * `agentguard scan --fix` and `--unfix`. --fix installs agentguard's hooks for every coding agent whose hooks do not
 * run it (user scope) and wraps its MCP servers through `mcp install`, after recording, in a manifest in the data
 * folder, the bytes of every file it is about to change (the configs and their backups). --unfix puts back exactly
 * those files: byte for byte when nobody changed them since, else it takes out only agentguard's entries and says so.
 * Files --fix did not change are never touched.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isPlainObject } from '../core/plain-object.js';
import type { CodingAgentId } from '../hooks/agent-ids.js';
import { AGENT_HOOK_SPECS } from '../hooks/install/agents.js';
import { removeHookEntries } from '../hooks/install/entries.js';
import { HooksInstallError, installHooks, type HookFileReport } from '../hooks/install/install.js';
import { mcpConfigPlaces, type ConfigLocation, type McpClientId } from './mcp/clients.js';
import { unwrapServers } from '../mcp/install/edit.js';
import { backupPathOf, replaceFileAtomically } from '../mcp/install/files.js';
import { InstallError, installServers, unifiedDiff, type ConfigReport } from '../mcp/install/install.js';
import { codingAgentFacts, scanHookEnvironment } from './coding-agents.js';
import { scanMcpConfigs } from './mcp/index.js';
import type { ScanOptions } from './types.js';

export const FIX_MANIFEST = 'scan-fix.json';

/** One file --fix changed: its bytes before (null: it did not exist) and the hash --fix left it with (null: absent). */
interface ManifestFile {
  path: string;
  role: 'hooks' | 'mcp' | 'backup';
  /** Hook files: the agent whose entries --fix added. */
  agent?: CodingAgentId;
  /** MCP configs: where the client reads it and the servers --fix wrapped, to unwrap them alone if the file changed. */
  location?: ConfigLocation;
  servers?: string[];
  before: string | null;
  afterSha256: string | null;
}

interface Manifest {
  kind: 'agentguard-scan-fix';
  version: 1;
  createdAt: string;
  files: ManifestFile[];
  /** Folders --fix created (deepest last), removed again by --unfix when empty. */
  dirs: string[];
}

export interface FixAgentReport {
  agent: CodingAgentId;
  /** Hook files changed (or that would be, with --dry-run). */
  hooks: HookFileReport[];
  /** MCP configs changed. */
  mcp: ConfigReport[];
  notes: string[];
  /** Something about this agent could not be fixed. */
  failed: boolean;
}

export interface FixReport {
  dryRun: boolean;
  agents: FixAgentReport[];
  /** What applies to every agent fixed (where their hooks find a policy). */
  notes: string[];
  manifest?: string;
}

export interface FixSettings {
  dataDir: string;
  dryRun: boolean;
  /** What wrapped MCP servers run with (`mcp install`'s settings); undefined: MCP servers are left as they are. */
  mcp?: { project: string; policy?: string } | { skipped: string };
  /** Test seam: the hook command line. */
  commandLine?: (agent: CodingAgentId) => string;
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The folders above `path` that do not exist yet, outermost first. */
function missingDirs(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) out.unshift(dir);
  return out;
}

async function readManifest(dataDir: string): Promise<Manifest | undefined> {
  const text = await readOrNull(join(dataDir, FIX_MANIFEST));
  if (text === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    throw new FixError(`${join(dataDir, FIX_MANIFEST)} is not valid JSON`);
  }
  if (!isPlainObject(value) || value.kind !== 'agentguard-scan-fix' || !Array.isArray(value.files) || !Array.isArray(value.dirs)) {
    throw new FixError(`${join(dataDir, FIX_MANIFEST)} is not a record of agentguard scan --fix`);
  }
  return value as unknown as Manifest;
}

export class FixError extends Error {
  override name = 'FixError';
}

export async function fixCodingAgents(options: ScanOptions, settings: FixSettings): Promise<FixReport> {
  const mcpSection = await scanMcpConfigs(options);
  const facts = await codingAgentFacts(options, mcpSection.findings);
  const env = { ...scanHookEnvironment(options), project: options.paths[0] };
  const agents: FixAgentReport[] = [];
  const planned: Array<{ agent: FixAgentReport; run: () => Promise<void>; files: Array<Omit<ManifestFile, 'before' | 'afterSha256'>> }> = [];

  for (const fact of facts) {
    const report: FixAgentReport = { agent: fact.agent, hooks: [], mcp: [], notes: [], failed: false };
    const hooksOk = fact.hooks.some((h) => h.scope === 'user' && h.state === 'installed');
    const files: Array<Omit<ManifestFile, 'before' | 'afterSha256'>> = [];
    const runs: Array<() => Promise<void>> = [];
    const off = fact.hooks.find((h) => h.scope === 'user' && h.state === 'disabled');
    if (off) report.notes.push(`agentguard's hook is installed but does not run: ${off.reason ?? 'the agent turns hooks off'}; turn its hooks on (scan --fix does not change that setting)`);
    if (!hooksOk) {
      const options = { agents: [fact.agent], scope: 'user' as const, ...(settings.commandLine ? { commandLine: settings.commandLine } : {}) };
      try {
        const plan = await installHooks(env, { ...options, dryRun: true });
        report.hooks = plan.files.filter((f) => f.changed);
        for (const f of report.hooks) files.push({ path: f.path, role: 'hooks', agent: fact.agent }, { path: backupPathOf(f.path, 'hooks-install'), role: 'backup' });
        runs.push(async () => {
          report.hooks = (await installHooks(env, { ...options, dryRun: false })).files.filter((f) => f.changed);
        });
      } catch (error) {
        if (!(error instanceof HooksInstallError)) throw error;
        report.failed = true;
        report.notes.push(`hooks not installed: ${error.message}`);
      }
    }
    const unwrapped = fact.mcp ? fact.mcp.servers - fact.mcp.notWrappable - fact.mcp.wrapped : 0;
    if (fact.mcp && unwrapped > 0) {
      if (!settings.mcp || 'skipped' in settings.mcp) report.notes.push(`MCP servers not wrapped: ${settings.mcp && 'skipped' in settings.mcp ? settings.mcp.skipped : 'no settings'}`);
      else {
        const target = { client: fact.mcp.client as McpClientId, home: options.home, platform: options.platform, cwd: options.paths[0], ...(options.xdgConfigHome ? { xdgConfigHome: options.xdgConfigHome } : {}) };
        const install = { choice: { all: true } as const, ...settings.mcp };
        try {
          const plan = await installServers(target, { ...install, dryRun: true });
          report.mcp = plan.configs.filter((c) => c.changed);
          const places = mcpConfigPlaces({ ...options, paths: [options.paths[0]] }).files;
          for (const c of report.mcp) {
            const location = places.find((l) => l.path === c.path && l.client === target.client);
            files.push({ path: c.path, role: 'mcp', ...(location ? { location } : {}), servers: c.servers.filter((s) => s.outcome === 'wrapped').map((s) => s.server) }, { path: backupPathOf(c.path), role: 'backup' });
          }
          runs.push(async () => {
            report.mcp = (await installServers(target, { ...install, dryRun: false })).configs.filter((c) => c.changed);
          });
        } catch (error) {
          if (!(error instanceof InstallError)) throw error;
          report.failed = true;
          report.notes.push(`MCP servers not wrapped: ${error.message}`);
        }
      }
    }
    if (report.hooks.length === 0 && report.mcp.length === 0 && !report.failed && report.notes.length === 0) continue;
    agents.push(report);
    planned.push({ agent: report, files, run: async () => { for (const run of runs) await run(); } });
  }
  const notes: string[] = [];
  // User-scope hooks run in every folder; a folder with no agentguard project of its own falls back to the home folder's.
  if (agents.some((a) => a.hooks.length > 0) && !existsSync(join(options.home, 'agentguard.config.json')) && !process.env.AGENTGUARD_PROJECT) {
    notes.push(`These hooks run in every project. A folder without its own agentguard.config.json (above it) uses the one in your home folder, and there is none in ${options.home}: tool calls there are blocked until you run \`agentguard init --template coding-agent\` in ${options.home} (or in each project).`);
  }
  if (settings.dryRun || planned.every((p) => p.files.length === 0)) return { dryRun: settings.dryRun, agents, notes };

  // The bytes of every file about to change are on disk, in the manifest, before the first one changes.
  const previous = await readManifest(settings.dataDir);
  const manifest: Manifest = previous ?? { kind: 'agentguard-scan-fix', version: 1, createdAt: new Date().toISOString(), files: [], dirs: [] };
  // One file can be changed for hooks and for MCP servers (Gemini CLI's settings.json): one entry knows both.
  const byPath = new Map<string, Omit<ManifestFile, 'before' | 'afterSha256'>>();
  for (const file of planned.flatMap((p) => p.files)) {
    const known = byPath.get(file.path);
    const { path: _path, role: _role, ...facts } = file;
    byPath.set(file.path, known ? { ...known, ...facts } : file);
  }
  const touched = new Set<string>();
  for (const file of byPath.values()) {
    touched.add(file.path);
    const current = await readOrNull(file.path);
    const known = manifest.files.find((f) => f.path === file.path);
    // A file an earlier --fix changed keeps its bytes from before that --fix, unless it was changed since: then the
    // changed file is what --unfix goes back to (the other changes are the user's, and stay).
    if (known && (current === null ? null : sha(current)) === known.afterSha256) continue;
    for (const dir of missingDirs(file.path)) if (!manifest.dirs.includes(dir)) manifest.dirs.push(dir);
    const entry: ManifestFile = { ...file, before: current === null ? null : current.toString('base64'), afterSha256: null };
    if (known) Object.assign(known, entry);
    else manifest.files.push(entry);
  }
  const manifestPath = join(settings.dataDir, FIX_MANIFEST);
  const save = async () => {
    await mkdir(settings.dataDir, { recursive: true, mode: 0o700 });
    await replaceFileAtomically(manifestPath, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 0o600);
  };
  await save();
  try {
    for (const p of planned) await p.run();
  } finally {
    for (const file of manifest.files.filter((f) => touched.has(f.path))) {
      const now = await readOrNull(file.path);
      file.afterSha256 = now === null ? null : sha(now);
    }
    await save();
  }
  return { dryRun: false, agents, notes, manifest: manifestPath };
}

export interface UnfixFileReport {
  path: string;
  role: ManifestFile['role'];
  /** bytes: put back exactly; removed: --fix had created it; entries: changed since, only agentguard's entries taken out; kept: changed since and left. */
  outcome: 'bytes' | 'removed' | 'entries' | 'kept';
  diff: string;
  notes: string[];
}

export interface UnfixReport {
  dryRun: boolean;
  files: UnfixFileReport[];
  manifest: string;
}

export async function unfixCodingAgents(dataDir: string, dryRun: boolean): Promise<UnfixReport> {
  const manifestPath = join(dataDir, FIX_MANIFEST);
  const manifest = await readManifest(dataDir);
  if (!manifest) throw new FixError(`no record of \`agentguard scan --fix\` in ${dataDir} (looked for ${FIX_MANIFEST})`);
  const files: UnfixFileReport[] = [];
  const writes: Array<() => Promise<void>> = [];
  // Backups last: the configs are put back first, then what their installs left beside them.
  const order = [...manifest.files.filter((f) => f.role !== 'backup'), ...manifest.files.filter((f) => f.role === 'backup')];
  for (const file of order) {
    const now = await readOrNull(file.path);
    const nowText = now?.toString('utf8') ?? '';
    const before = file.before === null ? null : Buffer.from(file.before, 'base64');
    const unchanged = (now === null ? null : sha(now)) === file.afterSha256;
    if (unchanged) {
      if ((before === null && now === null) || (before !== null && now !== null && before.equals(now))) continue;
      files.push({ path: file.path, role: file.role, outcome: before === null ? 'removed' : 'bytes', diff: file.role === 'backup' ? '' : unifiedDiff(file.path, nowText, before?.toString('utf8') ?? ''), notes: [] });
      writes.push(async () => {
        if (before === null) await rm(file.path, { force: true });
        else {
          await mkdir(dirname(file.path), { recursive: true });
          await replaceFileAtomically(file.path, before);
        }
      });
      continue;
    }
    // Changed since --fix: only agentguard's own entries come out; the rest is the user's.
    let after: string | undefined;
    try {
      if (now !== null && file.role !== 'backup') {
        after = nowText;
        if (file.agent) after = removeHookEntries(AGENT_HOOK_SPECS[file.agent], file.path, after).text;
        if (file.location && file.servers) after = unwrapServers(file.location, after, { names: file.servers }).text;
      }
    } catch (error) {
      files.push({ path: file.path, role: file.role, outcome: 'kept', diff: '', notes: [`changed since scan --fix and cannot be read now (${(error as Error).message}): left as it is`] });
      continue;
    }
    if (after === undefined || after === nowText) {
      files.push({ path: file.path, role: file.role, outcome: 'kept', diff: '', notes: ['changed since scan --fix: left as it is'] });
      continue;
    }
    files.push({ path: file.path, role: file.role, outcome: 'entries', diff: unifiedDiff(file.path, nowText, after), notes: ['changed since scan --fix: only the agentguard entries were taken out, the other changes are kept'] });
    const text = after;
    writes.push(() => replaceFileAtomically(file.path, Buffer.from(text, 'utf8')));
  }
  if (!dryRun) {
    for (const write of writes) await write();
    for (const dir of [...manifest.dirs].reverse()) await rmdir(dir).catch(() => undefined);
    await rm(manifestPath, { force: true });
  }
  return { dryRun, files, manifest: manifestPath };
}

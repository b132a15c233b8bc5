/**
 * `agentguard hooks install` / `uninstall` / `status` without the command line: every file is read and planned first
 * (nothing is written when any of them cannot be read), then each is replaced through a temp file and a rename, with
 * its backup kept beside it (`<file>.agentguard-hooks-backup`: the original bytes and their hash).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { backupBytes, backupPathOf, newBackup, readBackup, removeBackup, replaceFileAtomically, sha256, writeBackup, type InstallBackup } from '../../mcp/install/files.js';
import { unifiedDiff } from '../../mcp/install/install.js';
import type { CodingAgentId } from '../agent-ids.js';
import { hookCommandLine } from '../command-line.js';
import { AGENT_HOOK_SPECS, type AgentHookSpec, type HookEnvironment, type HookScope } from './agents.js';
import { addHookEntries, hookEventStates, HookConfigError, readHookDocument, removeHookEntries, type HookEdit } from './entries.js';

export interface HookFileReport {
  agent: CodingAgentId;
  scope: HookScope;
  path: string;
  /** True when the file was (or, with --dry-run, would be) changed. */
  changed: boolean;
  written: boolean;
  /** The file did not exist and install writes it (uninstall: removes it again). */
  created: boolean;
  /** Unified diff of the change (secret-looking values masked); empty when nothing changes. */
  diff: string;
  events: HookEdit['events'];
  /** Uninstall: how the file was put back. */
  restored?: 'bytes' | 'entries' | 'removed';
  backup?: string;
  notes: string[];
}

export interface HooksReport {
  dryRun: boolean;
  scope: HookScope;
  files: HookFileReport[];
}

export type HooksProblem = 'unreadable' | 'no-agent';

/** A problem that stops the whole run before anything is written. */
export class HooksInstallError extends Error {
  override name = 'HooksInstallError';
  constructor(readonly problem: HooksProblem, message: string, readonly hints: string[] = []) {
    super(message);
  }
}

export interface HooksOptions {
  agents: readonly CodingAgentId[];
  scope: HookScope;
  dryRun: boolean;
  /** The command line written for an agent (default: this installation's lean hook entry). */
  commandLine?: (agent: CodingAgentId) => string;
}

interface Loaded {
  spec: AgentHookSpec;
  path: string;
  /** undefined: the file does not exist. */
  bytes: Buffer | undefined;
  text: string;
}

async function loadFile(spec: AgentHookSpec, path: string): Promise<Loaded> {
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new HooksInstallError('unreadable', `${path} is not a regular file`, ['Move it away (the agent cannot read it either), then run the command again; nothing was changed.']);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof HooksInstallError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { spec, path, bytes: undefined, text: '' };
    throw new HooksInstallError('unreadable', `${path} cannot be read: ${code ?? (error as Error).message}`);
  }
  const text = bytes.toString('utf8');
  try {
    readHookDocument(spec, path, text);
  } catch (error) {
    if (!(error instanceof HookConfigError)) throw error;
    throw new HooksInstallError('unreadable', error.message, ['Fix the file at the line:column named (the agent reads it the same way), then run the command again; nothing was changed.']);
  }
  return { spec, path, bytes, text };
}

const loadAll = (agents: readonly CodingAgentId[], scope: HookScope, env: HookEnvironment) =>
  Promise.all(agents.map((agent) => loadFile(AGENT_HOOK_SPECS[agent], AGENT_HOOK_SPECS[agent].path(scope, env))));

/** The folders above `path` that do not exist yet, outermost first. */
function missingDirs(path: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) out.unshift(dir);
  return out;
}

/** Agents whose own user folder exists here: the ones `--all` means. */
export function agentsSetUp(env: HookEnvironment): CodingAgentId[] {
  return (Object.keys(AGENT_HOOK_SPECS) as CodingAgentId[]).filter((agent) => existsSync(AGENT_HOOK_SPECS[agent].userDir(env)));
}

export async function installHooks(env: HookEnvironment, options: HooksOptions): Promise<HooksReport> {
  const lineOf = options.commandLine ?? hookCommandLine;
  const loaded = await loadAll(options.agents, options.scope, env);
  const files: HookFileReport[] = [];
  const writes: Array<() => Promise<void>> = [];
  for (const { spec, path, bytes, text } of loaded) {
    const edit = addHookEntries(spec, path, text, lineOf(spec.agent));
    const changed = edit.text !== text || bytes === undefined;
    const report: HookFileReport = { agent: spec.agent, scope: options.scope, path, changed, written: false, created: bytes === undefined, diff: unifiedDiff(path, text, edit.text), events: edit.events, notes: [] };
    files.push(report);
    if (!changed || options.dryRun) continue;
    writes.push(async () => {
      const before = bytes ?? Buffer.alloc(0);
      const after = Buffer.from(edit.text, 'utf8');
      let backup: InstallBackup | undefined = await readBackup(path, 'hooks-install');
      if (backup && bytes !== undefined && sha256(before) === backup.installedSha256) backup.installedSha256 = sha256(after);
      else {
        if (backup) report.notes.push('the file was changed since the last install: the backup now holds it as it was just before this install');
        backup = newBackup(path, before, after, 'hooks-install', bytes === undefined, missingDirs(path));
      }
      await mkdir(dirname(path), { recursive: true });
      await writeBackup(backup);
      await replaceFileAtomically(path, after);
      report.written = true;
      report.backup = backupPathOf(path, 'hooks-install');
    });
  }
  for (const write of writes) await write();
  return { dryRun: options.dryRun, scope: options.scope, files };
}

export async function uninstallHooks(env: HookEnvironment, options: Omit<HooksOptions, 'commandLine'>): Promise<HooksReport> {
  const loaded = await loadAll(options.agents, options.scope, env);
  const files: HookFileReport[] = [];
  const writes: Array<() => Promise<void>> = [];
  for (const { spec, path, bytes, text } of loaded) {
    if (bytes === undefined) {
      files.push({ agent: spec.agent, scope: options.scope, path, changed: false, written: false, created: false, diff: '', events: [], notes: ['no such file'] });
      continue;
    }
    const entries = removeHookEntries(spec, path, text);
    const report: HookFileReport = { agent: spec.agent, scope: options.scope, path, changed: false, written: false, created: false, diff: '', events: entries.events, notes: [] };
    files.push(report);
    if (!entries.events.some((e) => e.outcome === 'removed')) continue;
    const backup = await readBackup(path, 'hooks-install');
    const unedited = backup !== undefined && sha256(bytes) === backup.installedSha256;
    let after: Buffer | undefined;
    if (backup && unedited && backup.created) {
      after = undefined;
      report.restored = 'removed';
    } else if (backup && unedited) {
      const original = backupBytes(backup);
      // The backup may itself hold agentguard's entries (installed by hand before the first install).
      const rest = removeHookEntries(spec, path, original.toString('utf8'));
      after = rest.events.some((e) => e.outcome === 'removed') ? Buffer.from(rest.text, 'utf8') : original;
      report.restored = 'bytes';
      if (after !== original) report.notes.push('restored from the backup, then removed the agentguard entries the backup still had');
    } else {
      after = Buffer.from(entries.text, 'utf8');
      report.restored = 'entries';
      report.notes.push(!backup ? 'no backup found: only the agentguard entries were removed' : 'the file was changed since install: only the agentguard entries were removed, your changes are kept');
    }
    report.changed = true;
    report.diff = unifiedDiff(path, text, after?.toString('utf8') ?? '');
    if (options.dryRun) continue;
    writes.push(async () => {
      if (after === undefined) await rm(path, { force: true });
      else await replaceFileAtomically(path, after);
      await removeBackup(path, 'hooks-install');
      // The folders install made for a file it created go too, when nothing else was put in them.
      if (after === undefined) for (const dir of [...(backup?.createdDirs ?? [])].reverse()) await rmdir(dir).catch(() => undefined);
      report.written = true;
    });
  }
  for (const write of writes) await write();
  return { dryRun: options.dryRun, scope: options.scope, files };
}

/** `disabled`: every event runs agentguard's hook, but a setting of the agent turns its hooks off. */
export type HookFileState = 'installed' | 'disabled' | 'partial' | 'outdated' | 'missing' | 'no-file' | 'unreadable';

export interface HookStatus {
  agent: CodingAgentId;
  scope: HookScope;
  path: string;
  state: HookFileState;
  /** Why the file could not be read. */
  reason?: string;
  /** Events that do not run agentguard's hook (or run an older install's command line). */
  missingEvents: string[];
}

/** Whether each agent's hook file of a scope runs agentguard's hook for every event; never throws for a bad file. */
export async function hooksStatus(env: HookEnvironment, agents: readonly CodingAgentId[], scopes: readonly HookScope[], commandLine: (agent: CodingAgentId) => string = hookCommandLine): Promise<HookStatus[]> {
  const out: HookStatus[] = [];
  for (const scope of scopes) {
    for (const agent of agents) {
      const spec = AGENT_HOOK_SPECS[agent];
      const path = spec.path(scope, env);
      const base = { agent, scope, path };
      let loaded: Loaded;
      try {
        loaded = await loadFile(spec, path);
      } catch (error) {
        out.push({ ...base, state: 'unreadable', reason: (error as Error).message, missingEvents: [] });
        continue;
      }
      if (loaded.bytes === undefined) {
        out.push({ ...base, state: 'no-file', missingEvents: [] });
        continue;
      }
      const doc = readHookDocument(spec, path, loaded.text);
      const states = hookEventStates(spec, doc, commandLine(agent));
      const values = Object.values(states);
      const missingEvents = Object.entries(states).filter(([, s]) => s !== 'installed').map(([e]) => e);
      const state: HookFileState = values.every((s) => s === 'installed')
        ? 'installed'
        : values.every((s) => s === 'missing')
          ? 'missing'
          : values.every((s) => s !== 'missing')
            ? 'outdated'
            : 'partial';
      const off = state === 'installed' ? await spec.hooksOff?.(doc, scope, env) : undefined;
      out.push({ ...base, state: off ? 'disabled' : state, ...(off ? { reason: off } : {}), missingEvents });
    }
  }
  return out;
}

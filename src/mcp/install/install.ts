/**
 * `agentguard mcp install` / `uninstall` without the command line: find the client's config files (the same places
 * `scan` reads), plan every edit first (nothing is written if any config cannot be read), then write each config
 * through a temp file and a rename, with its backup.
 */
import { readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';
import { maskText } from '../../core/agents/report-mask.js';
import { mcpConfigPlaces, type ConfigLocation, type McpClientId } from '../../scan/mcp/clients.js';
import { backupBytes, backupPathOf, newBackup, readBackup, removeBackup, replaceFileAtomically, sha256, writeBackup, type InstallBackup } from './files.js';
import { chosen, serversOf, unwrapServers, wrapServers, wrappedNames, type ServerChange, type ServerChoice } from './edit.js';
import type { Launch } from './wrapped.js';

export interface InstallTarget {
  client: McpClientId;
  home: string;
  platform: NodeJS.Platform;
  xdgConfigHome?: string;
  /** The project folder whose project-level configs (.mcp.json, .vscode/mcp.json, …) are included. */
  cwd: string;
}

export interface ConfigReport {
  path: string;
  /** True when the file was (or, with --dry-run, would be) changed. */
  changed: boolean;
  written: boolean;
  /** Unified diff of the change (secret-looking values masked); empty when nothing changes. */
  diff: string;
  servers: ServerChange[];
  /** Uninstall: how the file was put back. */
  restored?: 'bytes' | 'entries';
  backup?: string;
  notes: string[];
}

export interface InstallReport {
  client: McpClientId;
  dryRun: boolean;
  configs: ConfigReport[];
}

export type InstallProblem = 'no-config' | 'no-server' | 'unreadable';

/** A problem that stops the whole run before anything is written. */
export class InstallError extends Error {
  override name = 'InstallError';
  constructor(readonly problem: InstallProblem, message: string, readonly hints: string[] = []) {
    super(message);
  }
}

interface Loaded {
  location: ConfigLocation;
  bytes: Buffer;
  text: string;
}

/** The JSON/JSONC configs of the client that exist (YAML ones — Continue — are not edited). */
async function loadConfigs(target: InstallTarget): Promise<Loaded[]> {
  const { files } = mcpConfigPlaces({ home: target.home, platform: target.platform, paths: [target.cwd], ...(target.xdgConfigHome ? { xdgConfigHome: target.xdgConfigHome } : {}) });
  const places = files.filter((l) => l.client === target.client && l.syntax !== 'yaml');
  const loaded: Loaded[] = [];
  for (const location of places) {
    let bytes: Buffer;
    try {
      bytes = await readFile(location.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new InstallError('unreadable', `${location.path} cannot be read: ${code ?? (error as Error).message}`);
    }
    const text = bytes.toString('utf8');
    // Servers are read now so that a config that does not parse stops the run before anything is written.
    try {
      serversOf(location, text);
    } catch (error) {
      throw new InstallError('unreadable', (error as Error).message, ['Fix the file (or restore it from the client), then run the command again; nothing was changed.']);
    }
    loaded.push({ location, bytes, text });
  }
  if (loaded.length === 0) {
    throw new InstallError('no-config', `no MCP config of ${target.client} found; looked at ${places.map((l) => l.path).join(', ')}`, [
      'Add a server in the client first, or run the command in the project folder whose config to change.',
    ]);
  }
  return loaded;
}

function checkChoice(loaded: Loaded[], choice: ServerChoice): void {
  if ('all' in choice) return;
  const all = loaded.flatMap((l) => serversOf(l.location, l.text));
  const missing = choice.names.filter((name) => !all.some((p) => chosen({ names: [name] }, p)));
  if (missing.length > 0) {
    const known = [...new Set(all.map((p) => p.scopedName))];
    throw new InstallError('no-server', `no server named ${missing.join(', ')} in the configs read`, [known.length > 0 ? `Servers found: ${known.join(', ')}.` : 'No server is configured there.']);
  }
}

export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(path, path, before, after, 'before', 'after', { context: 3 });
  // The lines around a server can hold its secrets (env values): shown masked, as `scan` shows configs.
  return patch
    .split('\n')
    .filter((line) => !/^={3,}$/.test(line) && !line.startsWith('Index: '))
    .map((line) => (line.startsWith('@@') ? line : maskText(line)))
    .join('\n');
}

export interface InstallOptions {
  choice: ServerChoice;
  dryRun: boolean;
  /** Absolute project folder passed to `mcp wrap --project`. */
  project?: string;
  /** Absolute policy path passed to `mcp wrap --policy`. */
  policy?: string;
  launcher?: Launch;
}

export async function installServers(target: InstallTarget, options: InstallOptions): Promise<InstallReport> {
  const loaded = await loadConfigs(target);
  checkChoice(loaded, options.choice);
  const plans = loaded.map((l) => ({ ...l, edit: wrapServers(l.location, l.text, options.choice, options) }));
  const configs: ConfigReport[] = [];
  for (const { location, bytes, text, edit } of plans) {
    const changed = edit.text !== text;
    const report: ConfigReport = { path: location.path, changed, written: false, diff: unifiedDiff(location.path, text, edit.text), servers: edit.changes, notes: [] };
    configs.push(report);
    if (!changed || options.dryRun) continue;
    const after = Buffer.from(edit.text, 'utf8');
    let backup: InstallBackup | undefined = await readBackup(location.path);
    if (backup && sha256(bytes) === backup.installedSha256) backup.installedSha256 = sha256(after);
    else {
      if (backup) report.notes.push('the config was edited since the last install: the backup now holds it as it was just before this install');
      backup = newBackup(location.path, bytes, after);
    }
    await writeBackup(backup);
    await replaceFileAtomically(location.path, after);
    report.written = true;
    report.backup = backupPathOf(location.path);
  }
  return { client: target.client, dryRun: options.dryRun, configs };
}

export async function uninstallServers(target: InstallTarget, options: { choice: ServerChoice; dryRun: boolean }): Promise<InstallReport> {
  const loaded = await loadConfigs(target);
  checkChoice(loaded, options.choice);
  const configs: ConfigReport[] = [];
  const writes: Array<() => Promise<void>> = [];
  for (const { location, bytes, text } of loaded) {
    const entries = unwrapServers(location, text, options.choice);
    const report: ConfigReport = { path: location.path, changed: false, written: false, diff: '', servers: entries.changes, notes: [] };
    configs.push(report);
    if (!entries.changes.some((c) => c.outcome === 'unwrapped')) continue;
    const backup = await readBackup(location.path);
    const unedited = backup !== undefined && sha256(bytes) === backup.installedSha256;
    const allChosen = wrappedNames(location, text).length === entries.changes.filter((c) => c.outcome === 'unwrapped').length;
    let after: Buffer;
    if (backup && unedited && allChosen) {
      const original = backupBytes(backup);
      // The backup may itself hold wrapped entries (a config already wrapped by hand or edited between installs).
      const rest = unwrapServers(location, original.toString('utf8'), options.choice);
      after = rest.changes.some((c) => c.outcome === 'unwrapped') ? Buffer.from(rest.text, 'utf8') : original;
      report.restored = 'bytes';
      if (after !== original) report.notes.push('restored from the backup, then unwrapped the entries the backup still had wrapped');
    } else {
      after = Buffer.from(entries.text, 'utf8');
      report.restored = 'entries';
      report.notes.push(
        !backup
          ? 'no backup found: the wrapped entries were unwrapped in place'
          : !unedited
            ? 'the config was edited since install: only the wrapped entries were unwrapped, your edits are kept'
            : 'only some wrapped servers were chosen: those entries were unwrapped in place',
      );
    }
    report.changed = true;
    report.diff = unifiedDiff(location.path, text, after.toString('utf8'));
    if (options.dryRun) continue;
    writes.push(async () => {
      await replaceFileAtomically(location.path, after);
      report.written = true;
      if (wrappedNames(location, after.toString('utf8')).length === 0) await removeBackup(location.path);
      else if (backup && unedited) await writeBackup({ ...backup, installedSha256: sha256(after) });
    });
  }
  for (const write of writes) await write();
  return { client: target.client, dryRun: options.dryRun, configs };
}

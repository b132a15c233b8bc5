/**
 * File work of `mcp install` / `uninstall`: whole-file replacement through a temp file and a rename (a crash never
 * leaves half a config), and the backup kept beside the config with the original bytes and their hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isPlainObject } from '../../core/plain-object.js';

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Replaces `path` with `bytes`: written to a temp file in the same folder (same permissions as the file replaced),
 * then renamed over it. A symlinked config (dotfile managers) is written where the link points, so the link stays.
 */
export async function replaceFileAtomically(path: string, bytes: Uint8Array, mode?: number): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.agentguard.tmp`);
  await writeFile(temp, bytes, { flag: 'wx', mode: 0o600 });
  try {
    const previous = mode ?? (await stat(target).catch(() => undefined))?.mode;
    if (previous !== undefined) await chmod(temp, previous & 0o7777);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Whose backup: `mcp install` and `hooks install` keep one each, so a file both change (Gemini CLI's settings.json
 * holds MCP servers and hooks) is put back by each without undoing the other.
 */
export type BackupPurpose = 'mcp-install' | 'hooks-install';

const BACKUP_KIND = { 'mcp-install': 'agentguard-mcp-install-backup', 'hooks-install': 'agentguard-hooks-install-backup' } as const;
const BACKUP_SUFFIX: Record<BackupPurpose, string> = { 'mcp-install': '.agentguard-backup', 'hooks-install': '.agentguard-hooks-backup' };

/** What is kept beside a config from its first rewrite until it is restored. */
export interface InstallBackup {
  kind: (typeof BACKUP_KIND)[BackupPurpose];
  version: 1;
  config: string;
  createdAt: string;
  /** The config before agentguard first changed it: exact bytes (base64) and their SHA-256. */
  original: { sha256: string; base64: string };
  /** True when the config did not exist before agentguard wrote it (then `original` is empty): restoring removes it. */
  created?: boolean;
  /** Folders made to hold a created config, outermost first: restoring removes them again when empty. */
  createdDirs?: string[];
  /** SHA-256 of the config as agentguard last wrote it: equal to the file's hash means nobody edited it since. */
  installedSha256: string;
}

const purposeOf = (backup: InstallBackup): BackupPurpose => (backup.kind === BACKUP_KIND['hooks-install'] ? 'hooks-install' : 'mcp-install');

/** Not `.json`: a config folder read as a whole (Continue's mcpServers/) must not take the backup for a config. */
export const backupPathOf = (config: string, purpose: BackupPurpose = 'mcp-install'): string => `${config}${BACKUP_SUFFIX[purpose]}`;

export function newBackup(config: string, original: Uint8Array, installed: Uint8Array, purpose: BackupPurpose = 'mcp-install', created = false, createdDirs: string[] = []): InstallBackup {
  return {
    kind: BACKUP_KIND[purpose],
    version: 1,
    config,
    createdAt: new Date().toISOString(),
    original: { sha256: sha256(original), base64: Buffer.from(original).toString('base64') },
    ...(created ? { created: true } : {}),
    ...(createdDirs.length > 0 ? { createdDirs } : {}),
    installedSha256: sha256(installed),
  };
}

export class BackupError extends Error {
  override name = 'BackupError';
}

/** The backup of `config`, undefined when there is none; a backup that is damaged (hash mismatch) is refused. */
export async function readBackup(config: string, purpose: BackupPurpose = 'mcp-install'): Promise<InstallBackup | undefined> {
  const path = backupPathOf(config, purpose);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackupError(`${path} is not valid JSON`);
  }
  const original = isPlainObject(value) ? value.original : undefined;
  if (!isPlainObject(value) || value.kind !== BACKUP_KIND[purpose] || !isPlainObject(original) || typeof original.base64 !== 'string'
    || typeof original.sha256 !== 'string' || typeof value.installedSha256 !== 'string') {
    throw new BackupError(`${path} is not an agentguard install backup`);
  }
  if (sha256(Buffer.from(original.base64, 'base64')) !== original.sha256) throw new BackupError(`${path} is damaged: its bytes do not match their hash`);
  return value as unknown as InstallBackup;
}

export const backupBytes = (backup: InstallBackup): Buffer => Buffer.from(backup.original.base64, 'base64');

export async function writeBackup(backup: InstallBackup): Promise<void> {
  // Configs hold secrets (env values): the backup is readable by its owner only.
  await replaceFileAtomically(backupPathOf(backup.config, purposeOf(backup)), Buffer.from(`${JSON.stringify(backup, null, 2)}\n`), 0o600);
}

export async function removeBackup(config: string, purpose: BackupPurpose = 'mcp-install'): Promise<void> {
  await rm(backupPathOf(config, purpose), { force: true });
}

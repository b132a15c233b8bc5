import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempPathFor } from '../../temp-path.js';

/**
 * Regexes recheck found safe, remembered across processes: checking the shipped shell pack takes seconds, and every
 * `sidecar start`, reload and guard start checks its policy. Only "safe" verdicts are kept (a vulnerable regex is
 * found again in milliseconds), keyed by the SHA-256 of recheck's version, the flags and the source.
 * The file lives in `$AGENTGUARD_CACHE_DIR` (empty: no file), else `$XDG_CACHE_HOME/agentguard`, else `~/.cache/agentguard`.
 * The verdicts of the shipped packs and templates ship with the package (policies/regex-safety.json, written by
 * `npm run regex-safety:build`), so a first start does not spend seconds on them.
 */
const FILE = 'regex-safety-v1.json';
/** Oldest entries are dropped past this many, so the file stays small. */
const MAX_ENTRIES = 20_000;

let version: string | undefined;
function recheckVersion(): string {
  if (version === undefined) {
    try {
      version = (createRequire(import.meta.url)('recheck/package.json') as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

function cacheFile(): string | undefined {
  const dir = process.env.AGENTGUARD_CACHE_DIR;
  if (dir !== undefined) return dir === '' ? undefined : join(dir, FILE);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'agentguard', FILE);
}

export function regexKey(source: string, flags: string): string {
  return createHash('sha256').update(`${recheckVersion()}\u0000${flags}\u0000${source}`).digest('hex');
}

function readKeys(file: string): string[] {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { safe?: unknown };
    return Array.isArray(data.safe) ? data.safe.filter((k): k is string => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k)) : [];
  } catch {
    return [];
  }
}

/** Verdicts of the regexes of the shipped packs and templates. */
export const SHIPPED_VERDICTS = fileURLToPath(new URL('../../../../policies/regex-safety.json', import.meta.url));

/** The keys of regexes known safe: shipped, and from the cache file (empty when neither can be read). */
export function loadSafeKeys(): Set<string> {
  const file = cacheFile();
  return new Set([...readKeys(SHIPPED_VERDICTS), ...(file ? readKeys(file) : [])]);
}

/** Adds keys to the file (merged with what another process wrote meanwhile; written whole, then renamed). Best effort. */
export function saveSafeKeys(keys: readonly string[]): void {
  const file = cacheFile();
  if (!file || keys.length === 0) return;
  try {
    const merged = [...new Set([...readKeys(file), ...keys])].slice(-MAX_ENTRIES);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const temp = tempPathFor(file);
    writeFileSync(temp, `${JSON.stringify({ safe: merged })}\n`, { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    // A cache that cannot be written only costs time on the next start.
  }
}

/**
 * Reads and parses one config file. A missing file means the client is not installed (not a skip); anything else
 * that stops the read or the parse becomes a skip reason.
 */
import { parseDocument } from 'yaml';
import { notReadReason, readRegularFile } from '../read-regular.js';
import type { ConfigLocation } from './clients.js';
import { parseJsonc } from './jsonc.js';

export type ReadText = (path: string) => Promise<string>;

/** Regular files only, capped in size: a FIFO or device where a config should be is skipped, never waited on. */
export const readText: ReadText = (path) => readRegularFile(path);

export type ConfigRead =
  | { state: 'missing' }
  | { state: 'parsed'; value: unknown }
  | { state: 'skipped'; reason: string };

function readFailure(error: unknown): ConfigRead {
  const notRead = notReadReason(error);
  if (notRead !== undefined) return { state: 'skipped', reason: notRead };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'missing' };
  if (code === 'EACCES' || code === 'EPERM') return { state: 'skipped', reason: 'permission denied' };
  if (code === 'EISDIR') return { state: 'skipped', reason: 'unreadable: it is a folder, not a file' };
  return { state: 'skipped', reason: `unreadable: ${code ?? (error instanceof Error ? error.message : String(error))}` };
}

function parseYaml(text: string): ConfigRead {
  try {
    const doc = parseDocument(text, { logLevel: 'error', prettyErrors: true });
    const error = doc.errors[0];
    if (error) {
      const head = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      const at = error.linePos?.[0];
      return { state: 'skipped', reason: `malformed: ${head}${at ? ` at ${at.line}:${at.col}` : ''}` };
    }
    return { state: 'parsed', value: doc.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    return { state: 'skipped', reason: `malformed: ${(error as Error).message.split('\n')[0]}` };
  }
}

export async function readConfig(location: ConfigLocation, read: ReadText = readText): Promise<ConfigRead> {
  let text: string;
  try {
    text = await read(location.path);
  } catch (error) {
    return readFailure(error);
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trim() === '') return { state: 'parsed', value: undefined };
  if (location.syntax === 'yaml') return parseYaml(text);
  const parsed = parseJsonc(text, { strict: location.syntax === 'json' });
  return parsed.ok ? { state: 'parsed', value: parsed.value } : { state: 'skipped', reason: `malformed: ${parsed.message}` };
}

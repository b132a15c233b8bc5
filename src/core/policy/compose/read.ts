import { readFileSync, statSync } from 'node:fs';
import { MAX_FILE_BYTES, parseSourceText, SourceError, type ParsedSource } from '../load.js';

/**
 * Reads an included file synchronously, with the limits of readSourceFile: composition runs inside compilePolicy,
 * which is synchronous, and included files are read once when a policy is loaded. Throws SourceError.
 */
export function readIncludedFile(filename: string): ParsedSource {
  let text: string;
  try {
    const info = statSync(filename);
    if (info.isDirectory()) throw new SourceError(filename, 'is a directory, not a file', { actions: ['Include a policy file (.yaml, .yml or .json).'] });
    if (info.size > MAX_FILE_BYTES) throw new SourceError(filename, `is ${info.size} bytes; the limit is ${MAX_FILE_BYTES} bytes`);
    text = readFileSync(filename, 'utf8');
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const code = (error as NodeJS.ErrnoException)?.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code ?? String(error)})`;
    throw new SourceError(filename, why, { actions: ['Check the path: a relative include is relative to the file that includes it.'], cause: error });
  }
  return parseSourceText(text, filename);
}

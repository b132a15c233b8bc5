import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A file a script generates: its path from the project root and the text it must hold. */
export interface GeneratedFile {
  path: string;
  text: string;
}

/** The generated files whose text on disk (under `root`) is not what it must be, or which are missing. */
export function staleFiles(root: string, files: readonly GeneratedFile[]): GeneratedFile[] {
  return files.filter(({ path, text }) => {
    try {
      return readFileSync(join(root, path), 'utf8') !== text;
    } catch {
      return true;
    }
  });
}

/** Writes the stale ones of `files` under `root` (creating folders) and returns their paths. */
export function writeStaleFiles(root: string, files: readonly GeneratedFile[]): string[] {
  return staleFiles(root, files).map(({ path, text }) => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return path;
  });
}

import { randomBytes } from 'node:crypto';

/**
 * A temporary file name next to `path` for a write-then-rename (or write-then-link), unique to this write: two writers
 * of the same file in one process (two recorders sharing a data folder, worker threads) must not share a temp file,
 * or the second rename finds it already moved.
 */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

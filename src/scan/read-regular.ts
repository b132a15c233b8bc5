/**
 * Reading a file the scan expects to be a config, manifest or source file: only a regular file, and only up to a size
 * cap. A FIFO where `~/.cursor/mcp.json` should be would block a plain read forever, a device would stream without end:
 * both are refused with a reason the report lists under NOT INSPECTED.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';

/** Configs and manifests are small; anything larger is not what the scan expects there. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Thrown for a path that exists but is not a regular file, or is over the cap. `code` tells which. */
export class NotReadError extends Error {
  constructor(
    readonly code: 'ENOTREGULAR' | 'ETOOLARGE',
    message: string,
  ) {
    super(message);
  }
}

function kindOf(s: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

// O_NONBLOCK makes opening a FIFO without a writer return at once instead of waiting; it does not exist on Windows.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * The first `maxBytes` of a regular file as UTF-8, or, with `truncate: false` (the default), a NotReadError when the
 * file is larger. fs errors (ENOENT, EACCES, EISDIR, …) are thrown as they are.
 */
export async function readRegularFile(path: string, options: { maxBytes?: number; truncate?: boolean } = {}): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_FILE_BYTES;
  // Checked before opening, so a device is never opened, and again on the open handle, so a file swapped in between
  // (a race) is caught too.
  const before = await stat(path);
  if (before.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a folder`), { code: 'EISDIR' });
  if (!before.isFile()) throw new NotReadError('ENOTREGULAR', `not read: it is ${kindOf(before)}, not a regular file`);
  const handle = await open(path, OPEN_FLAGS);
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.ino !== before.ino || info.dev !== before.dev) {
      throw new NotReadError('ENOTREGULAR', `not read: it is ${info.isFile() ? 'a file replaced while it was opened' : kindOf(info)}, not a regular file`);
    }
    if (info.size > maxBytes && options.truncate !== true) {
      throw new NotReadError('ETOOLARGE', `not read: ${info.size.toLocaleString('en-US')} bytes is over the ${maxBytes.toLocaleString('en-US')}-byte limit`);
    }
    const buffer = Buffer.alloc(Math.min(maxBytes, Math.max(info.size, 0)) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      if (options.truncate !== true) throw new NotReadError('ETOOLARGE', `not read: it grew over the ${maxBytes.toLocaleString('en-US')}-byte limit while it was read`);
      length = maxBytes;
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The skip reason of a NotReadError, else undefined (the caller describes fs errors its own way). */
export function notReadReason(error: unknown): string | undefined {
  return error instanceof NotReadError ? error.message : undefined;
}

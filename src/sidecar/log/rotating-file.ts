import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';

/** sidecar.log rotates when it would pass this size. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** How many rotated files are kept (sidecar.log.1 … sidecar.log.5); the disk holds at most (files + 1) × maxBytes. */
export const DEFAULT_LOG_FILES = 5;
/** Longest log line written as it is; a longer one is replaced by a short line that says so. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

export interface RotatingFileOptions {
  maxBytes?: number;
  files?: number;
  maxLineBytes?: number;
}

/** The rotated copies of `file`, newest first: file.1, file.2, … (those that may exist). */
export function rotatedFiles(file: string, files: number): string[] {
  return Array.from({ length: files }, (_, i) => `${file}.${i + 1}`);
}

/**
 * A size-rotated log file for pino (its `write(line)` is all pino needs): writes each line synchronously, so nothing
 * is lost on a crash; before a line would take the file past `maxBytes` its content becomes `file.1` (`file.1` becomes
 * `file.2`, …, the oldest beyond `files` is dropped) and the file starts again empty. A line longer than `maxLineBytes`
 * (a huge error, say) is replaced by one that keeps its level, time and the start of its message. So the log never
 * takes more than about (files + 1) × maxBytes of disk, whatever is logged.
 */
export class RotatingFile {
  readonly file: string;
  readonly maxBytes: number;
  readonly files: number;
  readonly maxLineBytes: number;
  private fd: number;
  private size: number;

  constructor(file: string, options: RotatingFileOptions = {}) {
    this.file = file;
    this.maxBytes = Math.max(1024, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.files = Math.max(0, Math.floor(options.files ?? DEFAULT_LOG_FILES));
    this.maxLineBytes = Math.max(256, Math.min(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, this.maxBytes));
    this.fd = openSync(file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(line: string): boolean {
    if (this.fd < 0) return true; // closed at shutdown: a late line (a timer's) is dropped, not a crash
    let text = line;
    let bytes = Buffer.byteLength(text);
    if (bytes > this.maxLineBytes) {
      text = shortened(text, bytes);
      bytes = Buffer.byteLength(text);
    }
    if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
    writeSync(this.fd, text);
    this.size += bytes;
    return true;
  }

  /** Nothing is buffered; for pino's flush. */
  flushSync(): void {}

  end(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /**
   * Copies the file to `file.1` and empties it in place rather than renaming it: a sidecar started with --detach has
   * its stdout and stderr on this same file (opened for appending), and they must keep landing in sidecar.log, not in
   * a rotated or deleted copy. Copying at most maxBytes now and then costs little next to the writes that filled it.
   */
  private rotate(): void {
    const names = rotatedFiles(this.file, this.files);
    for (let i = names.length - 1; i > 0; i--) renameQuietly(names[i - 1], names[i]);
    if (names.length > 0) copyFileSync(this.file, names[0]);
    ftruncateSync(this.fd, 0);
    this.size = 0;
  }
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** A pino line too long to keep: its level and time, the start of its message, and how long it was. */
function shortened(line: string, bytes: number): string {
  let level: unknown = 50;
  let time: unknown = Date.now();
  let msg = '';
  try {
    const parsed = JSON.parse(line) as { level?: unknown; time?: unknown; msg?: unknown };
    level = parsed.level ?? level;
    time = parsed.time ?? time;
    msg = typeof parsed.msg === 'string' ? parsed.msg : '';
  } catch {
    msg = line;
  }
  return `${JSON.stringify({ level, time, msg: msg.length > 500 ? `${msg.slice(0, 500)}…` : msg, truncated: bytes })}\n`;
}

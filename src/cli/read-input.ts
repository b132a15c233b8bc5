import { readFile } from 'node:fs/promises';
import { AgentGuardError, type ErrorCode } from '../core/errors.js';

/** Largest file or standard input a command reads. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export interface ReadTextOptions {
  /** What the file is, for the message: "cannot read <label> <path>". */
  label?: string;
  /** Error code when it cannot be read (default INPUT_UNREADABLE). */
  code?: ErrorCode;
  /** What to do about it (default: check the path). */
  actions?: string[];
}

/** A whole text file; a missing, unreadable or oversized file is an exit-2 error that names it. */
export async function readTextFile(path: string, options: ReadTextOptions = {}): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.length > MAX_INPUT_BYTES) throw new AgentGuardError('INPUT_TOO_LARGE', `${path}: larger than ${MAX_INPUT_BYTES} bytes`);
    return text;
  } catch (error) {
    if (error instanceof AgentGuardError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? String(error));
    throw new AgentGuardError(options.code ?? 'INPUT_UNREADABLE', `cannot read ${options.label ? `${options.label} ` : ''}${path}: ${why}`, {
      actions: options.actions ?? ['Check the path.'],
      exitCode: 2,
    });
  }
}

/** All of standard input as text, refused past MAX_INPUT_BYTES. */
export async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw new AgentGuardError('INPUT_TOO_LARGE', `standard input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

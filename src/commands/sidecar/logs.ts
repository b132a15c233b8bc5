import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { AgentGuardError } from '../../core/errors.js';
import { rotatedFiles } from '../../sidecar/log/rotating-file.js';
import { logFilePath } from '../../sidecar/pid-file.js';
import { pollUntil } from '../../core/poll.js';

/** `--json` output: the log file and its lines (each a pino JSON line, or text the process wrote to stderr). */
export interface SidecarLogsResult {
  file: string;
  lines: string[];
}

const FOLLOW_POLL_MS = 200;
/** Rotated files looked at for -n (more than any --log-files a sidecar is likely to keep). */
const MAX_ROTATED_READ = 100;

export default class SidecarLogs extends BaseCommand {
  static summary = "Print the sidecar's log.";
  static description = `Prints <data-dir>/sidecar.log, oldest line first, after the rotated files it replaced (sidecar.log.1, .2, …; see --log-max-mb and --log-files of \`sidecar start\`): one JSON object per line (pino: level, time, msg, and request fields; Authorization headers are redacted, paths are logged without their query string). -n limits the output to the last lines; -f keeps printing new lines until Ctrl-C, across rotations.`;

  static examples = [
    { description: 'The last 50 lines', command: '<%= config.bin %> <%= command.id %> -n 50' },
    { description: 'Follow the log', command: '<%= config.bin %> <%= command.id %> -f' },
    { description: 'Only warnings and errors (pino levels 40+)', command: `<%= config.bin %> <%= command.id %> | jq -c 'select(.level >= 40)'` },
  ];

  static flags = {
    lines: Flags.integer({ char: 'n', description: 'Print only the last N lines.', min: 0, helpValue: '<n>' }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing lines as they are written (not with --json).', exclusive: ['json'] }),
    ...dataDirFlag,
  };

  async run(): Promise<SidecarLogsResult> {
    const { flags } = await this.parse(SidecarLogs);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const file = logFilePath(dataDir);
    if (!existsSync(file)) {
      throw new AgentGuardError('SIDECAR_LOG_NOT_FOUND', `no sidecar log at ${file}`, {
        actions: ['Start the sidecar first (`agentguard sidecar start`), or pass the --data-dir it was started with.'],
      });
    }
    const text = readFileSync(file, 'utf8');
    let lines = splitLines(text);
    // The rotated files hold the older lines (sidecar.log.1 is the newest of them): read back as far as needed.
    for (const older of rotatedFiles(file, MAX_ROTATED_READ)) {
      if (flags.lines !== undefined && lines.length >= flags.lines) break;
      if (!existsSync(older)) break;
      lines = [...splitLines(readFileSync(older, 'utf8')), ...lines];
    }
    if (flags.lines !== undefined) lines = flags.lines === 0 ? [] : lines.slice(-flags.lines);
    const result: SidecarLogsResult = { file, lines };
    if (!this.jsonEnabled() && lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    if (flags.follow) await follow(file, Buffer.byteLength(text));
    return result;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Prints what is appended to `file` from `offset` on, until the process is interrupted. The sidecar rotates by copying
 * the file and emptying it, so a smaller file starts over from its beginning; if the path names another file (moved
 * by hand or by logrotate), the rest of the old one is printed before the new one.
 */
async function follow(file: string, offset: number): Promise<void> {
  let fd = openSync(file, 'r');
  let position = offset;
  const printNew = () => {
    position = printFrom(fd, position);
    let current;
    try {
      current = statSync(file);
    } catch {
      return undefined; // between the rename and the new file
    }
    const open = fstatSync(fd);
    if (current.ino !== open.ino || current.dev !== open.dev) {
      printFrom(fd, position);
      closeSync(fd);
      fd = openSync(file, 'r');
      position = 0;
    } else if (open.size < position) {
      position = 0; // truncated in place
    }
    return undefined;
  };
  await pollUntil(printNew, { intervalMs: FOLLOW_POLL_MS });
}

/** Prints the bytes of `fd` from `position` to its end; returns the new position. */
function printFrom(fd: number, position: number): number {
  const size = fstatSync(fd).size;
  if (size <= position) return position;
  const buffer = Buffer.alloc(size - position);
  const read = readSync(fd, buffer, 0, buffer.length, position);
  process.stdout.write(buffer.subarray(0, read));
  return position + read;
}

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { AgentGuardError } from '../../core/errors.js';
import { logFilePath } from '../../sidecar/pid-file.js';

/** `--json` output: the log file and its lines (each a pino JSON line, or text the process wrote to stderr). */
export interface SidecarLogsResult {
  file: string;
  lines: string[];
}

const FOLLOW_POLL_MS = 200;

export default class SidecarLogs extends BaseCommand {
  static summary = "Print the sidecar's log.";
  static description = `Prints <data-dir>/sidecar.log: one JSON object per line (pino: level, time, msg, and request fields; Authorization headers are redacted). -n limits the output to the last lines; -f keeps printing new lines until Ctrl-C.`;

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
        exitCode: 1,
      });
    }
    const text = readFileSync(file, 'utf8');
    let lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (flags.lines !== undefined) lines = flags.lines === 0 ? [] : lines.slice(-flags.lines);
    const result: SidecarLogsResult = { file, lines };
    if (!this.jsonEnabled() && lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    if (flags.follow) await follow(file, Buffer.byteLength(text));
    return result;
  }
}

/** Prints what is appended to `file` from `offset` on, until the process is interrupted; starts over if it shrinks. */
async function follow(file: string, offset: number): Promise<never> {
  let position = offset;
  for (;;) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      continue; // rotated away: wait for it to come back
    }
    if (size < position) position = 0;
    if (size === position) continue;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(size - position);
      const read = readSync(fd, buffer, 0, buffer.length, position);
      position += read;
      process.stdout.write(buffer.subarray(0, read));
    } finally {
      closeSync(fd);
    }
  }
}

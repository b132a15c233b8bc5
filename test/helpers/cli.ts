import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  input?: string;
  env?: Record<string, string | undefined>;
}

/** The environment every CLI run gets on top of the test process's: no colour, not in GitHub Actions. */
export const CLI_ENV: Record<string, string> = { NO_COLOR: '1', GITHUB_ACTIONS: '' };

/**
 * Runs the CLI as a user would (`node bin/run.js …`) in a child process, without a TTY and without colour.
 * Use it only for what needs a real process (the bin entry, signals, exit on crash, daemons); everything else goes
 * through `runCliInProcess` (./cli-in-process.ts), which needs no new Node process per run.
 */
export function runCli(args: string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...CLI_ENV, ...options.env },
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

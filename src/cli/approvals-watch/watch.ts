import { AgentGuardError } from '../../core/errors.js';
import { runInteractive, type KeyInput, type ScreenOutput } from './interactive.js';
import { LazyApprovals } from './source.js';
import type { WatchStatus } from './state.js';
import { runStream } from './stream.js';

export interface WatchOptions {
  dataDir: string;
  status: WatchStatus;
  intervalMs: number;
  /** Who decides on the interactive screen (--by, else $USER). */
  by: string;
  /** --json: NDJSON change events, never the interactive screen. */
  json: boolean;
  stdin: KeyInput;
  stdout: ScreenOutput & { isTTY?: boolean };
}

/** True when `approvals watch` shows the interactive screen: stdin and stdout are terminals and --json is off. */
export function isInteractive(options: Pick<WatchOptions, 'json' | 'stdin' | 'stdout'>): boolean {
  return !options.json && options.stdin.isTTY === true && options.stdout.isTTY === true;
}

/**
 * The body of `agentguard approvals watch`: the interactive screen on a terminal, else a stream of change lines
 * (NDJSON with `json`), until the user quits, SIGINT or SIGTERM arrives, or stdout goes away (`| head`).
 * The data folder's database is opened when it exists (waiting for it otherwise) and closed on the way out.
 *
 * @example await watchApprovals({ dataDir, status: 'pending', intervalMs: 1000, by: 'alice', json: false, stdin: process.stdin, stdout: process.stdout })
 */
export async function watchApprovals(options: WatchOptions): Promise<void> {
  const interactive = isInteractive(options);
  if (interactive && options.by.trim() === '') {
    throw new AgentGuardError('APPROVAL_BY_REQUIRED', 'who decides the approvals must be named', {
      actions: ['Pass --by NAME, or set $USER.'],
    });
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  options.stdout.on('error', stop);
  const source = new LazyApprovals(options.dataDir);
  try {
    const common = { source, status: options.status, intervalMs: options.intervalMs, signal: controller.signal };
    if (interactive) await runInteractive({ ...common, input: options.stdin, output: options.stdout, by: options.by });
    else await runStream({ ...common, json: options.json, write: (text) => void options.stdout.write(text) });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    options.stdout.removeListener('error', stop);
    await source.close();
  }
}

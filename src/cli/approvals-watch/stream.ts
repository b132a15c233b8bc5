import type { ApprovalRecord } from '../../core/approvals/types.js';
import { pollUntil } from '../../core/poll.js';
import { diffPolls, oldestFirst, type WatchChange } from './changes.js';
import { readWatched } from './poll.js';
import { renderChangeJson, renderChangeLine } from './render-change.js';
import type { ApprovalSource } from './source.js';
import type { WatchStatus } from './state.js';

export interface StreamOptions {
  source: ApprovalSource;
  status: WatchStatus;
  intervalMs: number;
  /** NDJSON `{event, approval}` objects instead of plain lines. */
  json: boolean;
  write: (text: string) => void;
  /** Stops the watch (SIGINT, SIGTERM); the poll under way finishes first. */
  signal: AbortSignal;
  now?: () => Date;
}

/**
 * `approvals watch` without a terminal: prints the pending approvals once (event `pending`), then one line per change
 * seen at each poll (requested, escalated, approved, denied, expired, cancelled, consumed) until `signal` aborts.
 * A request decided between two polls is reported only with `--status all`.
 *
 * @example await runStream({ source, status: 'pending', intervalMs: 1000, json: true, write: (t) => process.stdout.write(t), signal })
 */
export async function runStream(options: StreamOptions): Promise<void> {
  const now = options.now ?? (() => new Date());
  const print = (changes: WatchChange[]) => {
    const at = now();
    for (const change of changes) options.write(options.json ? renderChangeJson(change) : renderChangeLine(change, at));
  };
  let seen: Map<string, ApprovalRecord> | undefined;
  const poll = async () => {
    const current = await readWatched(options.source, options.status);
    if (seen === undefined) {
      print(oldestFirst(current.filter((r) => r.status === 'pending')).map((approval) => ({ event: 'pending', approval })));
      seen = new Map(current.map((r) => [r.id, r]));
      return undefined;
    }
    const ids = new Set(current.map((r) => r.id));
    // Those that left the list (decided, expired) are read one by one to learn what became of them.
    const vanished = await Promise.all([...seen.keys()].filter((id) => !ids.has(id)).map((id) => options.source.get(id)));
    const diff = diffPolls(seen, current, vanished);
    print(diff.changes);
    seen = diff.seen;
    return undefined;
  };
  await pollUntil(poll, { intervalMs: options.intervalMs, signal: options.signal });
}

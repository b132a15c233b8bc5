import type { ApprovalRecord } from '../../core/approvals/types.js';
import type { ApprovalSource } from './source.js';
import type { WatchStatus } from './state.js';

/** With `--status all`, how many of the newest approvals are watched (older ones rarely change). */
export const WATCH_ALL_LIMIT = 500;

/** The approvals `--status` watches, read through the service (so expiries and escalations are swept first). */
export function readWatched(source: ApprovalSource, status: WatchStatus): Promise<ApprovalRecord[]> {
  return status === 'pending' ? source.list({ status: 'pending' }) : source.list({ limit: WATCH_ALL_LIMIT });
}

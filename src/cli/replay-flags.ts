import { Flags } from '@oclif/core';
import { parseTimeBound } from '../core/audit/filters.js';
import type { RecordFilter } from '../core/replay/records.js';

/** The flags that pick which recorded decisions `policy replay` and `policy diff --replay` re-decide. */
export const replayFlags = {
  since: Flags.string({ description: 'Only decisions recorded at or after this time: ISO 8601 (2026-03-01, 2026-03-01T12:00:00Z) or back from now: 15m, 2h, 7d.', helpValue: '<time>' }),
  until: Flags.string({ description: 'Only decisions recorded before this time (same forms as --since).', helpValue: '<time>' }),
  agent: Flags.string({ description: 'Only decisions of this agent id.', helpValue: '<id>' }),
  'fail-on-change': Flags.boolean({ description: 'Exit with 1 when any recorded decision would change (for a CI gate).' }),
  examples: Flags.integer({ description: 'Examples shown per rule in the text view (--json lists every change).', default: 3, min: 0 }),
};

/** The record filter the flags give. Bad times are usage errors (exit 2). */
export function replayFilter(flags: { since?: string; until?: string; agent?: string }, now = new Date()): RecordFilter {
  return {
    ...(flags.since !== undefined ? { since: parseTimeBound(flags.since, '--since', now) } : {}),
    ...(flags.until !== undefined ? { until: parseTimeBound(flags.until, '--until', now) } : {}),
    ...(flags.agent !== undefined ? { agent: flags.agent } : {}),
  };
}

import { Flags } from '@oclif/core';
import { parseIsoTime } from '../core/audit/filters.js';
import { AgentGuardError } from '../core/errors.js';

/** `--at <ISO time>`: decide as if it were that time (what `time` conditions and rate windows read). */
export const atFlag = Flags.string({
  description: 'Decide as if it were this time (ISO 8601, UTC unless it has an offset: 2026-03-27T16:30:00+01:00), for time conditions.',
  helpValue: '<time>',
});

/** The clock `--at` sets, or undefined without it. A time that cannot be read is a usage error (exit 2). */
export function clockAt(text: string | undefined): (() => Date) | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoTime(text.trim());
  if (ms === undefined) {
    throw new AgentGuardError('USAGE', `--at ${JSON.stringify(text)} is not a time`, {
      actions: ['Give an ISO 8601 date or time: 2026-03-27, 2026-03-27T16:30, 2026-03-27T16:30:00Z or 2026-03-27T16:30:00+01:00 (UTC unless it has an offset).'],
    });
  }
  return () => new Date(ms);
}

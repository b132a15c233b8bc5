import type { WatchChange } from './changes.js';
import { actionLabel, oneLine, summariseInput, timeLeft } from './text.js';

/**
 * One plain-text line (no colour, newline included) for a change seen by `approvals watch` outside a terminal:
 * the time seen, the event, the full approval id, agent, action and input, then what the event is about.
 *
 * @example
 * renderChangeLine({ event: 'requested', approval }, now)
 * // '2026-03-01T12:00:00.000Z requested apr_0123… agent=pay-bot tool payments.transfer amount=5000 | Transfers over 1000 need a person | expires in 15m00s\n'
 */
export function renderChangeLine(change: WatchChange, now: Date): string {
  const r = change.approval;
  const head = `${now.toISOString()} ${change.event} ${r.id} agent=${oneLine(r.agentId ?? '-')} ${actionLabel(r)} ${summariseInput(r.action.input)}`;
  const tail: string[] = [];
  switch (change.event) {
    case 'pending':
    case 'requested':
      tail.push(oneLine(r.reason || '-'), r.status === 'pending' ? `expires in ${timeLeft(r.expiresAt, now)}` : `now ${r.status}`);
      break;
    case 'escalated':
      tail.push(`escalated to ${oneLine(r.escalateTo.join(', ')) || '-'}`);
      break;
    case 'approved':
    case 'denied':
    case 'cancelled':
      tail.push(`by ${oneLine(r.decidedBy ?? '-')}${r.comment ? `: ${oneLine(r.comment)}` : ''}`);
      break;
    case 'expired':
      tail.push('timed out (a timeout is a deny)');
      break;
    case 'consumed':
      tail.push(`action run at ${r.consumedAt ?? '-'}`);
      break;
  }
  return `${[head, ...tail].join(' | ')}\n`;
}

/** The NDJSON line of a change with --json: `{"event":…,"approval":{…}}` and a newline. */
export function renderChangeJson(change: WatchChange): string {
  return `${JSON.stringify({ event: change.event, approval: change.approval })}\n`;
}

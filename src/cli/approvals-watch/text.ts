import type { ApprovalRecord } from '../../core/approvals/types.js';

/**
 * How long until `expiresAt`, for a countdown: `45s`, `4m05s`, `3h07m`, `2d04h`, or `expired` when the time has come.
 * Rounded up to the second, so it reads `1s` until the very end.
 *
 * @example timeLeft('2026-03-01T12:05:00Z', new Date('2026-03-01T12:00:55Z')) // '4m05s'
 */
export function timeLeft(expiresAt: string, now: Date): string {
  const seconds = Math.ceil((Date.parse(expiresAt) - now.getTime()) / 1000);
  if (!(seconds > 0)) return 'expired';
  const two = (n: number) => String(n).padStart(2, '0');
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${two(Math.floor(seconds / 60) % 60)}m`;
  return `${Math.floor(seconds / 86_400)}d${two(Math.floor(seconds / 3600) % 24)}h`;
}

/**
 * A one-line summary of an action's input (already masked in the record): `key=value` pairs, strings bare when they
 * are one word, anything else as compact JSON; `-` when there is none.
 *
 * @example summariseInput({ amount: 5000, to: 'acme' }) // 'amount=5000 to=acme'
 */
export function summariseInput(input: Record<string, unknown> | undefined): string {
  const entries = Object.entries(input ?? {});
  if (entries.length === 0) return '-';
  const value = (v: unknown) => (typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : (JSON.stringify(v) ?? String(v)));
  return oneLine(entries.map(([k, v]) => `${k}=${value(v)}`).join(' '));
}

/** Control characters (newlines, tabs, escape sequences) as spaces, so text from an agent cannot move the cursor. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, ' ');
}

/**
 * `text` cut to `width` characters, ending in `…` when cut.
 *
 * @example truncate('payments.transfer', 8) // 'payment…'
 */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (width <= 0) return '';
  if (chars.length <= width) return text;
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** `text` cut or padded with spaces to exactly `width` characters. */
export function fitCell(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - [...cut].length));
}

/** The short form of an approval id shown in the list: `apr_` and the first 8 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** `tool payments.transfer`. */
export function actionLabel(r: ApprovalRecord): string {
  return oneLine(`${r.action.kind} ${r.action.name}`);
}

import { stripVTControlCharacters } from 'node:util';
import type { ChalkInstance } from 'chalk';
import type { ApprovalRecord, ApprovalStatus } from '../../core/approvals/types.js';
import { renderApproval } from '../approvals.js';
import { paint as defaultPaint } from '../style.js';
import { promptText, type WatchState } from './state.js';
import { actionLabel, fitCell, oneLine, shortId, summariseInput, timeLeft, truncate } from './text.js';

export interface ScreenOptions {
  /** Terminal rows; the list scrolls to keep the selection in view (default 24). */
  height?: number;
  /** Colours (default: the CLI's, which are off without a TTY or with NO_COLOR). */
  paint?: ChalkInstance;
}

/** Marks an escalated approval in the list. */
export const ESCALATED_MARK = '⚑';

const HELP = `↑/↓ or j/k select · a approve · d deny · Enter details · q quit · ${ESCALATED_MARK} escalated`;
const DETAILS_HELP = 'Enter or Esc back to the list · Ctrl-C quit';
/** Lines around the list: title, column heading, message, help or prompt. */
const CHROME_LINES = 4;

type Style = (text: string) => string;
type Segment = [text: string, style?: Style];

/**
 * One frame of the interactive `approvals watch` screen: lines no wider than `width` (colour codes aside), at most
 * `height` of them. Pure: the same state, time and size give the same text; no ANSI codes when colour is off.
 *
 * @example process.stdout.write(renderScreen(state, new Date(), process.stdout.columns, { height: process.stdout.rows }))
 */
export function renderScreen(state: WatchState, now: Date, width: number, options: ScreenOptions = {}): string {
  const paint = options.paint ?? defaultPaint;
  const height = Math.max(CHROME_LINES + 1, options.height ?? 24);
  const cols = Math.max(1, Math.floor(width));
  const lines = state.mode.kind === 'details' ? detailsLines(state.mode.approval, now, cols, height, paint) : listLines(state, now, cols, height, paint);
  return `${lines.join('\n')}\n`;
}

function listLines(state: WatchState, now: Date, width: number, height: number, paint: ChalkInstance): string[] {
  const pending = state.records.filter((r) => r.status === 'pending').length;
  const counts = state.status === 'all' ? `${pending} pending of ${state.records.length}` : `${pending} pending`;
  const lines = [fit([[`agentguard approvals · ${counts} · deciding as ${oneLine(state.by) || '(nobody)'}`, paint.bold]], width)];
  const room = height - CHROME_LINES;
  if (!state.loaded) lines.push(fit([['Reading approvals…', paint.dim]], width));
  else if (state.records.length === 0) lines.push(fit([[`No ${state.status === 'pending' ? 'pending ' : ''}approvals. Waiting for new ones…`, paint.dim]], width));
  else lines.push(...table(state, now, width, room, paint));
  const message = state.message === null ? '' : oneLine(state.message.text);
  const tone = state.message?.tone === 'error' ? paint.red : state.message?.tone === 'success' ? paint.green : paint.dim;
  lines.push(fit([[message, tone]], width));
  const prompt = promptText(state.mode);
  lines.push(prompt === null ? fit([[HELP, paint.dim]], width) : fit([[oneLine(prompt), paint.bold]], width));
  return lines;
}

/** Column widths: fixed ones, and the rest shared by input and reason. */
function columns(records: readonly ApprovalRecord[], width: number) {
  const agent = Math.min(16, Math.max(5, ...records.map((r) => [...(r.agentId ?? '-')].length)));
  const action = Math.min(32, Math.max(6, ...records.map((r) => [...actionLabel(r)].length)));
  const fixed = 2 + 12 + agent + action + 9 + 1 + 2 * 6;
  const rest = Math.max(0, width - fixed);
  const input = Math.ceil(rest * 0.55);
  return { id: 12, agent, action, input, reason: rest - input, left: 9 };
}

function table(state: WatchState, now: Date, width: number, room: number, paint: ChalkInstance): string[] {
  const w = columns(state.records, width);
  const heading = ['  ', fitCell('ID', w.id), '  ', fitCell('AGENT', w.agent), '  ', fitCell('ACTION', w.action), '  ', fitCell('INPUT', w.input), '  ', fitCell('REASON', w.reason), '  ', fitCell('LEFT', w.left), '  ', ' '].join('');
  const selected = Math.max(0, state.records.findIndex((r) => r.id === state.selectedId));
  // Keep the selection in view; when rows are left out, the last line says how many.
  const more = state.records.length > room;
  const visible = more ? Math.max(1, room - 1) : room;
  const start = Math.max(0, Math.min(selected - visible + 1, state.records.length - visible));
  const rows = state.records.slice(start, start + visible).map((r, i) => row(r, start + i === selected, now, w, width, paint));
  const lines = [fit([[heading, paint.bold]], width), ...rows];
  if (more) lines.push(fit([[`  … ${state.records.length - rows.length} more (${start} above)`, paint.dim]], width));
  return lines;
}

const STATUS_STYLE: Record<ApprovalStatus, (p: ChalkInstance) => Style> = {
  pending: (p) => p.yellow,
  approved: (p) => p.green,
  denied: (p) => p.red,
  expired: (p) => p.red,
  cancelled: (p) => p.dim,
};

function row(r: ApprovalRecord, selected: boolean, now: Date, w: ReturnType<typeof columns>, width: number, paint: ChalkInstance): string {
  const left = r.status === 'pending' ? timeLeft(r.expiresAt, now) : r.status;
  const leftStyle = r.status !== 'pending' ? STATUS_STYLE[r.status](paint) : left === 'expired' || Date.parse(r.expiresAt) - now.getTime() < 60_000 ? paint.red : undefined;
  const marked = (style: Style | undefined): Style | undefined => (selected ? (t) => paint.inverse(style ? style(t) : t) : style);
  const segments: Segment[] = [
    [selected ? '> ' : '  ', marked(paint.bold)],
    [fitCell(shortId(r.id), w.id), marked(undefined)],
    ['  ' + fitCell(oneLine(r.agentId ?? '-'), w.agent), marked(undefined)],
    ['  ' + fitCell(actionLabel(r), w.action), marked(undefined)],
    ['  ' + fitCell(summariseInput(r.action.input), w.input), marked(undefined)],
    ['  ' + fitCell(oneLine(r.reason || '-'), w.reason), marked(undefined)],
    ['  ' + fitCell(left, w.left), marked(leftStyle)],
    ['  ' + (r.escalatedAt === null ? ' ' : ESCALATED_MARK), marked(r.escalatedAt === null ? undefined : paint.red)],
  ];
  return fit(segments, width);
}

function detailsLines(r: ApprovalRecord, now: Date, width: number, height: number, paint: ChalkInstance): string[] {
  const status = r.status === 'pending' ? `pending, ${timeLeft(r.expiresAt, now)} left` : r.status;
  const title = fit([[`agentguard approvals · ${r.id} · ${status}`, paint.bold]], width);
  // renderApproval paints with the CLI's colours; strip them so this screen follows its own.
  const body = stripVTControlCharacters(renderApproval(r)).trimEnd().split('\n').map((l) => fit([[oneLine(l)]], width));
  const room = height - 2;
  const shown = body.length > room ? [...body.slice(0, room - 1), fit([[`  … ${body.length - room + 1} more lines (see \`agentguard approvals show ${r.id}\`)`, paint.dim]], width)] : body;
  return [title, ...shown, fit([[DETAILS_HELP, paint.dim]], width)];
}

/** Segments cut to `width` visible characters in all, each painted after cutting (so codes never count or split). */
function fit(segments: Segment[], width: number): string {
  let room = width;
  let out = '';
  for (const [text, style] of segments) {
    if (room <= 0) break;
    const length = [...text].length;
    const cut = length <= room ? text : truncate(text, room);
    room -= Math.min(length, room);
    out += style && cut !== '' ? style(cut) : cut;
  }
  return out;
}

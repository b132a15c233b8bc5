import type { ApprovalRecord } from '../../core/approvals/types.js';
import type { Key } from './keys.js';

/** Which approvals the screen lists: the pending ones, or all (pending first). */
export type WatchStatus = 'pending' | 'all';

/** A decision the screen can take. */
export type Verdict = 'approved' | 'denied';

/** What the screen is doing: listing, asking to confirm, reading a comment, deciding, or showing one approval. */
export type WatchMode =
  | { kind: 'list' }
  | { kind: 'confirm'; approval: ApprovalRecord; verdict: Verdict }
  | { kind: 'comment'; approval: ApprovalRecord; verdict: Verdict; text: string }
  | { kind: 'deciding'; approval: ApprovalRecord; verdict: Verdict }
  | { kind: 'details'; approval: ApprovalRecord };

export interface WatchMessage {
  text: string;
  tone: 'info' | 'success' | 'error';
}

/** Everything the interactive `approvals watch` screen shows; changed only by `update`. */
export interface WatchState {
  /** Who decides (--by, else $USER). */
  by: string;
  status: WatchStatus;
  /** The listed approvals, pending first, newest request first. */
  records: ApprovalRecord[];
  /** The selected approval's id; kept across polls while it is listed. */
  selectedId: string | null;
  mode: WatchMode;
  message: WatchMessage | null;
  /** False until the first poll answered. */
  loaded: boolean;
  quit: boolean;
}

/** What happened: a key, a poll's answer, or the outcome of a decision the state asked for. */
export type WatchInput =
  | { type: 'key'; key: Key }
  | { type: 'records'; records: ApprovalRecord[] }
  | { type: 'decided'; approval: ApprovalRecord }
  /** A decision was refused (closed by someone else, expired, unknown) or failed: `message` says why. */
  | { type: 'decide-failed'; message: string }
  /** A poll failed; the screen keeps the last list and says why. */
  | { type: 'poll-failed'; message: string };

/** What the loop must do for the state: decide an approval through Approvals.decide, or stop. */
export type WatchCommand = { type: 'decide'; id: string; status: Verdict; comment?: string } | { type: 'quit' };

export interface WatchStep {
  state: WatchState;
  command?: WatchCommand;
}

/** Longest comment typed on the screen, in characters. */
export const MAX_COMMENT_LENGTH = 500;

const VERB: Record<Verdict, { now: string; done: string }> = {
  approved: { now: 'Approve', done: 'Approved' },
  denied: { now: 'Deny', done: 'Denied' },
};

/**
 * The state before anything was read.
 *
 * @example initialWatchState({ by: 'alice', status: 'pending' })
 */
export function initialWatchState(options: { by: string; status: WatchStatus }): WatchState {
  return { by: options.by, status: options.status, records: [], selectedId: null, mode: { kind: 'list' }, message: null, loaded: false, quit: false };
}

/**
 * The one place the screen's state changes: a pure function of the state and what happened, returning the next state
 * and, when the loop must act, a command (decide an approval, or quit).
 *
 * @example
 * let step = update(state, { type: 'key', key: { name: 'char', char: 'a' } }); // asks "Approve …? y/n"
 * step = update(step.state, { type: 'key', key: { name: 'char', char: 'y' } }); // asks for a comment
 * step = update(step.state, { type: 'key', key: { name: 'enter' } });          // step.command: { type: 'decide', … }
 */
export function update(state: WatchState, input: WatchInput): WatchStep {
  switch (input.type) {
    case 'records':
      return { state: withRecords(state, input.records) };
    case 'decided': {
      const a = input.approval;
      const verb = a.status === 'approved' || a.status === 'denied' ? VERB[a.status].done : a.status;
      const text = `${verb} ${a.id} (${a.action.name}) as ${a.decidedBy ?? state.by}`;
      // The decided record replaces its stale copy at once, so the list never offers it again before the next poll.
      const records = withRecords(state, state.records.map((r) => (r.id === a.id ? a : r)));
      return { state: { ...records, mode: { kind: 'list' }, message: { tone: 'success', text } } };
    }
    case 'decide-failed':
      return { state: { ...state, mode: { kind: 'list' }, message: { tone: 'error', text: input.message } } };
    case 'poll-failed':
      return { state: { ...state, message: { tone: 'error', text: input.message } } };
    case 'key':
      return onKey(state, input.key);
  }
}

/** The listed approvals in screen order: pending first, then the rest; newest request first within each. */
export function screenOrder(records: readonly ApprovalRecord[]): ApprovalRecord[] {
  const rank = (r: ApprovalRecord) => (r.status === 'pending' ? 0 : 1);
  return [...records].sort((a, b) => rank(a) - rank(b) || b.requestedAt.localeCompare(a.requestedAt) || b.id.localeCompare(a.id));
}

/** The selected approval, or null when nothing is listed. */
export function selectedApproval(state: WatchState): ApprovalRecord | null {
  return state.records.find((r) => r.id === state.selectedId) ?? null;
}

function withRecords(state: WatchState, incoming: ApprovalRecord[]): WatchState {
  const records = screenOrder(state.status === 'pending' ? incoming.filter((r) => r.status === 'pending') : incoming);
  let selectedId = state.selectedId;
  if (!records.some((r) => r.id === selectedId)) {
    // The selected one left the list (decided, expired): select whichever now stands where it stood.
    const before = state.records.findIndex((r) => r.id === selectedId);
    const index = Math.min(Math.max(before, 0), records.length - 1);
    selectedId = index >= 0 ? records[index].id : null;
  }
  return { ...state, records, selectedId, loaded: true };
}

function onKey(state: WatchState, key: Key): WatchStep {
  if (key.name === 'interrupt') return { state: { ...state, quit: true }, command: { type: 'quit' } };
  const mode = state.mode;
  switch (mode.kind) {
    case 'list':
      return onListKey({ ...state, message: null }, key);
    case 'details':
      if (key.name === 'enter' || key.name === 'escape' || key.name === 'backspace' || (key.name === 'char' && key.char === 'q')) {
        return { state: { ...state, mode: { kind: 'list' } } };
      }
      return { state };
    case 'confirm':
      if (key.name === 'char' && (key.char === 'y' || key.char === 'Y')) {
        return { state: { ...state, mode: { kind: 'comment', approval: mode.approval, verdict: mode.verdict, text: '' } } };
      }
      if ((key.name === 'char' && (key.char === 'n' || key.char === 'N' || key.char === 'q')) || key.name === 'escape') {
        return { state: { ...state, mode: { kind: 'list' }, message: { tone: 'info', text: `Left ${mode.approval.id} pending.` } } };
      }
      return { state };
    case 'comment':
      return onCommentKey(state, mode, key);
    case 'deciding':
      // The decision is on its way: keys wait (Ctrl-C, above, still quits).
      return { state };
  }
}

function onListKey(state: WatchState, key: Key): WatchStep {
  const char = key.name === 'char' ? key.char : null;
  if (key.name === 'up' || char === 'k') return { state: move(state, -1) };
  if (key.name === 'down' || char === 'j') return { state: move(state, 1) };
  if (char === 'q' || char === 'Q') return { state: { ...state, quit: true }, command: { type: 'quit' } };
  const selected = selectedApproval(state);
  if (key.name === 'enter') {
    if (selected === null) return { state: { ...state, message: { tone: 'info', text: 'Nothing to show: no approval is listed.' } } };
    return { state: { ...state, mode: { kind: 'details', approval: selected } } };
  }
  if (char === 'a' || char === 'd') {
    const verdict: Verdict = char === 'a' ? 'approved' : 'denied';
    if (selected === null) return { state: { ...state, message: { tone: 'info', text: `Nothing to ${VERB[verdict].now.toLowerCase()}: no approval is listed.` } } };
    if (selected.status !== 'pending') {
      return { state: { ...state, message: { tone: 'error', text: `${selected.id} is ${selected.status}; only pending approvals can be decided.` } } };
    }
    return { state: { ...state, mode: { kind: 'confirm', approval: selected, verdict } } };
  }
  return { state };
}

function onCommentKey(state: WatchState, mode: Extract<WatchMode, { kind: 'comment' }>, key: Key): WatchStep {
  switch (key.name) {
    case 'escape':
      return { state: { ...state, mode: { kind: 'list' }, message: { tone: 'info', text: `Left ${mode.approval.id} pending.` } } };
    case 'backspace':
      return { state: { ...state, mode: { ...mode, text: [...mode.text].slice(0, -1).join('') } } };
    case 'enter': {
      const comment = mode.text.trim();
      return {
        state: { ...state, mode: { kind: 'deciding', approval: mode.approval, verdict: mode.verdict } },
        command: { type: 'decide', id: mode.approval.id, status: mode.verdict, ...(comment === '' ? {} : { comment }) },
      };
    }
    case 'char':
      if ([...mode.text].length >= MAX_COMMENT_LENGTH) return { state };
      return { state: { ...state, mode: { ...mode, text: mode.text + key.char } } };
    default:
      return { state };
  }
}

function move(state: WatchState, by: -1 | 1): WatchState {
  if (state.records.length === 0) return state;
  const at = state.records.findIndex((r) => r.id === state.selectedId);
  const index = Math.min(Math.max(at + by, 0), state.records.length - 1);
  return { ...state, selectedId: state.records[at === -1 ? 0 : index].id };
}

/** The prompt line of a confirmation or comment, for the renderer. */
export function promptText(mode: WatchMode): string | null {
  switch (mode.kind) {
    case 'confirm':
      return `${VERB[mode.verdict].now} ${mode.approval.id} (${mode.approval.action.name}${mode.approval.agentId === null ? '' : ` by ${mode.approval.agentId}`})? [y/n]`;
    case 'comment':
      return `Comment (optional; Enter to ${VERB[mode.verdict].now.toLowerCase()}, Esc to cancel): ${mode.text}`;
    case 'deciding':
      return `${VERB[mode.verdict].now === 'Approve' ? 'Approving' : 'Denying'} ${mode.approval.id}…`;
    default:
      return null;
  }
}

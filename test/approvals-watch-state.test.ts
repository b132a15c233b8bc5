import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { changesOf, diffPolls } from '../src/cli/approvals-watch/changes.js';
import { parseInterval } from '../src/cli/approvals-watch/interval.js';
import { keyFrom, type Key } from '../src/cli/approvals-watch/keys.js';
import { renderChangeJson, renderChangeLine } from '../src/cli/approvals-watch/render-change.js';
import { ESCALATED_MARK, renderScreen } from '../src/cli/approvals-watch/render-screen.js';
import { initialWatchState, MAX_COMMENT_LENGTH, update, type WatchInput, type WatchState, type WatchStep } from '../src/cli/approvals-watch/state.js';
import { summariseInput, timeLeft, truncate } from '../src/cli/approvals-watch/text.js';
import type { ApprovalRecord } from '../src/core/approvals/types.js';
import { approvalRecord } from './helpers/approval-fixtures.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ANSI = /\x1b\[/;
const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

let counter = 0;
/** An approval record as the store holds it; `minutesAgo` orders requests, `leftMs` sets the expiry. */
function record(overrides: Partial<ApprovalRecord> & { minutesAgo?: number; leftMs?: number } = {}): ApprovalRecord {
  const { minutesAgo = 1, leftMs = 15 * 60_000, ...rest } = overrides;
  counter += 1;
  const hex = counter.toString(16).padStart(32, '0');
  return approvalRecord({
    id: `apr_${hex}`,
    decisionId: `dec_${counter}`,
    action: { agent: { id: 'pay-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme' } },
    requestedAt: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(),
    expiresAt: new Date(NOW.getTime() + leftMs).toISOString(),
    approvers: [],
    ...rest,
  });
}

const char = (c: string): WatchInput => ({ type: 'key', key: { name: 'char', char: c } });
const key = (name: Exclude<Key['name'], 'char'>): WatchInput => ({ type: 'key', key: { name } as Key });

/** Feeds inputs in turn; returns every step. */
function run(state: WatchState, ...inputs: WatchInput[]): WatchStep[] {
  const steps: WatchStep[] = [];
  for (const input of inputs) {
    const step = update(state, input);
    steps.push(step);
    state = step.state;
  }
  return steps;
}
const last = (steps: WatchStep[]) => steps[steps.length - 1];

function loaded(records: ApprovalRecord[], status: 'pending' | 'all' = 'pending'): WatchState {
  return update(initialWatchState({ by: 'alice', status }), { type: 'records', records }).state;
}

describe('the watch reducer', () => {
  it('lists pending approvals newest first and selects the first; --status all puts pending first', () => {
    const old = record({ minutesAgo: 10 });
    const mid = record({ minutesAgo: 5, status: 'approved' });
    const fresh = record({ minutesAgo: 1 });
    const state = loaded([old, mid, fresh]);
    expect(state.records.map((r) => r.id)).toEqual([fresh.id, old.id]);
    expect(state.selectedId).toBe(fresh.id);
    expect(state.loaded).toBe(true);
    expect(loaded([old, mid, fresh], 'all').records.map((r) => r.id)).toEqual([fresh.id, old.id, mid.id]);
  });

  it('moves the selection with up/down and j/k, clamped to the list', () => {
    const [a, b, c] = [record({ minutesAgo: 1 }), record({ minutesAgo: 2 }), record({ minutesAgo: 3 })];
    const state = loaded([a, b, c]);
    const selections = run(state, key('down'), char('j'), char('j'), key('up'), char('k'), char('k')).map((s) => s.state.selectedId);
    expect(selections).toEqual([b.id, c.id, c.id, b.id, a.id, a.id]);
  });

  it('keeps the selection on the same approval across polls, and moves to its neighbour when it leaves', () => {
    const [a, b, c] = [record({ minutesAgo: 1 }), record({ minutesAgo: 2 }), record({ minutesAgo: 3 })];
    let state = last(run(loaded([a, b, c]), key('down'))).state;
    expect(state.selectedId).toBe(b.id);
    const d = record({ minutesAgo: 0 });
    state = update(state, { type: 'records', records: [d, a, b, c] }).state;
    expect(state.selectedId).toBe(b.id);
    state = update(state, { type: 'records', records: [d, a, c] }).state;
    expect(state.selectedId).toBe(c.id);
    state = update(state, { type: 'records', records: [d, a] }).state;
    expect(state.selectedId).toBe(a.id);
    state = update(state, { type: 'records', records: [] }).state;
    expect(state.selectedId).toBeNull();
  });

  it('approves after y and a comment: a decide command with the trimmed comment, then the decided message', () => {
    const a = record();
    const steps = run(loaded([a]), char('a'), char('y'), ...[...' ok '].map(char), key('enter'));
    expect(steps[0].state.mode).toMatchObject({ kind: 'confirm', verdict: 'approved', approval: { id: a.id } });
    expect(steps[1].state.mode).toMatchObject({ kind: 'comment', text: '' });
    expect(steps[steps.length - 2].state.mode).toMatchObject({ kind: 'comment', text: ' ok ' });
    expect(steps.slice(0, -1).every((s) => s.command === undefined)).toBe(true);
    const sent = last(steps);
    expect(sent.command).toEqual({ type: 'decide', id: a.id, status: 'approved', comment: 'ok' });
    expect(sent.state.mode.kind).toBe('deciding');
    // Keys wait while deciding.
    expect(update(sent.state, char('d')).state.mode.kind).toBe('deciding');
    const done = update(sent.state, { type: 'decided', approval: { ...a, status: 'approved', decidedBy: 'alice', comment: 'ok' } }).state;
    expect(done.mode.kind).toBe('list');
    expect(done.message).toEqual({ tone: 'success', text: `Approved ${a.id} (payments.transfer) as alice` });
  });

  it('takes a decided approval off the pending list at once, before the next poll, so it cannot be decided twice', () => {
    const older = record({ id: 'apr_older', minutesAgo: 5 });
    const newer = record({ id: 'apr_newer', minutesAgo: 1 });
    const state = run(loaded([older, newer]), key('down'))[0].state;
    expect(state.selectedId).toBe(older.id);
    const decided = { ...older, status: 'approved' as const, decidedBy: 'alice' };
    const pending = update(state, { type: 'decided', approval: decided }).state;
    expect(pending.records.map((r) => r.id)).toEqual([newer.id]);
    expect(pending.selectedId).toBe(newer.id);
    expect(update(pending, char('d')).state.mode).toMatchObject({ kind: 'confirm', approval: { id: newer.id } });
    const all = update({ ...state, status: 'all' }, { type: 'decided', approval: decided }).state;
    expect(all.records.find((r) => r.id === older.id)?.status).toBe('approved');
    expect(update(all, char('a')).command).toBeUndefined();
  });

  it('denies without a comment, editing with backspace; n and Esc leave it pending', () => {
    const a = record();
    const steps = run(loaded([a]), char('d'), char('y'), char('x'), char('y'), key('backspace'), key('backspace'), key('enter'));
    expect(last(steps).command).toEqual({ type: 'decide', id: a.id, status: 'denied' });
    const no = last(run(loaded([a]), char('d'), char('n')));
    expect(no.command).toBeUndefined();
    expect(no.state.mode.kind).toBe('list');
    expect(no.state.message?.text).toBe(`Left ${a.id} pending.`);
    const esc = last(run(loaded([a]), char('a'), char('y'), char('h'), key('escape')));
    expect(esc.command).toBeUndefined();
    expect(esc.state.mode.kind).toBe('list');
    // Other keys in the confirmation are ignored.
    expect(last(run(loaded([a]), char('a'), char('x'))).state.mode.kind).toBe('confirm');
  });

  it('types j, k, q and a into a comment rather than acting on them, up to the length limit', () => {
    const a = record();
    const steps = run(loaded([a]), char('a'), char('y'), char('j'), char('k'), char('q'), char('a'));
    expect(last(steps).state.mode).toMatchObject({ kind: 'comment', text: 'jkqa' });
    expect(steps.every((s) => s.command === undefined)).toBe(true);
    let state = steps[1].state;
    for (let i = 0; i < MAX_COMMENT_LENGTH + 5; i++) state = update(state, char('x')).state;
    expect(state.mode).toMatchObject({ kind: 'comment', text: 'x'.repeat(MAX_COMMENT_LENGTH) });
  });

  it('shows a refused decision as a message and goes back to the list', () => {
    const a = record();
    const deciding = last(run(loaded([a]), char('a'), char('y'), key('enter'))).state;
    const failed = update(deciding, { type: 'decide-failed', message: `approval ${a.id} is already denied by bob` }).state;
    expect(failed.mode.kind).toBe('list');
    expect(failed.message).toEqual({ tone: 'error', text: `approval ${a.id} is already denied by bob` });
    expect(failed.quit).toBe(false);
    // The next key clears the message.
    expect(update(failed, char('j')).state.message).toBeNull();
  });

  it('refuses to decide a closed approval or nothing, with a message and no command', () => {
    const closed = record({ status: 'approved' });
    const all = loaded([closed], 'all');
    const step = update(all, char('d'));
    expect(step.command).toBeUndefined();
    expect(step.state.mode.kind).toBe('list');
    expect(step.state.message).toEqual({ tone: 'error', text: `${closed.id} is approved; only pending approvals can be decided.` });
    const empty = update(loaded([]), char('a'));
    expect(empty.command).toBeUndefined();
    expect(empty.state.message?.text).toBe('Nothing to approve: no approval is listed.');
  });

  it('opens details with Enter and goes back with Enter, Esc or q; quits with q in the list or Ctrl-C anywhere', () => {
    const a = record();
    const details = update(loaded([a]), key('enter')).state;
    expect(details.mode).toEqual({ kind: 'details', approval: a });
    for (const back of [key('enter'), key('escape'), char('q')]) {
      const step = update(details, back);
      expect(step.state.mode.kind).toBe('list');
      expect(step.command).toBeUndefined();
    }
    expect(update(loaded([a]), char('q'))).toMatchObject({ state: { quit: true }, command: { type: 'quit' } });
    for (const state of [details, last(run(loaded([a]), char('a'), char('y'))).state, last(run(loaded([a]), char('a'), char('y'), key('enter'))).state]) {
      expect(update(state, key('interrupt'))).toMatchObject({ state: { quit: true }, command: { type: 'quit' } });
    }
  });
});

describe('keys', () => {
  it('maps readline keypresses: arrows, Enter, Esc, Backspace, Ctrl-C, printable characters; ignores the rest', () => {
    expect(keyFrom(undefined, { name: 'up', sequence: '\x1b[A' })).toEqual({ name: 'up' });
    expect(keyFrom('\r', { name: 'return', sequence: '\r' })).toEqual({ name: 'enter' });
    expect(keyFrom('\x1b', { name: 'escape', sequence: '\x1b' })).toEqual({ name: 'escape' });
    expect(keyFrom('\x7f', { name: 'backspace', sequence: '\x7f' })).toEqual({ name: 'backspace' });
    expect(keyFrom('\x03', { name: 'c', ctrl: true, sequence: '\x03' })).toEqual({ name: 'interrupt' });
    expect(keyFrom('j', { name: 'j', sequence: 'j' })).toEqual({ name: 'char', char: 'j' });
    expect(keyFrom('é', undefined)).toEqual({ name: 'char', char: 'é' });
    expect(keyFrom(' ', { name: 'space', sequence: ' ' })).toEqual({ name: 'char', char: ' ' });
    expect(keyFrom(undefined, { name: 'f5', sequence: '\x1b[15~' })).toBeNull();
    expect(keyFrom('\x01', { name: 'a', ctrl: true, sequence: '\x01' })).toBeNull();
    expect(keyFrom('\t', { name: 'tab', sequence: '\t' })).toBeNull();
  });
});

describe('the watch screen', () => {
  it('shows each column: short id, agent, action, input summary, reason, countdown and the escalation mark', () => {
    const a = record({ leftMs: 4 * 60_000 + 5_000, escalatedAt: NOW.toISOString(), escalateTo: ['cfo'] });
    const b = record({ minutesAgo: 3, leftMs: 3 * 3_600_000 + 7 * 60_000, agentId: 'ops-bot', action: { kind: 'shell', name: 'rm', input: { path: '/tmp/x y' } } });
    const text = renderScreen(loaded([a, b]), NOW, 160, { paint: plain });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('agentguard approvals · 2 pending · deciding as alice');
    expect(lines[1]).toMatch(/^ {2}ID\s+AGENT\s+ACTION\s+INPUT\s+REASON\s+LEFT/);
    expect(lines[2]).toMatch(new RegExp(`^> ${a.id.slice(0, 12)}\\s+pay-bot\\s+tool payments.transfer\\s+amount=5000 to=acme\\s+Transfers over 1000 need a person\\s+4m05s\\s+${ESCALATED_MARK}$`));
    expect(lines[3]).toMatch(new RegExp(`^  ${b.id.slice(0, 12)}\\s+ops-bot\\s+shell rm\\s+path="/tmp/x y"\\s+Transfers over 1000 need a person\\s+3h07m\\s*$`));
    expect(lines[lines.length - 1]).toContain('a approve · d deny');
    // The countdown moves with the clock.
    expect(renderScreen(loaded([a]), new Date(NOW.getTime() + 65_000), 160, { paint: plain })).toContain(' 3m00s ');
    expect(renderScreen(loaded([a]), new Date(NOW.getTime() + 10 * 60_000), 160, { paint: plain })).toContain(' expired ');
  });

  it('keeps every line within the width, cutting with an ellipsis', () => {
    const long = record({ reason: 'r'.repeat(300), action: { kind: 'tool', name: 'n'.repeat(80), input: { blob: 'x'.repeat(400) } } });
    const state = last(run(loaded([long, record({ minutesAgo: 2 })]), char('a'), char('y'), ...[...'c'.repeat(200)].map(char))).state;
    for (const width of [20, 45, 80, 133]) {
      const lines = renderScreen(state, NOW, width, { paint: plain }).trimEnd().split('\n');
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
      expect(lines.some((line) => line.endsWith('…'))).toBe(true);
    }
  });

  it('scrolls to keep the selection in view within the height', () => {
    const records = Array.from({ length: 30 }, (_, i) => record({ minutesAgo: i + 1 }));
    let state = loaded(records);
    for (let i = 0; i < 25; i++) state = update(state, key('down')).state;
    const lines = renderScreen(state, NOW, 120, { height: 12, paint: plain }).trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.find((l) => l.startsWith('> '))).toContain(records[25].id.slice(0, 12));
    expect(lines.some((l) => /… \d+ more/.test(l))).toBe(true);
  });

  it('writes no ANSI codes with colour off, and colours with it on', () => {
    const state = last(run(loaded([record({ escalatedAt: NOW.toISOString() }), record({ minutesAgo: 4 })]), char('a'))).state;
    expect(renderScreen(state, NOW, 120, { paint: plain })).not.toMatch(ANSI);
    expect(renderScreen(state, NOW, 120, { paint: colour })).toMatch(ANSI);
    const details = update(loaded([record()]), key('enter')).state;
    expect(renderScreen(details, NOW, 120, { paint: plain })).not.toMatch(ANSI);
  });

  it('shows prompts, the waiting line and the details of one approval', () => {
    const a = record({ leftMs: 30_000 });
    const confirm = last(run(loaded([a]), char('d'))).state;
    expect(renderScreen(confirm, NOW, 200, { paint: plain })).toContain(`Deny ${a.id} (payments.transfer by pay-bot)? [y/n]`);
    const comment = last(run(loaded([a]), char('d'), char('y'), char('h'), char('i'))).state;
    expect(renderScreen(comment, NOW, 200, { paint: plain })).toContain('Comment (optional; Enter to deny, Esc to cancel): hi');
    expect(renderScreen(initialWatchState({ by: 'alice', status: 'pending' }), NOW, 80, { paint: plain })).toContain('Reading approvals…');
    expect(renderScreen(loaded([]), NOW, 80, { paint: plain })).toContain('No pending approvals. Waiting for new ones…');
    const details = renderScreen(update(loaded([a]), key('enter')).state, NOW, 200, { paint: plain });
    expect(details).toContain(`${a.id} · pending, 30s left`);
    expect(details).toMatch(/^action hash:\s+a{64}$/m);
    expect(details).toContain('"amount": 5000');
  });

  it('neutralises control characters coming from agents', () => {
    const evil = record({ agentId: 'bot\x1b[2J', reason: 'line1\nline2', action: { kind: 'tool', name: 'x\r', input: { a: 'b\x1b]0;pwned\x07' } } });
    const text = renderScreen(loaded([evil]), NOW, 200, { paint: plain });
    expect(text).not.toMatch(/[\x1b\r\x07]/);
    expect(text.trimEnd().split('\n')).toHaveLength(5);
  });
});

describe('text helpers', () => {
  it('counts down in seconds, minutes, hours and days', () => {
    const at = (ms: number) => timeLeft(new Date(NOW.getTime() + ms).toISOString(), NOW);
    expect([at(45_000), at(44_200), at(4 * 60_000 + 5_000), at(3 * 3_600_000 + 7 * 60_000), at(2 * 86_400_000 + 4 * 3_600_000), at(0), at(-5_000)]).toEqual([
      '45s',
      '45s',
      '4m05s',
      '3h07m',
      '2d04h',
      'expired',
      'expired',
    ]);
  });

  it('summarises input and truncates', () => {
    expect(summariseInput({ amount: 5000, to: 'acme', note: 'two words', nested: { a: [1] } })).toBe('amount=5000 to=acme note="two words" nested={"a":[1]}');
    expect(summariseInput(undefined)).toBe('-');
    expect(truncate('payments.transfer', 8)).toBe('payment…');
    expect(truncate('short', 8)).toBe('short');
  });
});

describe('changes between polls', () => {
  it('reports a request, an escalation, a decision and a run, in order', () => {
    const a = record();
    expect(changesOf(undefined, a).map((c) => c.event)).toEqual(['requested']);
    const escalated = { ...a, escalatedAt: NOW.toISOString() };
    expect(changesOf(a, escalated).map((c) => c.event)).toEqual(['escalated']);
    const approved = { ...escalated, status: 'approved' as const, decidedBy: 'alice', decidedAt: NOW.toISOString() };
    expect(changesOf(escalated, approved).map((c) => c.event)).toEqual(['approved']);
    expect(changesOf(approved, { ...approved, consumedAt: NOW.toISOString() }).map((c) => c.event)).toEqual(['consumed']);
    expect(changesOf(a, a)).toEqual([]);
    // Seen for the first time already decided (with --status all): everything that happened, in order.
    expect(changesOf(undefined, { ...approved, consumedAt: NOW.toISOString() }).map((c) => c.event)).toEqual(['requested', 'escalated', 'approved', 'consumed']);
  });

  it('diffs two polls: new ones, changed ones and those that left the list, oldest first', () => {
    const [old, mid, gone] = [record({ minutesAgo: 9 }), record({ minutesAgo: 5 }), record({ minutesAgo: 7 })];
    const seen = new Map([old, mid, gone].map((r) => [r.id, r]));
    const fresh = record({ minutesAgo: 1 });
    const expired = { ...gone, status: 'expired' as const };
    const midEscalated = { ...mid, escalatedAt: NOW.toISOString() };
    const diff = diffPolls(seen, [fresh, midEscalated, old], [expired]);
    expect(diff.changes.map((c) => [c.event, c.approval.id])).toEqual([
      ['expired', gone.id],
      ['escalated', mid.id],
      ['requested', fresh.id],
    ]);
    expect([...diff.seen.keys()].sort()).toEqual([fresh.id, mid.id, old.id].sort());
    // One that could not be read again is just forgotten.
    expect(diffPolls(seen, [old, mid], [null]).changes).toEqual([]);
  });

  it('renders a change as one plain line or one JSON object', () => {
    const a = record({ comment: 'ok\nfine', status: 'approved', decidedBy: 'alice' });
    const line = renderChangeLine({ event: 'approved', approval: a }, NOW);
    expect(line).toBe(`2026-03-01T12:00:00.000Z approved ${a.id} agent=pay-bot tool payments.transfer amount=5000 to=acme | by alice: ok fine\n`);
    const requested = renderChangeLine({ event: 'requested', approval: record({ leftMs: 90_000 }) }, NOW);
    expect(requested).toMatch(/ requested apr_\w+ agent=pay-bot .* \| Transfers over 1000 need a person \| expires in 1m30s\n$/);
    expect(JSON.parse(renderChangeJson({ event: 'approved', approval: a }))).toEqual({ event: 'approved', approval: a });
  });
});

describe('--interval', () => {
  it('accepts durations from 100ms to 1h', () => {
    expect([parseInterval('1s'), parseInterval('500ms'), parseInterval('100ms'), parseInterval('1m30s'), parseInterval('1h')]).toEqual([1000, 500, 100, 90_000, 3_600_000]);
  });

  it('refuses nonsense with a usage error (exit 2) that says how to fix it', () => {
    for (const [text, why] of [
      ['abc', 'is not a duration'],
      ['0s', 'is shorter than 100ms'],
      ['-1s', 'is not a duration'],
      ['50ms', 'is shorter than 100ms'],
      ['2h', 'is longer than 1h'],
      ['', 'is not a duration'],
      ['1.5s', 'is not a duration'],
    ]) {
      expect(() => parseInterval(text)).toThrowError(expect.objectContaining({ code: 'INVALID_INTERVAL', exitCode: 2, message: `--interval ${JSON.stringify(text)} ${why}` }));
    }
    try {
      parseInterval('soon');
    } catch (error) {
      expect((error as { actions: string[] }).actions.join(' ')).toContain('--interval 1s');
    }
  });
});

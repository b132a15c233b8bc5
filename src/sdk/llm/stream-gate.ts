import type { Decision } from '../../core/action.js';
import { AgentGuardError } from '../../core/errors.js';
import { foldForMatching } from '../../core/guardrails/text/fold.js';
import { inputToRun } from './mediate.js';

/** A piece of answer text inside a chunk, and how to replace it in that chunk. */
export interface TextPart {
  /** The text stream it belongs to: one per choice or content block. */
  channel: string;
  text: string;
  rewrite(text: string): void;
}

/** What the policy says of a window of streamed text. */
export interface WindowVerdict {
  decision: Decision;
  /** The window as it may be delivered: the same text, or its redacted form. */
  text: string;
  /** Spans the decision's guardrails found in the window (so a cut never splits one). */
  spans: Array<{ start: number; end: number }>;
  /** How many characters must stay held back: the longest span the policy's guardrails can find. */
  holdBack: number;
}

export type WindowCheck = (text: string) => Promise<WindowVerdict>;

interface Channel {
  text: string;
  /** Offset in `text` up to which the text was checked and may be delivered. */
  committed: number;
  /** Where the next check starts reading: `holdBack` characters before `committed`, as the guardrails count them. */
  contextFrom: number;
}

interface HeldPart {
  channel: Channel;
  start: number;
  end: number;
  part: TextPart;
}

interface Held<C> {
  chunk: C;
  parts: HeldPart[];
  blockers: Set<string>;
}

function redactionTooLate(): AgentGuardError {
  return new AgentGuardError('OUTPUT_REDACTION_TOO_LATE', 'the output policy would change text that was already delivered, so the stream was stopped', {
    actions: ['Raise the hold-back (the guarded client option `holdBack`), or redact with a guardrail whose findings do not depend on later text.'],
  });
}

const PARTIAL_REFERENCE = /&(?:#[xX]?[0-9A-Fa-f]{0,7}|[a-z]{1,6})?$/;

/**
 * Where the last `count` characters of `text` (from `from` on) begin, counted as the span guardrails read them: a value
 * written with invisible characters, character references or full-width forms is longer than its length as matched,
 * so holding back `count` raw characters could release part of it. A reference still arriving (`&#5`) counts as the
 * one character it will be.
 */
function startOfLast(text: string, from: number, count: number): number {
  const partial = PARTIAL_REFERENCE.exec(text.slice(Math.max(from, text.length - 10)));
  if (partial === null || count <= 0) return startOfLastFolded(text, from, count);
  const end = text.length - partial[0].length;
  return Math.min(end, startOfLastFolded(text.slice(0, end), from, count - 1));
}

function startOfLastFolded(text: string, from: number, count: number): number {
  if (count <= 0) return text.length;
  const plain = Math.max(from, text.length - count);
  const folded = foldForMatching(text.slice(from));
  if (folded.identity) return plain;
  const length = folded.text.length;
  if (length <= count) return from;
  return Math.min(plain, from + folded.original(length - count, length - count + 1).start);
}

/** Start of a redaction placeholder (`<EMAIL_ADDRESS_1>`) that the text does not close yet. */
const OPEN_PLACEHOLDER = /<[A-Z0-9_]{0,64}$/;

/**
 * Holds a stream's chunks until their text passed the output guardrails. Each text channel keeps back only the last
 * `holdBack` characters (a finding may still be completed by later chunks); everything before that is checked with
 * the policy, together with the `holdBack` characters before it as context, and released. A cut never falls inside a
 * span the policy found, so a redaction always sees the whole value. Chunks are released whole and in order; a chunk
 * can also wait on blockers (e.g. a tool call not decided yet). A deny throws, and nothing after it is released.
 */
export class StreamGate<C> {
  private readonly held: Held<C>[] = [];
  private readonly channels = new Map<string, Channel>();
  private holdBack: number | undefined;

  constructor(
    private readonly check: WindowCheck,
    /** Applied to each released piece of text, e.g. to put back the placeholders of the request's redactions. */
    private readonly restore?: (text: string) => string,
    /** Hold back at least this many characters, whatever the policy needs. */
    private readonly minHoldBack = 0,
  ) {}

  /** Queues a chunk, with its text and the keys it waits on. */
  add(chunk: C, parts: TextPart[] = [], blockers: string[] = []): void {
    const heldParts: HeldPart[] = [];
    for (const part of parts) {
      if (part.text === '') continue;
      let channel = this.channels.get(part.channel);
      if (!channel) this.channels.set(part.channel, (channel = { text: '', committed: 0, contextFrom: 0 }));
      heldParts.push({ channel, start: channel.text.length, end: channel.text.length + part.text.length, part });
      channel.text += part.text;
    }
    this.held.push({ chunk, parts: heldParts, blockers: new Set(blockers) });
  }

  /** Lets the chunks waiting on `key` go; with `drop`, removes them instead. */
  unblock(key: string, drop = false): void {
    for (let i = this.held.length - 1; i >= 0; i--) {
      const entry = this.held[i]!;
      if (!entry.blockers.has(key)) continue;
      if (drop) this.held.splice(i, 1);
      else entry.blockers.delete(key);
    }
  }

  /** The full text of each channel so far, in the order channels appeared. */
  texts(): Map<string, string> {
    return new Map([...this.channels].map(([key, channel]) => [key, channel.text]));
  }

  /** Checks what can be checked; returns the chunks that may be delivered now, in order. `final`: the stream ended. */
  async release(final = false): Promise<C[]> {
    for (const channel of this.channels.values()) {
      const pending = channel.text.length - channel.committed;
      if (pending === 0 || (!final && this.holdBack !== undefined && pending <= this.holdBack)) continue;
      await this.advance(channel, final);
    }
    const out: C[] = [];
    while (this.held.length > 0) {
      const head = this.held[0]!;
      if (head.blockers.size > 0 || head.parts.some((p) => p.end > p.channel.committed)) break;
      out.push(head.chunk);
      this.held.shift();
    }
    if (final && this.held.length > 0) {
      throw new AgentGuardError('STREAM_INCOMPLETE', 'the stream ended with parts the guard could not clear, so they were not delivered');
    }
    return out;
  }

  private async advance(channel: Channel, final: boolean): Promise<void> {
    const context = Math.min(channel.contextFrom, Math.max(0, channel.committed - (this.holdBack ?? 0)));
    const verdict = await this.check(channel.text.slice(context));
    inputToRun(verdict.decision, undefined); // throws for deny and require_approval
    this.holdBack = Math.max(verdict.holdBack, this.minHoldBack);
    let cut = this.boundary(channel, final ? channel.text.length : startOfLast(channel.text, context, this.holdBack));
    if (verdict.decision.effect === 'transform') {
      for (const span of verdict.spans) {
        if (context + span.start < channel.committed && channel.committed < context + span.end) throw redactionTooLate();
      }
      for (let moved = true; moved; ) {
        moved = false;
        for (const span of verdict.spans) {
          if (context + span.start < cut && cut < context + span.end) {
            cut = this.boundary(channel, context + span.start);
            moved = true;
          }
        }
      }
    }
    if (this.restore && !final) cut = this.beforeOpenPlaceholder(channel, cut);
    if (cut <= channel.committed) return;
    const original = channel.text.slice(channel.committed, cut);
    let delivered = original;
    if (verdict.decision.effect === 'transform') {
      // Checked again on exactly the text released now, which no span crosses, so the redaction is of that text.
      const region = await this.check(original);
      inputToRun(region.decision, undefined);
      delivered = region.text;
    }
    if (this.restore) delivered = this.restore(delivered);
    if (delivered !== original) this.rewrite(channel, channel.committed, cut, delivered);
    channel.committed = cut;
    channel.contextFrom = startOfLast(channel.text.slice(0, cut), context, this.holdBack);
  }

  /** The last end of a held part of `channel` at or before `offset`: chunks are released whole. */
  private boundary(channel: Channel, offset: number): number {
    let best = channel.committed;
    for (const entry of this.held) {
      for (const p of entry.parts) if (p.channel === channel && p.end <= offset && p.end > best) best = p.end;
    }
    return best;
  }

  /** Moves a cut before a placeholder the released text would otherwise split. */
  private beforeOpenPlaceholder(channel: Channel, cut: number): number {
    const open = OPEN_PLACEHOLDER.exec(channel.text.slice(channel.committed, cut));
    return open ? this.boundary(channel, channel.committed + open.index) : cut;
  }

  /** Puts `text` in place of the channel's text between two part boundaries: all in the first part, the rest emptied. */
  private rewrite(channel: Channel, from: number, to: number, text: string): void {
    let first = true;
    for (const entry of this.held) {
      for (const p of entry.parts) {
        if (p.channel !== channel || p.start < from || p.end > to) continue;
        p.part.rewrite(first ? text : '');
        first = false;
      }
    }
  }
}

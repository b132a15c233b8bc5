import { EFFECTS, type Action, type Decision } from '../../core/action.js';
import type { Outcome } from '../../core/pipeline.js';
import { isPlainObject } from '../../core/plain-object.js';

/**
 * The hook daemon's wire format: one JSON object per line each way over its Unix socket. Every request carries `v`
 * and an `id` the answer repeats; a daemon answers a request of another version with `error` and a client treats an
 * answer of another version as no answer (it decides in its own process).
 */
export const PROTOCOL_VERSION = 1;
/** A line longer than this is refused (a tool call's input is large at most a few MB: a file being written). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export type DaemonRequest =
  /** `deadline`: epoch ms after which the client no longer waits; a later decide is not made (nor recorded). */
  | { v: number; id: number; op: 'decide'; action: Action; deadline?: number }
  | { v: number; id: number; op: 'settle'; decision: Decision; waitMs: number }
  | { v: number; id: number; op: 'recordOutcome'; decision: Decision; outcome: Outcome }
  | { v: number; id: number; op: 'status' }
  | { v: number; id: number; op: 'stop' };

export interface DaemonStatus {
  pid: number;
  projectDir: string;
  socket: string;
  /** ISO time the daemon started. */
  started: string;
  /** Decisions it answered. */
  decisions: number;
  /** Times it opened the project's engine: once at its first decision, again after each change of the policy files. */
  engineOpens: number;
  version: string;
}

export type DaemonAnswer =
  /** `notes`: lines the decider logged while opening (e.g. why the policy cannot be loaded), for the hook's stderr. */
  | { v: number; id: number; decision: Decision; notes?: string[] }
  | { v: number; id: number; done: true }
  | { v: number; id: number; status: DaemonStatus }
  /** A guardrail plugin module changed: the daemon cannot load it again and is exiting; decide elsewhere. */
  | { v: number; id: number; stale: string }
  | { v: number; id: number; error: string };

/** Splits a byte stream into lines and calls `onLine` with each parsed one; a line that is not JSON or too long calls `onBad`. */
export function lineReader(onLine: (message: unknown) => void, onBad: (why: string) => void): (chunk: Buffer) => void {
  let buffered: Buffer[] = [];
  let size = 0;
  return (chunk) => {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      const line = Buffer.concat([...buffered, chunk.subarray(start, i)]).toString('utf8');
      buffered = [];
      size = 0;
      start = i + 1;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        onBad(`a line that is not JSON (${line.length} characters)`);
        continue;
      }
      onLine(message);
    }
    if (start < chunk.length) {
      buffered.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > MAX_LINE_BYTES) {
        buffered = [];
        size = 0;
        onBad(`a line longer than ${MAX_LINE_BYTES} bytes`);
      }
    }
  };
}

export const encode = (message: DaemonRequest | DaemonAnswer): string => `${JSON.stringify(message)}\n`;

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Whether a daemon's answer has the shape of a Decision (the hook reads its effect, reasons, action and approval). An
 * effect that is not one agentguard knows is still a Decision here: the client turns it into a deny.
 */
export function isDecisionShape(value: unknown): value is Decision {
  if (!isPlainObject(value)) return false;
  const { id, effect, action, reasons, findings, policy, elapsedUs, approval } = value;
  if (!isString(id) || id === '' || !isString(effect) || !isPlainObject(action) || !isString(action.kind) || !isString(action.name)) return false;
  if (!Array.isArray(reasons) || !reasons.every((r) => isPlainObject(r) && isString(r.effect) && isString(r.message))) return false;
  if (!Array.isArray(findings) || !isPlainObject(policy) || !isString(policy.name) || !isString(policy.hash) || typeof elapsedUs !== 'number') return false;
  return approval === undefined || (isPlainObject(approval) && isString(approval.id) && isString(approval.status) && isString(approval.expiresAt));
}

export const knownEffect = (decision: Decision): boolean => (EFFECTS as readonly string[]).includes(decision.effect);

import type { AuditRecord } from '../types.js';
import { isPlainObject } from '../../plain-object.js';

/**
 * What the export formats read from a record, whatever its `data` holds. `data` is the masked Decision for decision
 * records, `{ name, status, durationMs?, error? }` for outcomes and `{ checkpoint }` for the chain's copies of
 * checkpoints; every field is read defensively, since a record
 * from an older version (or a tampered one) may lack any of them.
 */
export interface RecordView {
  kind?: string;
  name?: string;
  /** Reasons' messages (decisions) or the error (outcomes). */
  messages: string[];
  policy?: { name?: string; hash?: string };
  /** Outcome status, e.g. `ok` or `error`. */
  status?: string;
  durationMs?: number;
  elapsedUs?: number;
  error?: string;
  agentName?: string;
  input?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return isPlainObject(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Reads the fields the export formats need from a record. */
export function viewRecord(record: AuditRecord): RecordView {
  const data = obj(record.data) ?? {};
  if (record.type === 'approval') {
    const approval = obj(data.approval) ?? {};
    const action = obj(approval.action) ?? {};
    return { kind: str(action.kind), name: str(action.name), status: str(data.event), messages: [str(approval.reason), str(approval.comment)].filter((m): m is string => m !== undefined) };
  }
  if (record.type === 'alert') {
    const message = str(data.message);
    return { name: str(data.budget), status: 'alert', messages: message ? [message] : [] };
  }
  if (record.type === 'checkpoint') {
    const cp = obj(data.checkpoint) ?? {};
    return { name: `checkpoint #${num(cp.n) ?? '?'}`, status: 'checkpoint', messages: [`checkpoint #${num(cp.n) ?? '?'} signed at seq ${num(cp.seq) ?? '?'}`] };
  }
  if (record.type === 'outcome') {
    const error = str(data.error);
    return { name: str(data.name), status: str(data.status), durationMs: num(data.durationMs), error, messages: error ? [error] : [] };
  }
  const action = obj(data.action) ?? {};
  const policy = obj(data.policy);
  const reasons = Array.isArray(data.reasons) ? data.reasons : [];
  return {
    kind: str(action.kind),
    name: str(action.name),
    messages: reasons.flatMap((r) => {
      const message = str(obj(r)?.message);
      return message ? [message] : [];
    }),
    policy: policy ? { name: str(policy.name), hash: str(policy.hash) } : undefined,
    elapsedUs: num(data.elapsedUs),
    agentName: str(obj(action.agent)?.name),
    input: obj(action.input),
    context: obj(action.context),
  };
}

/** `kind name` of the action, as far as the record knows it. */
export function actionLabel(view: RecordView): string {
  return [view.kind, view.name].filter((x) => x !== undefined).join(' ') || 'unknown action';
}

/** Milliseconds since the epoch of a record's ISO time (NaN stays NaN for the caller to handle). */
export function epochMs(record: AuditRecord): number {
  return Date.parse(record.time);
}

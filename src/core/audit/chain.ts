import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import { maskText } from './mask.js';
import type { AuditEntry, AuditRecord } from './types.js';

/**
 * The hash chain of the audit log.
 *
 * Every record is hashed as `SHA-256(prevHashBytes ‖ canonicalJson(recordWithoutHash))`, where `prevHashBytes` are the
 * 32 raw bytes of the previous record's hash (the genesis hash for the first record) and the canonical JSON (RFC 8785)
 * covers the WHOLE record: seq, time, type, agentId, decisionId, effect, rules, data and prevHash. Hashes are 64
 * lowercase hex characters.
 */

/** The `prevHash` of record 1: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64);

/** A record as hashed: everything but its own hash. */
export type UnhashedRecord = Omit<AuditRecord, 'hash'>;

/**
 * The columns of one stored record, with `rules` and `data` as their canonical JSON text. This is what the store
 * writes and what verification reads back, so the hashed text can be rebuilt without parsing or re-serialising JSON.
 */
export interface RecordColumns {
  seq: number;
  time: string;
  type: string;
  agentId: string | null;
  decisionId: string | null;
  effect: string | null;
  /** Canonical JSON of the rule id array. */
  rules: string;
  /** Canonical JSON of the data object. */
  data: string;
  prevHash: string;
}

/** True for a 64-character lowercase hex SHA-256 digest. */
export function isHashHex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/**
 * `SHA-256(prevHashBytes ‖ canonicalJson(record))` as hex: the hash of a record given the previous record's hash.
 * `record` must already carry `seq` and `prevHash` (they are part of what is hashed).
 *
 * @example
 * const record = { seq: 1, prevHash: GENESIS_HASH, type: 'decision', time: new Date().toISOString(),
 *   agentId: 'bot', decisionId: 'dec_1', effect: 'allow', rules: ['kb-read'], data: {} };
 * const hash = hashRecord(GENESIS_HASH, record);
 */
export function hashRecord(prevHash: string, record: UnhashedRecord): string {
  return hashText(prevHash, canonicalJson(record));
}

// Reused input buffer for the one-shot hash: about 1.5x faster than a Hash object per record, which matters when
// verification hashes every record of a large log. Records too large for it take the streaming path.
const scratch = Buffer.allocUnsafe(256 * 1024);

/** `SHA-256(prevHashBytes ‖ utf8(text))` as hex, where `text` is a record's canonical JSON. */
export function hashText(prevHash: string, text: string): string {
  // Worst case UTF-8 is 3 bytes per UTF-16 unit; a malformed (odd-length or non-hex) prevHash decodes to fewer than 32 bytes.
  if (text.length * 3 + 32 <= scratch.length) {
    const prevLength = scratch.write(prevHash, 0, 32, 'hex');
    const end = prevLength + scratch.write(text, prevLength, 'utf8');
    return hash('sha256', scratch.subarray(0, end), 'hex');
  }
  return createHash('sha256').update(prevHash, 'hex').update(text, 'utf8').digest('hex');
}

// A JSON string literal of a nullable text column. JSON.stringify of a string is exactly RFC 8785's string form.
function jsonText(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/**
 * The canonical JSON text of a record, assembled from its columns. Equal to `canonicalJson(record)` when `rules` and
 * `data` hold canonical JSON (the keys below are in RFC 8785 order), and much faster: verification uses it on every row.
 */
export function canonicalRecordText(c: RecordColumns): string {
  return (
    `{"agentId":${jsonText(c.agentId)},"data":${c.data},"decisionId":${jsonText(c.decisionId)},"effect":${jsonText(c.effect)}` +
    `,"prevHash":${JSON.stringify(c.prevHash)},"rules":${c.rules},"seq":${c.seq},"time":${JSON.stringify(c.time)},"type":${JSON.stringify(c.type)}}`
  );
}

/**
 * For a record whose hash matched: true when its columns still split the hashed text where they did when it was
 * written. Takes the stored `rules` column.
 *
 * Why verification needs this: the hashed text is rebuilt by concatenating columns, and `data` is the one column whose
 * end is not fixed by the text around it. agentId before it, and decisionId, effect and prevHash after it, are JSON
 * strings that end at their first unescaped quote, and seq, time and type are fixed from the end of the text, so
 * everything is in place once the end of `data` is. Someone could try to move that end, shifting text between `data`
 * and the columns after it, say to change `effect` while the concatenation, and so the hash, stays the same:
 * - moving it right is impossible: `,"decisionId":` occurs only once after the real data (never inside a JSON string,
 *   nor in an array of strings);
 * - moving it left pushes the real `,"decisionId":` into the `rules` column, where a genuine array of strings can
 *   never contain it.
 * So one substring test of the short `rules` column closes the gap, with no JSON parsing.
 */
export function columnsAligned(rules: string): boolean {
  return !rules.includes(MISALIGNED_MARKER);
}

/** The text a `rules` column never contains unless the end of `data` was moved (see columnsAligned). */
export const MISALIGNED_MARKER = ',"decisionId":';

/** An entry validated and encoded for storage: the columns that do not depend on its place in the chain. */
export type EncodedEntry = Omit<RecordColumns, 'seq' | 'prevHash'>;

const RECORD_TYPES = new Set(['decision', 'outcome', 'alert', 'approval']);
const EFFECT_VALUES = new Set(['allow', 'deny', 'transform', 'require_approval']);
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The records an append returns: each entry as given, with the ids as encoded and the place the store chained it at. */
export function appendedRecords(entries: readonly AuditEntry[], encoded: ReadonlyArray<Pick<EncodedEntry, 'agentId' | 'decisionId'>>, placed: ReadonlyArray<{ seq: number; prevHash: string; hash: string }>): AuditRecord[] {
  return entries.map((entry, i) => ({
    seq: placed[i]!.seq,
    type: entry.type,
    time: entry.time,
    agentId: encoded[i]!.agentId,
    decisionId: encoded[i]!.decisionId,
    effect: entry.effect,
    rules: entry.rules,
    data: entry.data,
    prevHash: placed[i]!.prevHash,
    hash: placed[i]!.hash,
  }));
}

/**
 * Checks an AuditEntry and encodes it: `rules` and `data` become canonical JSON, and text columns become well-formed
 * Unicode (a lone surrogate could not survive the round trip through the database, and the record would no longer
 * verify). Throws AgentGuardError `AUDIT_ENTRY_INVALID` naming the field. `internal` lets the store write `checkpoint`
 * records.
 */
export function encodeEntry(entry: AuditEntry, index = 0, internal = false): EncodedEntry {
  checkEntry(entry, index, internal);
  let data: string;
  try {
    data = canonicalJson(entry.data);
  } catch (error) {
    throw invalidEntry(index, 'data', `cannot be written as JSON (${(error as Error).message})`);
  }
  if (!data.startsWith('{')) throw invalidEntry(index, 'data', 'must serialise to a JSON object');
  return {
    time: entry.time,
    type: entry.type,
    // The agent id is sent by the agent: stored with secrets masked like everything else it sends.
    agentId: entry.agentId === null ? null : maskText(wellFormed(entry.agentId)),
    decisionId: entry.decisionId === null ? null : wellFormed(entry.decisionId),
    effect: entry.effect,
    rules: canonicalJson(entry.rules),
    data,
  };
}

function invalidEntry(index: number, field: string, why: string): AgentGuardError {
  return new AgentGuardError('AUDIT_ENTRY_INVALID', `audit entry ${index}: "${field}" ${why}`, {
    actions: ['This is a bug in the code recording the entry; report it with the message above.'],
  });
}

/**
 * The checks of encodeEntry on the fields themselves, without serialising `data`: what a writer thread's caller checks
 * before the entry leaves for the thread as JSON (which would quietly turn a Date `time` into a string).
 */
export function checkEntry(entry: AuditEntry, index = 0, internal = false): void {
  const bad = (field: string, why: string): AgentGuardError => invalidEntry(index, field, why);
  if (entry === null || typeof entry !== 'object') throw bad('entry', 'must be an object');
  // Checkpoint records are written by the store only (`internal`), as the chain's copy of a signed checkpoint.
  if (!RECORD_TYPES.has(entry.type) && !(internal && entry.type === 'checkpoint')) {
    throw bad('type', `must be "decision", "outcome", "alert" or "approval", got ${JSON.stringify(entry.type)}`);
  }
  if (typeof entry.time !== 'string' || !ISO_UTC_MS.test(entry.time) || Number.isNaN(Date.parse(entry.time))) {
    throw bad('time', `must be an ISO 8601 UTC time with milliseconds (Date.toISOString()), got ${JSON.stringify(entry.time)}`);
  }
  for (const field of ['agentId', 'decisionId'] as const) {
    if (entry[field] !== null && typeof entry[field] !== 'string') throw bad(field, 'must be a string or null');
  }
  if (entry.effect !== null && !EFFECT_VALUES.has(entry.effect)) throw bad('effect', `must be an effect or null, got ${JSON.stringify(entry.effect)}`);
  if (!Array.isArray(entry.rules) || entry.rules.some((r) => typeof r !== 'string')) throw bad('rules', 'must be an array of strings');
  if (entry.data === null || typeof entry.data !== 'object' || Array.isArray(entry.data)) throw bad('data', 'must be an object');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

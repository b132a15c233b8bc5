import { createHash, sign, verify } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import { GENESIS_HASH, isHashHex } from './chain.js';
import { parsePublicKeyPem, type PublicKeyInfo, type SigningKeys } from './keys.js';
import type { AuditEntry, Checkpoint, CheckpointReason } from './types.js';
import { isPlainObject } from '../plain-object.js';
import { tempPathFor } from '../temp-path.js';

/**
 * Signed checkpoints: "the chain had `hash` at `seq` at `time`", signed with Ed25519. A checkpoint at seq 0 (hash =
 * genesis) states an empty log.
 *
 * Linked checkpoints (format 2) also sign their number `n`, the hash of the checkpoint before them (`prev`), the
 * signer's checkpoint interval and why they were signed; legacy ones (format 1, no `n`) sign
 * `canonicalJson({ seq, hash, time, keyId })` only.
 */

type Unsigned = Omit<Checkpoint, 'signature'>;

/** The exact bytes a checkpoint signature covers. */
export function checkpointPayload(checkpoint: Unsigned): Buffer {
  const { seq, hash, time, keyId } = checkpoint;
  if (checkpoint.n === undefined) return Buffer.from(canonicalJson({ seq, hash, time, keyId }), 'utf8');
  const { n, prev, intervalMs, reason } = checkpoint;
  return Buffer.from(canonicalJson({ v: 2, n, seq, hash, time, keyId, prev: prev ?? null, intervalMs: intervalMs ?? null, reason: reason ?? null }), 'utf8');
}

/** SHA-256 (hex) of a checkpoint's signed payload: what the next linked checkpoint's `prev` holds. */
export function checkpointHash(checkpoint: Unsigned): string {
  return createHash('sha256').update(checkpointPayload(checkpoint)).digest('hex');
}

/**
 * Signs the head of the chain as a legacy (unlinked) checkpoint. Stores sign linked ones (signLinkedCheckpoint) through
 * AuditStore.signHead; this remains for tools and tests that need the old format.
 */
export function signCheckpoint(head: { seq: number; hash: string }, keys: SigningKeys, time: Date = new Date()): Checkpoint {
  const unsigned = { seq: head.seq, hash: head.hash, time: time.toISOString(), keyId: keys.keyId };
  const signature = sign(null, checkpointPayload(unsigned), keys.privateKey).toString('base64');
  return { ...unsigned, signature };
}

/** What links a new checkpoint to the ones before it. */
export interface CheckpointLink {
  /** The checkpoint before it, or null for the first of the log. A legacy one starts the numbering at 1. */
  previous: Checkpoint | null;
  /** The signer's interval (AuditRecorder checkpointIntervalMs; 0 when it signs on no timer). */
  intervalMs: number;
  reason: CheckpointReason;
}

/**
 * Signs the head of the chain as a linked checkpoint: number `previous.n + 1` (1 after none or a legacy one) and
 * `prev` the hash of `previous`.
 *
 * @example
 * await store.audit.signHead((head, latest) => signLinkedCheckpoint(head ?? EMPTY_HEAD, keys, { previous: latest, intervalMs: 60_000, reason: 'manual' }));
 */
export function signLinkedCheckpoint(head: { seq: number; hash: string }, keys: SigningKeys, link: CheckpointLink, time: Date = new Date()): Checkpoint {
  const previous = link.previous;
  const unsigned: Unsigned = {
    seq: head.seq,
    hash: head.hash,
    time: time.toISOString(),
    keyId: keys.keyId,
    n: previous?.n !== undefined ? previous.n + 1 : 1,
    prev: previous ? checkpointHash(previous) : null,
    intervalMs: Math.max(0, Math.round(link.intervalMs)),
    reason: link.reason,
  };
  const signature = sign(null, checkpointPayload(unsigned), keys.privateKey).toString('base64');
  return { ...unsigned, signature };
}

/** The latest of some checkpoints by number (linked ones beat legacy ones); null when there are none. */
export function latestCheckpoint(...candidates: (Checkpoint | null | undefined)[]): Checkpoint | null {
  let best: Checkpoint | null = null;
  for (const c of candidates) {
    if (!c) continue;
    if (!best || (c.n ?? 0) > (best.n ?? 0)) best = c;
  }
  return best;
}

/** The empty log's head, for checkpointing a log with no records. */
export const EMPTY_HEAD = { seq: 0, hash: GENESIS_HASH } as const;

/** Why a checkpoint does not verify with `key`, or null when it does. */
export function checkpointSignatureProblem(checkpoint: Checkpoint, key: PublicKeyInfo): string | null {
  if (checkpoint.keyId !== key.keyId) return `it was signed by an unknown key ${checkpoint.keyId} (expected ${key.keyId})`;
  if (!/^[A-Za-z0-9+/]{86}==$/.test(checkpoint.signature)) return 'its signature is not a base64 Ed25519 signature';
  const ok = verify(null, checkpointPayload(checkpoint), key.publicKey, Buffer.from(checkpoint.signature, 'base64'));
  return ok ? null : 'its signature does not match its content (seq, hash, time or key id was changed, or the signature was forged)';
}

/**
 * The chain's copy of a linked checkpoint: the record the store writes right after the checkpoint's seq, before the
 * next entries, so that every later record and checkpoint commits to it.
 */
export function checkpointEntry(checkpoint: Checkpoint): AuditEntry {
  const { seq, hash, time, keyId, signature, n, prev, intervalMs, reason } = checkpoint;
  return {
    type: 'checkpoint',
    time,
    agentId: null,
    decisionId: null,
    effect: null,
    rules: [],
    data: { checkpoint: { n, seq, hash, time, keyId, prev: prev ?? null, intervalMs, reason, signature } },
  };
}

/** The checkpoint held by a chain record's data (see checkpointEntry), or what is wrong with it. */
export function checkpointOfRecordData(data: unknown): Checkpoint | string {
  const cp = isPlainObject(data) ? data.checkpoint : undefined;
  if (!isPlainObject(cp)) return 'its data holds no checkpoint object';
  if (!Number.isSafeInteger(cp.seq) || (cp.seq as number) < 0) return 'its checkpoint has no valid seq';
  if (!isHashHex(cp.hash)) return 'its checkpoint has no valid hash';
  for (const field of ['time', 'keyId', 'signature'] as const) if (typeof cp[field] !== 'string') return `its checkpoint has no ${field}`;
  const linked = linkedFields(cp);
  if (typeof linked === 'string') return linked.replaceAll('"checkpoint.', 'its "');
  return { seq: cp.seq as number, hash: cp.hash, time: cp.time as string, keyId: cp.keyId as string, signature: cp.signature as string, ...linked };
}

/** Format marker of checkpoint files. */
export const CHECKPOINT_FILE_FORMAT = 'agentguard-audit-checkpoint';

/**
 * A checkpoint file, written by `agentguard audit checkpoint --out` to be kept away from the log (another host, a
 * ticket, a commit). It carries the public key so it can be checked on its own; `audit verify --checkpoint` also
 * requires that key to be the log's key, so a replaced key pair is noticed.
 */
export interface CheckpointFile {
  format: typeof CHECKPOINT_FILE_FORMAT;
  /** 1: a legacy checkpoint; 2: a linked one. */
  version: 1 | 2;
  checkpoint: Checkpoint;
  /** SPKI PEM of the Ed25519 public key that signed `checkpoint`. */
  publicKey: string;
}

/** A checkpoint read from a file, with the key it names. */
export interface LoadedCheckpointFile {
  path: string;
  checkpoint: Checkpoint;
  key: PublicKeyInfo;
}

function checkpointFileOf(checkpoint: Checkpoint, publicKeyPem: string): CheckpointFile {
  return { format: CHECKPOINT_FILE_FORMAT, version: checkpoint.n === undefined ? 1 : 2, checkpoint, publicKey: publicKeyPem };
}

const fileText = (file: CheckpointFile): string => `${JSON.stringify(file, null, 2)}\n`;

function writeFailed(path: string, error: unknown): AgentGuardError {
  const code = (error as NodeJS.ErrnoException).code;
  return new AgentGuardError('CHECKPOINT_WRITE_FAILED', `cannot write the checkpoint file ${path}${code ? ` (${code})` : ''}`, {
    actions: ['Check that the folder exists and that this user may write to it.'],
    cause: error,
  });
}

/** Writes a checkpoint file atomically (a temp file renamed into place). */
export async function writeCheckpointFile(path: string, checkpoint: Checkpoint, publicKeyPem: string): Promise<CheckpointFile> {
  const file = checkpointFileOf(checkpoint, publicKeyPem);
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, fileText(file), { mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw writeFailed(path, error);
  }
  return file;
}

/** writeCheckpointFile, synchronously: for a process that is exiting. */
export function writeCheckpointFileSync(path: string, checkpoint: Checkpoint, publicKeyPem: string): CheckpointFile {
  const file = checkpointFileOf(checkpoint, publicKeyPem);
  const temp = tempPathFor(path);
  try {
    writeFileSync(temp, fileText(file), { mode: 0o644 });
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Never written.
    }
    throw writeFailed(path, error);
  }
  return file;
}

function unreadable(path: string, error: unknown): AgentGuardError {
  const code = (error as NodeJS.ErrnoException).code;
  return invalid(path, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (error as Error).message})`, error);
}

/** Reads and checks the shape of a checkpoint file; throws AgentGuardError (exit 2) naming the file and field. */
export async function readCheckpointFile(path: string): Promise<LoadedCheckpointFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseCheckpointFile(path, text);
}

/** readCheckpointFile, synchronously: for a process that is exiting. */
export function readCheckpointFileSync(path: string): LoadedCheckpointFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseCheckpointFile(path, text);
}

function parseCheckpointFile(path: string, text: string): LoadedCheckpointFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `not JSON (${(error as Error).message})`, error);
  }
  if (!isPlainObject(raw)) throw invalid(path, 'must be a JSON object');
  if (raw.format !== CHECKPOINT_FILE_FORMAT) throw invalid(path, `"format" must be "${CHECKPOINT_FILE_FORMAT}"`);
  if (raw.version !== 1 && raw.version !== 2) throw invalid(path, `"version" ${JSON.stringify(raw.version)} is not supported (this agentguard reads versions 1 and 2)`);
  if (typeof raw.publicKey !== 'string') throw invalid(path, '"publicKey" must be a PEM string');
  const cp = raw.checkpoint;
  if (!isPlainObject(cp)) throw invalid(path, '"checkpoint" must be an object');
  if (!Number.isSafeInteger(cp.seq) || (cp.seq as number) < 0) throw invalid(path, '"checkpoint.seq" must be a whole number >= 0');
  if (!isHashHex(cp.hash)) throw invalid(path, '"checkpoint.hash" must be 64 lowercase hex characters');
  for (const field of ['time', 'keyId', 'signature'] as const) {
    if (typeof cp[field] !== 'string') throw invalid(path, `"checkpoint.${field}" must be a string`);
  }
  const checkpoint: Checkpoint = {
    seq: cp.seq as number,
    hash: cp.hash,
    time: cp.time as string,
    keyId: cp.keyId as string,
    signature: cp.signature as string,
  };
  if (raw.version === 2) {
    const linked = linkedFields(cp);
    if (typeof linked === 'string') throw invalid(path, linked);
    Object.assign(checkpoint, linked);
  }
  return { path, checkpoint, key: parsePublicKeyPem(raw.publicKey, `${path}: "publicKey"`) };
}

const REASONS = new Set<CheckpointReason>(['count', 'interval', 'close', 'start', 'manual']);

/** The linked fields of a checkpoint read from JSON (a file, or the chain's copy), or what is wrong with them. */
export function linkedFields(cp: Record<string, unknown>): Pick<Checkpoint, 'n' | 'prev' | 'intervalMs' | 'reason'> | string {
  if (!Number.isSafeInteger(cp.n) || (cp.n as number) < 1) return '"checkpoint.n" must be a whole number >= 1';
  if (cp.prev !== null && !isHashHex(cp.prev)) return '"checkpoint.prev" must be null or 64 lowercase hex characters';
  if (!Number.isSafeInteger(cp.intervalMs) || (cp.intervalMs as number) < 0) return '"checkpoint.intervalMs" must be a whole number >= 0';
  if (!REASONS.has(cp.reason as CheckpointReason)) return `"checkpoint.reason" must be one of ${[...REASONS].join(', ')}`;
  return { n: cp.n as number, prev: cp.prev as string | null, intervalMs: cp.intervalMs as number, reason: cp.reason as CheckpointReason };
}

function invalid(path: string, why: string, cause?: unknown): AgentGuardError {
  return new AgentGuardError('CHECKPOINT_UNREADABLE', `checkpoint file ${path}: ${why}`, {
    actions: ['Pass a file written by `agentguard audit checkpoint --out <file>`.'],
    cause,
  });
}

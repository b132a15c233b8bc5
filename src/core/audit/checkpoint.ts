import { sign, verify } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { canonicalJson } from '../canonical-json.js';
import { AgentGuardError } from '../errors.js';
import { GENESIS_HASH, isHashHex } from './chain.js';
import { parsePublicKeyPem, type PublicKeyInfo, type SigningKeys } from './keys.js';
import type { Checkpoint } from './types.js';

/**
 * Signed checkpoints: "the chain had `hash` at `seq` at `time`", signed with Ed25519 over
 * `canonicalJson({ seq, hash, time, keyId })`. A checkpoint at seq 0 (hash = genesis) states an empty log.
 */

/** The exact bytes a checkpoint signature covers. */
export function checkpointPayload(checkpoint: Pick<Checkpoint, 'seq' | 'hash' | 'time' | 'keyId'>): Buffer {
  const { seq, hash, time, keyId } = checkpoint;
  return Buffer.from(canonicalJson({ seq, hash, time, keyId }), 'utf8');
}

/**
 * Signs the head of the chain.
 *
 * @example
 * const head = (await store.audit.head()) ?? { seq: 0, hash: GENESIS_HASH };
 * await store.audit.addCheckpoint(signCheckpoint(head, loadOrCreateSigningKeys(dataDir)));
 */
export function signCheckpoint(head: { seq: number; hash: string }, keys: SigningKeys, time: Date = new Date()): Checkpoint {
  const unsigned = { seq: head.seq, hash: head.hash, time: time.toISOString(), keyId: keys.keyId };
  const signature = sign(null, checkpointPayload(unsigned), keys.privateKey).toString('base64');
  return { ...unsigned, signature };
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

/** Format marker of checkpoint files. */
export const CHECKPOINT_FILE_FORMAT = 'agentguard-audit-checkpoint';

/**
 * A checkpoint file, written by `agentguard audit checkpoint --out` to be kept away from the log (another host, a
 * ticket, a commit). It carries the public key so it can be checked on its own; `audit verify --checkpoint` also
 * requires that key to be the log's key, so a replaced key pair is noticed.
 */
export interface CheckpointFile {
  format: typeof CHECKPOINT_FILE_FORMAT;
  version: 1;
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

/** Writes a checkpoint file atomically (a temp file renamed into place). */
export async function writeCheckpointFile(path: string, checkpoint: Checkpoint, publicKeyPem: string): Promise<CheckpointFile> {
  const file: CheckpointFile = { format: CHECKPOINT_FILE_FORMAT, version: 1, checkpoint, publicKey: publicKeyPem };
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentGuardError('CHECKPOINT_WRITE_FAILED', `cannot write the checkpoint file ${path}${code ? ` (${code})` : ''}`, {
      actions: ['Check that the folder exists and that this user may write to it.'],
      exitCode: 2,
      cause: error,
    });
  }
  return file;
}

/** Reads and checks the shape of a checkpoint file; throws AgentGuardError (exit 2) naming the file and field. */
export async function readCheckpointFile(path: string): Promise<LoadedCheckpointFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalid(path, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (error as Error).message})`, error);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `not JSON (${(error as Error).message})`, error);
  }
  if (!isObject(raw)) throw invalid(path, 'must be a JSON object');
  if (raw.format !== CHECKPOINT_FILE_FORMAT) throw invalid(path, `"format" must be "${CHECKPOINT_FILE_FORMAT}"`);
  if (raw.version !== 1) throw invalid(path, `"version" ${JSON.stringify(raw.version)} is not supported (this agentguard reads version 1)`);
  if (typeof raw.publicKey !== 'string') throw invalid(path, '"publicKey" must be a PEM string');
  const cp = raw.checkpoint;
  if (!isObject(cp)) throw invalid(path, '"checkpoint" must be an object');
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
  return { path, checkpoint, key: parsePublicKeyPem(raw.publicKey, `${path}: "publicKey"`) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(path: string, why: string, cause?: unknown): AgentGuardError {
  return new AgentGuardError('CHECKPOINT_UNREADABLE', `checkpoint file ${path}: ${why}`, {
    actions: ['Pass a file written by `agentguard audit checkpoint --out <file>`.'],
    exitCode: 2,
    cause,
  });
}

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DATABASE_FILE } from '../store/open-store.js';
import { readCheckpointFile, readCheckpointFileSync, writeCheckpointFile, writeCheckpointFileSync, type LoadedCheckpointFile } from './checkpoint.js';
import { KEYS_DIR } from './keys.js';
import type { Checkpoint } from './types.js';

/**
 * The latest checkpoint a signer made, kept next to the signing key (`<dataDir>/keys/latest-checkpoint.json`, the
 * format of `audit checkpoint --out`). It is evidence outside the database: someone who can write the database but
 * not the keys folder cannot roll it back, so `audit verify` finds checkpoints deleted from the database, a log cut
 * back or emptied, and the next checkpoint signed links past the deleted ones. Whoever can write the keys folder can
 * usually read the private key too, and then only a checkpoint kept on another host helps.
 */

export const WITNESS_FILE = 'latest-checkpoint.json';

/**
 * Where the witness of the database at `location` lives in a keys folder: one per database file, since a data folder's
 * key may sign for another file than agentguard.db (`file` option of openStore).
 */
export function witnessPathIn(keysDir: string, location: string): string {
  const file = basename(location);
  return join(keysDir, file === DATABASE_FILE ? WITNESS_FILE : `latest-checkpoint.${file.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

/** Where the witness of the database at `location` in a data folder lives. */
export function witnessPath(dataDir: string, location: string): string {
  return witnessPathIn(join(dataDir, KEYS_DIR), location);
}

/** The witness of a database, or null when there is none. Throws (exit 2) when it exists but cannot be read. */
export async function readWitness(keysDir: string, location: string): Promise<LoadedCheckpointFile | null> {
  const path = witnessPathIn(keysDir, location);
  if (!existsSync(path)) return null;
  return readCheckpointFile(path);
}

/**
 * Replaces the witness with `checkpoint` unless it already holds a later one. Two processes racing can leave the
 * earlier of their two checkpoints: a witness slightly behind still matches the log, it is weaker evidence, never a
 * false alarm.
 */
export async function updateWitness(keysDir: string, location: string, checkpoint: Checkpoint, publicKeyPem: string): Promise<void> {
  if (checkpoint.n === undefined) return;
  let current: LoadedCheckpointFile | null = null;
  try {
    current = await readWitness(keysDir, location);
  } catch {
    // An unreadable witness is replaced by a good one.
  }
  if (supersedes(current, checkpoint, publicKeyPem)) await writeCheckpointFile(witnessPathIn(keysDir, location), checkpoint, publicKeyPem);
}

/** readWitness, synchronously: for a process that is exiting. */
export function readWitnessSync(keysDir: string, location: string): LoadedCheckpointFile | null {
  const path = witnessPathIn(keysDir, location);
  if (!existsSync(path)) return null;
  return readCheckpointFileSync(path);
}

/** updateWitness, synchronously: for a process that is exiting. */
export function updateWitnessSync(keysDir: string, location: string, checkpoint: Checkpoint, publicKeyPem: string): void {
  if (checkpoint.n === undefined) return;
  let current: LoadedCheckpointFile | null = null;
  try {
    current = readWitnessSync(keysDir, location);
  } catch {
    // An unreadable witness is replaced by a good one.
  }
  if (supersedes(current, checkpoint, publicKeyPem)) writeCheckpointFileSync(witnessPathIn(keysDir, location), checkpoint, publicKeyPem);
}

/** True when `checkpoint` is to replace the witness `current`: there is none, it is earlier, or of another key. */
function supersedes(current: LoadedCheckpointFile | null, checkpoint: Checkpoint, publicKeyPem: string): boolean {
  return !(current && (current.checkpoint.n ?? 0) >= checkpoint.n! && current.key.publicKeyPem === publicKeyPem);
}

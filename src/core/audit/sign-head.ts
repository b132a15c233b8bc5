import type { SignHead, Store } from '../store/store.js';
import { EMPTY_HEAD, latestCheckpoint, signLinkedCheckpoint } from './checkpoint.js';
import type { SigningKeys } from './keys.js';
import type { Checkpoint, CheckpointReason } from './types.js';
import { readWitness, readWitnessSync, updateWitness, updateWitnessSync } from './witness.js';
import type { LoadedCheckpointFile } from './checkpoint.js';

/** Options of signHead. */
export interface SignHeadOptions {
  reason: CheckpointReason;
  /** The signer's promise: it signs at most this long after an unsigned record (0: no time promise). */
  intervalMs: number;
  /** The latest checkpoint this signer made itself, if any: linked to when the store lost later ones. */
  ownLatest?: Checkpoint | null;
  /** Sign only when records exist that no stored checkpoint covers (a writer stopped before signing). */
  onlyIfUnsigned?: boolean;
  /**
   * Told when the store lacks checkpoints that this key signed (deleted: the new checkpoint links past them), or when
   * the checkpoint could not be recorded next to the key. The checkpoint is stored either way.
   */
  onWarning?: (message: string) => void;
  now?: () => Date;
}

/**
 * Signs the head of the log as a linked checkpoint and stores it; also records it next to the key (witness.ts).
 *
 * The new checkpoint links to the latest checkpoint known from any of: the store, this signer's memory, the witness next
 * to the key. When the store's is not the latest, checkpoints were deleted from it: the link then points to one the
 * store no longer has, and `audit verify` reports the gap instead of it being papered over.
 *
 * Returns null when `onlyIfUnsigned` and every record is covered.
 */
export async function signHead(store: Store, keys: SigningKeys, options: SignHeadOptions): Promise<Checkpoint | null> {
  const witness = keys.dir ? await readWitness(keys.dir, store.location).catch(() => null) : null;
  const checkpoint = await store.audit.signHead(signer(keys, options, witness));
  if (checkpoint && keys.dir) {
    await updateWitness(keys.dir, store.location, checkpoint, keys.publicKeyPem).catch((error: Error) => options.onWarning?.(notWitnessed(checkpoint, error)));
  }
  return checkpoint;
}

/**
 * signHead, synchronously, for a process that is exiting (no promise settles then): the same checkpoint, link and
 * witness. Null when this store cannot sign synchronously (see AuditStore.signHeadSync) or is closed.
 */
export function signHeadSync(store: Store, keys: SigningKeys, options: SignHeadOptions): Checkpoint | null {
  if (!store.audit.signHeadSync) return null;
  let witness: LoadedCheckpointFile | null = null;
  try {
    witness = keys.dir ? readWitnessSync(keys.dir, store.location) : null;
  } catch {
    // Unreadable: as in signHead, the store's and the signer's own latest are linked to.
  }
  const checkpoint = store.audit.signHeadSync(signer(keys, options, witness));
  if (checkpoint && keys.dir) {
    try {
      updateWitnessSync(keys.dir, store.location, checkpoint, keys.publicKeyPem);
    } catch (error) {
      options.onWarning?.(notWitnessed(checkpoint, error as Error));
    }
  }
  return checkpoint;
}

const notWitnessed = (checkpoint: Checkpoint, error: Error): string => `checkpoint #${checkpoint.n} was stored, but not recorded next to the key: ${error.message}`;

/** Builds the linked checkpoint of the head, inside the store's signing transaction. */
function signer(keys: SigningKeys, options: SignHeadOptions, witness: LoadedCheckpointFile | null): SignHead {
  const witnessed = witness && witness.key.keyId === keys.keyId ? witness.checkpoint : null;
  const time = (options.now ?? (() => new Date()))();
  return (head, stored) => {
    const previous = latestCheckpoint(stored, options.ownLatest, witnessed);
    if (previous && previous !== stored && (previous.n ?? 0) > (stored?.n ?? 0)) {
      const from = (stored?.n ?? 0) + 1;
      options.onWarning?.(
        `the audit store lacks checkpoint${from === previous.n ? ` #${from}` : `s #${from}..#${previous.n}`} signed by this key (the latest at seq ${previous.seq}, ${previous.time}): they were deleted; the new checkpoint links to #${previous.n}, so \`audit verify\` reports the gap`,
      );
    }
    if (options.onlyIfUnsigned && (!head || (stored && stored.seq >= head.seq))) return null;
    return signLinkedCheckpoint(head ?? EMPTY_HEAD, keys, { previous, intervalMs: options.intervalMs, reason: options.reason }, time);
  };
}

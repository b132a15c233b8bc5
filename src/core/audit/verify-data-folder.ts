import { join } from 'node:path';
import { AgentGuardError } from '../errors.js';
import type { Store } from '../store/store.js';
import { KEYS_DIR, loadPublicKey, type PublicKeyInfo } from './keys.js';
import type { VerifyResult } from './types.js';
import { verifyAudit, type ExternalCheckpoint } from './verify.js';
import { readWitness } from './witness.js';

/** Options of verifyDataFolderAudit; what is not given comes from the data folder. */
export interface VerifyDataFolderOptions {
  /** The key to check signatures with (one given by the user); default the data folder's public key. */
  publicKey?: PublicKeyInfo;
  /** A checkpoint kept elsewhere (`audit verify --checkpoint`). */
  externalCheckpoint?: ExternalCheckpoint;
  /** See VerifyAuditOptions.unsignedSlackMs. */
  unsignedSlackMs?: number;
  now?: Date;
  onProgress?: (rowsRead: number) => void;
}

/**
 * Verifies the audit log of a data folder with everything the folder holds besides the database: its public key and
 * the checkpoint the signer keeps next to it (witness.ts), which finds a log emptied, cut back or rolled back, and
 * checkpoints deleted. `agentguard audit verify` and the sidecar's `GET /v1/audit/verify` both verify through this, so
 * they give the same answer.
 *
 * Throws AgentGuardError (exit 2) when the log has signed checkpoints and there is no key to check them with, or the
 * witness cannot be read.
 *
 * @example
 * const result = await verifyDataFolderAudit(store, '.agentguard');
 * if (!result.ok) console.log(result.problems[0]); // { seq: 0, kind: 'truncated', message: '…' }
 */
export async function verifyDataFolderAudit(store: Store, dataDir: string, options: VerifyDataFolderOptions = {}): Promise<VerifyResult> {
  const publicKey = options.publicKey ?? loadPublicKey(dataDir);
  if (publicKey === null && (await store.audit.checkpoints()).length > 0) {
    throw new AgentGuardError('AUDIT_KEY_NOT_FOUND', `the log has signed checkpoints, but there is no public key in ${join(dataDir, KEYS_DIR)} to check them with`, {
      actions: ['Pass the public key with --public-key <file> (exported by `agentguard audit public-key`).', 'If the keys folder was deleted, treat the log as suspect and verify it against a checkpoint file kept elsewhere.'],
    });
  }
  const witness = await readWitness(join(dataDir, KEYS_DIR), store.location);
  const result = await verifyAudit(store, {
    publicKey,
    externalCheckpoint: options.externalCheckpoint,
    witness: witness ?? undefined,
    unsignedSlackMs: options.unsignedSlackMs,
    now: options.now,
    onProgress: options.onProgress,
  });
  if (result.ok && result.records === 0 && result.checkpoints === 0 && !witness && publicKey && options.publicKey === undefined) {
    result.notes = [
      ...(result.notes ?? []),
      'the log is empty and has no checkpoint, but the data folder has a signing key and no checkpoint next to it: if this log ever recorded anything, it was emptied (only a checkpoint kept elsewhere can prove it)',
    ];
  }
  return result;
}

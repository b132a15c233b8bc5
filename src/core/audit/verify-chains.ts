import { AgentGuardError } from '../errors.js';
import type { AuditStore, Store } from '../store/store.js';
import { loadPublicKey, parsePublicKeyPem, type PublicKeyInfo } from './keys.js';
import type { VerifyResult } from './types.js';
import { verifyAudit } from './verify.js';
import { verifyDataFolderAudit, type VerifyDataFolderOptions } from './verify-data-folder.js';

/** One chain's verification, and where the key it was checked with came from. */
export interface ChainVerifyResult extends VerifyResult {
  chain: string;
  keyId: string | null;
  /** `data-folder`: this data folder's key (and its witness); `given`: --public-key; `store`: the key the instance registered in the database. */
  keySource: 'data-folder' | 'given' | 'store' | 'none';
}

/** The verification of every chain of a store, and the whole. */
export interface MultiChainVerifyResult extends VerifyResult {
  chains: ChainVerifyResult[];
}

/**
 * Verifies every instance's chain in a store of several (PostgreSQL), each on its own, exactly as a single log is
 * verified: hashes, links, numbering, signed checkpoints. The chain signed by this data folder's key is verified with
 * that key and its witness (verifyDataFolderAudit); a chain signed by the key given with --public-key with that one;
 * every other chain with the public key its instance registered in the database, which proves the chain unchanged
 * since that instance signed it, but is only as trustworthy as the database: the result says so in a note, and a key
 * exported from each instance (`agentguard audit public-key`) can be pinned with --public-key.
 */
export async function verifyAllChains(store: Store, dataDir: string, options: VerifyDataFolderOptions = {}): Promise<MultiChainVerifyResult> {
  if (!store.auditChains || !store.auditChain) throw new Error('this store holds a single audit log; use verifyDataFolderAudit');
  const local = loadPublicKey(dataDir);
  const chains: ChainVerifyResult[] = [];
  for (const info of await store.auditChains()) {
    const audit = store.auditChain(info.chain);
    let key: PublicKeyInfo | null = null;
    let keySource: ChainVerifyResult['keySource'] = 'none';
    let result: VerifyResult;
    if (options.publicKey && (info.keyId === null || info.keyId === options.publicKey.keyId)) {
      key = options.publicKey;
      keySource = 'given';
    } else if (local && info.keyId === local.keyId) {
      keySource = 'data-folder';
    } else if (info.publicKeyPem) {
      key = parsePublicKeyPem(info.publicKeyPem, `the key registered for audit chain ${info.chain}`);
      keySource = 'store';
    }
    if (keySource === 'data-folder') {
      const view = { ...store, audit, location: `${store.location.replace(/#.*$/, '')}#${info.chain}` } as Store;
      result = await verifyDataFolderAudit(view, dataDir, { ...options, publicKey: undefined });
    } else {
      result = await verifyAudit(audit as AuditStore, { publicKey: key, externalCheckpoint: options.externalCheckpoint, unsignedSlackMs: options.unsignedSlackMs, now: options.now });
    }
    const notes = [...(result.notes ?? [])];
    if (keySource === 'store') notes.push(`chain ${info.chain} was checked with the public key its instance registered in the database (${info.keyId}); pin that instance's exported key with --public-key to trust it independently of the database`);
    if (keySource === 'none' && result.checkpoints > 0) {
      throw new AgentGuardError('AUDIT_KEY_NOT_FOUND', `audit chain ${info.chain} has signed checkpoints but no registered public key`, {
        actions: ['Pass that instance\'s public key with --public-key <file> (exported by `agentguard audit public-key` on it).'],
      });
    }
    chains.push({ ...result, ...(notes.length ? { notes } : {}), chain: info.chain, keyId: info.keyId, keySource });
  }
  const problems = chains.flatMap((c) => c.problems.map((p) => ({ ...p, message: `chain ${c.chain}: ${p.message}` })));
  const notes = chains.flatMap((c) => (c.notes ?? []).map((n) => (n.startsWith(`chain ${c.chain}`) ? n : `chain ${c.chain}: ${n}`)));
  const omitted = chains.reduce((n, c) => n + (c.omittedProblems ?? 0), 0);
  return {
    ok: chains.every((c) => c.ok),
    records: chains.reduce((n, c) => n + c.records, 0),
    checkpoints: chains.reduce((n, c) => n + c.checkpoints, 0),
    problems,
    ...(omitted > 0 ? { omittedProblems: omitted } : {}),
    ...(notes.length > 0 ? { notes } : {}),
    chains,
  };
}

import type { CostStore, LedgerEntry } from '../cost/types.js';
import type { AuditEntry } from './types.js';

/** Where the pipeline records. Resolves only once the entries are durable. */
export interface AuditSink {
  append(entries: AuditEntry[], options?: { ledger?: LedgerEntry }): Promise<unknown>;
  /** The cost store whose ledger rows `append` can write in the same transaction as the entries (AuditRecorder). */
  readonly ledgerStore?: CostStore;
}

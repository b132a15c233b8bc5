/** What AuditWriterThread and its thread (audit-writer-worker.ts) exchange. */

/** The store the thread appends to, already created and migrated by the store that starts it. */
export type AuditWriterData =
  | { store: 'sqlite'; file: string; busyTimeoutMs: number }
  /** `chain`: the instance's own audit chain (see PostgresStore). */
  | { store: 'postgres'; url: string; chain: string };

export type ToAuditWriter =
  /** Append the entries of `json` (a JSON array of AuditEntry) as one transaction. */
  | { type: 'append'; id: number; json: string }
  /** The connection's wal_autocheckpoint: 0 while the background checkpointer runs, SQLite's default otherwise. */
  | { type: 'autocheckpoint'; pages: number }
  | { type: 'stop' };

/** Where the store chained one entry, and the ids as it encoded them (the agent id is stored masked). */
export interface PlacedEntry {
  seq: number;
  prevHash: string;
  hash: string;
  agentId: string | null;
  decisionId: string | null;
}

/** An error of the thread as plain data: an AgentGuardError's code and actions, or a SQLite error's code. */
export interface WriterError {
  message: string;
  agentGuardCode?: string;
  actions?: string[];
  code?: string;
}

export type FromAuditWriter =
  | { type: 'ready' }
  | { type: 'appended'; id: number; placed: PlacedEntry[] }
  | { type: 'failed'; id: number; error: WriterError }
  /** The thread could not open its connection: no append was made. */
  | { type: 'broken'; error: WriterError };

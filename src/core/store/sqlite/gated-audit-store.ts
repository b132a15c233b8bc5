import type { Database } from 'better-sqlite3';
import type { AuditEntry, AuditRecord, Checkpoint } from '../../audit/types.js';
import type { SignHead } from '../store.js';
import { SqliteAuditStore } from './audit-store.js';
import type { AuditWriterThread } from '../audit-writer-thread.js';

/**
 * The SQLite audit log, whose writes first await `beforeWrite()` when it returns a promise: how the background
 * checkpointer (WalCheckpointer) holds appends for the moment it needs the WAL to itself. `signHeadSync` (signing as
 * the process exits) does not wait: the hold is for throughput, SQLite's locks keep the write correct either way.
 * With a writer thread (SqliteStoreOptions.auditWriterThread), appends are made there; checkpoints stay here.
 */
export class GatedAuditStore extends SqliteAuditStore {
  private readonly beforeWrite: () => Promise<void> | null;
  private readonly writer: () => AuditWriterThread | null;

  /** `writer`: the store's audit writer thread, if it has one; appends go there while it is usable. */
  constructor(db: Database, beforeWrite: () => Promise<void> | null, writer: () => AuditWriterThread | null = () => null) {
    super(db);
    this.beforeWrite = beforeWrite;
    this.writer = writer;
  }

  /** Appends go to the writer thread, which commits them in the order they were sent. */
  get pipelined(): boolean {
    return this.writer()?.usable === true;
  }

  override async append(entries: AuditEntry[], alongside?: () => void): Promise<AuditRecord[]> {
    const wait = entries.length > 0 ? this.beforeWrite() : null;
    if (wait) await wait;
    // Writes that must commit with the entries (`alongside`) need this connection's transaction.
    const writer = entries.length > 0 && !alongside ? this.writer() : null;
    const threaded = writer?.usable ? writer.append(entries) : null;
    return threaded ?? super.append(entries, alongside);
  }

  override async addCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const wait = this.beforeWrite();
    if (wait) await wait;
    return super.addCheckpoint(checkpoint);
  }

  override async signHead(sign: SignHead): Promise<Checkpoint | null> {
    const wait = this.beforeWrite();
    if (wait) await wait;
    return super.signHead(sign);
  }
}

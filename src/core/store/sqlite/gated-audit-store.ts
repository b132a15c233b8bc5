import type { Database } from 'better-sqlite3';
import type { AuditEntry, AuditRecord, Checkpoint } from '../../audit/types.js';
import type { SignHead } from '../store.js';
import { SqliteAuditStore } from './audit-store.js';

/**
 * The SQLite audit log, whose writes first await `beforeWrite()` when it returns a promise: how the background
 * checkpointer (WalCheckpointer) holds appends for the moment it needs the WAL to itself. `signHeadSync` (signing as
 * the process exits) does not wait: the hold is for throughput, SQLite's locks keep the write correct either way.
 */
export class GatedAuditStore extends SqliteAuditStore {
  private readonly beforeWrite: () => Promise<void> | null;

  constructor(db: Database, beforeWrite: () => Promise<void> | null) {
    super(db);
    this.beforeWrite = beforeWrite;
  }

  override async append(entries: AuditEntry[], alongside?: () => void): Promise<AuditRecord[]> {
    const wait = entries.length > 0 ? this.beforeWrite() : null;
    if (wait) await wait;
    return super.append(entries, alongside);
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

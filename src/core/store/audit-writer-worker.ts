/**
 * The audit writer's thread (started by AuditWriterThread; see there for the why). It holds its own connection to the
 * database and appends each batch it is sent, one after the other, with the store's own append (SqliteAuditStore or
 * PostgresAuditStore): validation, canonical JSON, hashing and the transaction all run here, and the answer is sent
 * only after the commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isAgentGuardError } from '../errors.js';
import type { AuditEntry, AuditRecord } from '../audit/types.js';
import type { AuditWriterData, FromAuditWriter, ToAuditWriter, WriterError } from './audit-writer-protocol.js';

const data = workerData as AuditWriterData;
const port = parentPort!;
const send = (message: FromAuditWriter) => port.postMessage(message);

function plain(error: unknown): WriterError {
  if (isAgentGuardError(error)) return { message: error.message, agentGuardCode: error.code, actions: error.actions };
  const code = (error as { code?: unknown })?.code;
  return { message: (error as Error)?.message ?? String(error), ...(typeof code === 'string' ? { code } : {}) };
}

interface Writer {
  append(entries: AuditEntry[]): Promise<AuditRecord[]>;
  autoCheckpoint(pages: number): void;
  close(): Promise<void>;
}

async function openWriter(): Promise<Writer> {
  if (data.store === 'postgres') {
    const [{ PgDatabase }, { PostgresAuditStore }] = await Promise.all([import('./postgres/connection.js'), import('./postgres/audit-store.js')]);
    // One connection: the thread's appends are made one after the other anyway.
    const db = await PgDatabase.connect(data.url, { max: 1 });
    const audit = new PostgresAuditStore(db, data.chain);
    return { append: (entries) => audit.append(entries), autoCheckpoint: () => undefined, close: () => db.end() };
  }
  const [{ default: Database }, { SqliteAuditStore }] = await Promise.all([import('better-sqlite3'), import('./sqlite/audit-store.js')]);
  const db = new Database(data.file, { fileMustExist: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  // Per connection: the same durability as the store's own connection (see SqliteStore).
  db.pragma('synchronous = NORMAL');
  const audit = new SqliteAuditStore(db);
  return {
    append: (entries) => audit.append(entries),
    autoCheckpoint: (pages) => {
      db.pragma(`wal_autocheckpoint = ${pages}`);
    },
    close: async () => {
      db.close();
    },
  };
}

// Every message waits for the one before it: batches commit in the order they were sent.
let turn: Promise<Writer | null> = openWriter().then(
  (writer) => {
    send({ type: 'ready' });
    return writer;
  },
  (error: unknown) => {
    send({ type: 'broken', error: plain(error) });
    return null;
  },
);

port.on('message', (message: ToAuditWriter) => {
  turn = turn.then(async (writer) => {
    if (!writer) return null;
    switch (message.type) {
      case 'append':
        await append(writer, message.id, message.json);
        break;
      case 'autocheckpoint':
        writer.autoCheckpoint(message.pages);
        break;
      case 'stop':
        await writer.close();
        port.close();
        return null;
    }
    return writer;
  });
});

async function append(writer: Writer, id: number, json: string): Promise<void> {
  try {
    const entries = JSON.parse(json) as AuditEntry[];
    const records = await writer.append(entries);
    send({ type: 'appended', id, placed: records.map((r) => ({ seq: r.seq, prevHash: r.prevHash, hash: r.hash, agentId: r.agentId, decisionId: r.decisionId })) });
  } catch (error) {
    send({ type: 'failed', id, error: plain(error) });
  }
}

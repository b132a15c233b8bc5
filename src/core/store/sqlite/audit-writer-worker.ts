/**
 * The audit writer's thread (started by AuditWriterThread; see there for the why). It holds its own connection to the
 * database and appends each batch it is sent with the store's own append (SqliteAuditStore): validation, canonical
 * JSON, hashing and the `BEGIN IMMEDIATE` transaction all run here, and the answer is sent only after the commit.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { isAgentGuardError } from '../../errors.js';
import type { AuditEntry } from '../../audit/types.js';
import { SqliteAuditStore } from './audit-store.js';
import type { AuditWriterData, FromAuditWriter, ToAuditWriter, WriterError } from './audit-writer-protocol.js';

const data = workerData as AuditWriterData;
const port = parentPort!;
const send = (message: FromAuditWriter) => port.postMessage(message);

function plain(error: unknown): WriterError {
  if (isAgentGuardError(error)) return { message: error.message, agentGuardCode: error.code, actions: error.actions };
  const code = (error as { code?: unknown })?.code;
  return { message: (error as Error)?.message ?? String(error), ...(typeof code === 'string' ? { code } : {}) };
}

let db: Database.Database;
let audit: SqliteAuditStore;
try {
  db = new Database(data.file, { fileMustExist: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  // Per connection: the same durability as the store's own connection (see SqliteStore).
  db.pragma('synchronous = NORMAL');
  audit = new SqliteAuditStore(db);
  send({ type: 'ready' });
} catch (error) {
  send({ type: 'broken', error: plain(error) });
  process.exit(1);
}

port.on('message', (message: ToAuditWriter) => {
  switch (message.type) {
    case 'append':
      void append(message.id, message.json);
      break;
    case 'autocheckpoint':
      db.pragma(`wal_autocheckpoint = ${message.pages}`);
      break;
    case 'stop':
      db.close();
      port.close();
      break;
  }
});

async function append(id: number, json: string): Promise<void> {
  try {
    const entries = JSON.parse(json) as AuditEntry[];
    const records = await audit.append(entries);
    send({ type: 'appended', id, placed: records.map((r) => ({ seq: r.seq, prevHash: r.prevHash, hash: r.hash, agentId: r.agentId, decisionId: r.decisionId })) });
  } catch (error) {
    send({ type: 'failed', id, error: plain(error) });
  }
}

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { loadPublicKey } from '../../audit/keys.js';
import { verifyAudit } from '../../audit/verify.js';
import { verifyDataFolderAudit } from '../../audit/verify-data-folder.js';
import type { VerifyResult } from '../../audit/types.js';
import { AgentGuardError } from '../../errors.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import type { PostgresStore } from './postgres-store.js';

/** What `store migrate --from` copied. */
export interface CopyReport {
  /** Source file. */
  from: string;
  /** The chain the SQLite audit log became. */
  chain: string;
  /** Rows copied per table. */
  rows: Record<string, number>;
  /** The copied chain's verification. */
  verified: Pick<VerifyResult, 'ok' | 'records' | 'checkpoints'>;
}

/** Tables copied as they are (same columns in both schemas), in an order that keeps references intact. */
const TABLES = ['api_tokens', 'agents', 'approvals', 'approval_deliveries', 'cost_ledger', 'cost_reservations', 'cost_alerts', 'mcp_servers', 'mcp_pins', 'session_taint', 'rate_slots'] as const;
/** Serial columns whose sequence must move past the copied values. */
const SERIALS: Partial<Record<(typeof TABLES)[number], string>> = { cost_ledger: 'id', session_taint: 'seq', rate_slots: 'seq' };
const BOOLEAN_COLUMNS = new Set(['cost_ledger.estimated']);

/**
 * Copies a local SQLite store into a PostgreSQL store in one transaction: every table, and the audit log (rows,
 * hashes and checkpoints exactly as stored) as the PostgreSQL store's chain. The SQLite log is verified first with
 * its data folder's key and witness (a log that does not verify is not copied), the copied chain after (with the same
 * key); the target chain must be empty. The SQLite file is only read.
 */
export async function copySqliteStore(file: string, target: PostgresStore, _dataDir: string, note: (line: string) => void = () => {}): Promise<CopyReport> {
  const sourceDir = dirname(file);
  const source = SqliteStore.open(file, { create: false, backgroundCheckpoints: false });
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const raw = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const before = await verifyDataFolderAudit(source, sourceDir);
    if (!before.ok) {
      throw new AgentGuardError('STORE_COPY_REFUSED', `the audit log of ${file} does not verify (${before.problems[0]?.kind} at seq ${before.problems[0]?.seq}); nothing was copied`, {
        actions: ['Run `agentguard audit verify --data-dir ' + sourceDir + '` and resolve what it reports first.'],
      });
    }
    note(`Verified ${file}: ${before.records} records, ${before.checkpoints} checkpoints.`);
    const chain = target.chain;
    if ((await target.audit.count()) > 0) {
      throw new AgentGuardError('STORE_COPY_REFUSED', `audit chain ${chain} of ${target.database} already has records; nothing was copied`, {
        actions: ['Copy into another chain (AGENTGUARD_STORE_CHAIN=<name>) or an empty database.'],
      });
    }
    const tables = new Set((raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]));
    const rows: Record<string, number> = {};
    await target.db.transaction(async (tx) => {
      for (const table of TABLES) {
        if (!tables.has(table)) continue;
        const all = raw.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
        for (const row of all) {
          const columns = Object.keys(row);
          const values = columns.map((c) => (BOOLEAN_COLUMNS.has(`${table}.${c}`) ? row[c] === 1 : typeof row[c] === 'bigint' ? String(row[c]) : row[c]));
          await tx.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
        }
        const serial = SERIALS[table];
        if (serial && all.length > 0) await tx.query(`SELECT setval(pg_get_serial_sequence('${table}', '${serial}'), (SELECT max(${serial}) FROM ${table}))`);
        rows[table] = all.length;
      }
      await tx.query('INSERT INTO audit_chains (chain, created_at) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [chain, new Date().toISOString()]);
      let records = 0;
      for await (const page of source.audit.rows()) {
        for (const r of page) {
          await tx.query(
            'INSERT INTO audit_records (chain, seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
            [chain, String(r.seq), r.time, r.type, r.agentId, r.decisionId, r.effect, r.rules, r.data, r.prevHash, r.hash],
          );
          records++;
        }
      }
      rows.audit_records = records;
      const checkpoints = raw.prepare('SELECT seq, hash, time, key_id, signature, n, prev, interval_ms, reason FROM audit_checkpoints ORDER BY id').all() as Record<string, unknown>[];
      for (const c of checkpoints) {
        await tx.query(
          'INSERT INTO audit_checkpoints (chain, seq, hash, time, key_id, signature, n, prev, interval_ms, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
          [chain, c.seq, c.hash, c.time, c.key_id, c.signature, c.n ?? null, c.prev ?? null, c.interval_ms ?? null, c.reason ?? null],
        );
      }
      rows.audit_checkpoints = checkpoints.length;
    });
    const key = loadPublicKey(sourceDir);
    if (key) await target.audit.registerSigner({ keyId: key.keyId, publicKeyPem: key.publicKeyPem });
    const after = await verifyAudit(target.audit, { publicKey: key });
    if (!after.ok || after.records !== before.records) {
      throw new AgentGuardError('STORE_COPY_REFUSED', `the copied audit chain ${chain} does not verify (${after.problems[0]?.message ?? `${after.records} records instead of ${before.records}`})`, {
        actions: ['Report this at the project issue tracker; the local store is unchanged.'],
      });
    }
    return { from: file, chain, rows, verified: { ok: after.ok, records: after.records, checkpoints: after.checkpoints } };
  } finally {
    raw.close();
    await source.close();
  }
}

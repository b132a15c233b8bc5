import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/core/audit/types.js';
import { makeTempDir } from './temp-dirs.js';

/** A fresh temporary data folder, removed after the test file. */
export function tempDataDir(prefix = 'ag-audit-'): string {
  return join(makeTempDir(prefix), 'data');
}

/** A realistic decision entry; `i` varies every field that verification covers. */
export function decisionEntry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  const effect = (['allow', 'deny', 'transform', 'require_approval'] as const)[i % 4];
  return {
    type: i % 5 === 4 ? 'outcome' : 'decision',
    time: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    agentId: `agent-${i % 3}`,
    decisionId: `dec_${i}`,
    effect,
    rules: i % 2 === 0 ? ['kb-read'] : ['no-destructive-sql', 'readonly-db'],
    data: { id: `dec_${i}`, effect, action: { kind: 'tool', name: 'db.query', input: { sql: `SELECT ${i}`, note: 'naïve “quotes” \\ and \n' } } },
    ...overrides,
  };
}

/**
 * A direct connection to the database, as someone with write access to the file would have: used to tamper with the
 * log behind the store's back.
 */
export function rawDb(file: string): import('better-sqlite3').Database {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return db;
}

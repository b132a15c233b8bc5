import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../src/core/audit/chain.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { AgentGuardError } from '../src/core/errors.js';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import { migrate, SCHEMA_VERSION, type Migration } from '../src/core/store/sqlite/migrations.js';
import { decisionEntry, rawDb, tempDataDir } from './helpers/audit-log.js';
import { ROOT } from './helpers/cli.js';

async function errorOf(promise: Promise<unknown>): Promise<AgentGuardError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AgentGuardError);
  return error as AgentGuardError;
}

describe('SqliteStore: files and settings', () => {
  it('creates the data folder 0700 and the database 0600, in WAL mode, migrated to the current version', async () => {
    const dataDir = tempDataDir();
    const store = await openStore({ dataDir });
    const file = databasePath({ dataDir });
    expect(store.location).toBe(file);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await store.close();
    const db = rawDb(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['agents', 'api_tokens', 'approval_deliveries', 'approvals', 'audit_checkpoints', 'audit_records', 'cost_alerts', 'cost_ledger', 'cost_reservations', 'cost_totals', 'mcp_pins', 'mcp_servers', 'rate_slots', 'session_taint']);
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records' ORDER BY name").pluck().all();
    expect(indexes).toEqual(['audit_records_agent', 'audit_records_effect', 'audit_records_time']);
    db.close();
  });

  it('keeps records across reopening and continues the chain', async () => {
    const dataDir = tempDataDir();
    let store = await openStore({ dataDir });
    const first = await store.audit.append([decisionEntry(1), decisionEntry(2)]);
    expect(first.map((r) => r.seq)).toEqual([1, 2]);
    expect(first[0].prevHash).toBe(GENESIS_HASH);
    await store.close();
    store = await openStore({ dataDir });
    expect(await store.audit.head()).toEqual({ seq: 2, hash: first[1].hash });
    const [third] = await store.audit.append([decisionEntry(3)]);
    expect(third).toMatchObject({ seq: 3, prevHash: first[1].hash });
    expect((await verifyAudit(store, { publicKey: null })).ok).toBe(true);
    await store.close();
  });

  it('refuses a missing database when asked not to create one', async () => {
    const dataDir = tempDataDir();
    const error = await errorOf(openStore({ dataDir, create: false }));
    expect(error.code).toBe('STORE_NOT_FOUND');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(join(dataDir, 'agentguard.db'));
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses a database written by a newer version', async () => {
    const dataDir = tempDataDir();
    await (await openStore({ dataDir })).close();
    const db = rawDb(databasePath({ dataDir }));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const error = await errorOf(openStore({ dataDir }));
    expect(error.code).toBe('STORE_TOO_NEW');
    expect(error.message).toContain(`newer agentguard (schema version ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION})`);
    expect(error.actions.join(' ')).toMatch(/Upgrade agentguard/);
  });

  it('refuses SQLite databases that are not agentguard ones, and files that are not databases', async () => {
    const dataDir = tempDataDir();
    mkdirSync(dataDir, { recursive: true });
    const db = rawDb(databasePath({ dataDir }));
    db.exec('CREATE TABLE notes (x)');
    db.close();
    expect((await errorOf(openStore({ dataDir }))).code).toBe('STORE_FOREIGN');

    const other = tempDataDir();
    mkdirSync(other, { recursive: true });
    writeFileSync(databasePath({ dataDir: other }), 'this is not a database, just text that is long enough to have a header'.repeat(20));
    const error = await errorOf(openStore({ dataDir: other }));
    expect(error.code).toBe('STORE_UNREADABLE');
    expect(error.message).toMatch(/SQLITE_NOTADB/);
  });

  it('runs each migration in its own transaction: a failing one leaves the earlier ones applied', () => {
    const db = rawDb(':memory:');
    const migrations: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE one (x)' },
      { version: 2, name: 'two', sql: 'CREATE TABLE two (x); CREATE TABLE one (x)' },
    ];
    expect(() => migrate(db, 'mem', migrations)).toThrow(/table one already exists/);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'two'").pluck().get()).toBe(0);
    migrate(db, 'mem', [migrations[0], { version: 2, name: 'two', sql: 'CREATE TABLE two (x)' }]);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    db.close();
  });
});

describe('SqliteStore: audit queries', () => {
  async function seeded() {
    const store = await openStore({ dataDir: tempDataDir() });
    await store.audit.append(Array.from({ length: 20 }, (_, i) => decisionEntry(i + 1)));
    return store;
  }
  const seqs = (records: AuditRecord[]) => records.map((r) => r.seq);

  it('filters by agent, effect, rule, type, decision id, time and seq; newest first unless asc', async () => {
    const store = await seeded();
    const q = store.audit;
    expect(seqs(await q.query({ agent: 'agent-0', order: 'asc' }))).toEqual([3, 6, 9, 12, 15, 18]);
    expect(seqs(await q.query({ effect: 'deny' }))).toEqual([17, 13, 9, 5, 1]);
    expect(seqs(await q.query({ rule: 'readonly-db', limit: 3 }))).toEqual([19, 17, 15]);
    expect(seqs(await q.query({ rule: 'readonly' }))).toEqual([]);
    expect(seqs(await q.query({ type: 'outcome', order: 'asc' }))).toEqual([4, 9, 14, 19]);
    expect(seqs(await q.query({ decisionId: 'dec_7' }))).toEqual([7]);
    // decisionEntry(i) is at 2025-01-01T00:00:00Z + i seconds; since inclusive, until exclusive.
    expect(seqs(await q.query({ since: '2025-01-01T00:00:05Z', until: '2025-01-01T00:00:08.000Z', order: 'asc' }))).toEqual([5, 6, 7]);
    expect(seqs(await q.query({ afterSeq: 17, order: 'asc' }))).toEqual([18, 19, 20]);
    const [one] = await q.query({ decisionId: 'dec_2' });
    expect(one).toMatchObject({ agentId: 'agent-2', effect: 'transform', rules: ['kb-read'], data: decisionEntry(2).data });
    await expect(q.query({ since: 'last tuesday' })).rejects.toThrow(/since: "last tuesday" is not a date/);
    await store.close();
  });

  it('reports unreadable rows instead of failing silently', async () => {
    const store = await seeded();
    const db = rawDb(store.location);
    db.prepare("UPDATE audit_records SET data = '{broken' WHERE seq = 4").run();
    db.prepare("UPDATE audit_records SET rules = 'nope' WHERE seq = 5").run();
    db.close();
    const scanned = [];
    for await (const row of store.audit.scan()) scanned.push(row);
    expect(scanned).toHaveLength(20);
    expect(scanned[3]).toMatchObject({ seq: 4, error: expect.stringMatching(/not JSON/) });
    expect((scanned[3] as { raw: string }).raw).toContain('{broken');
    await expect(store.audit.query({ decisionId: 'dec_4' })).rejects.toThrow(/audit record 4 cannot be read/);
    // A rule query must not fail on a tampered rules column elsewhere.
    expect(seqs(await store.audit.query({ rule: 'kb-read', limit: 2 }))).toEqual([20, 18]);
    await store.close();
  });

  it('pages through rows without holding the connection, so the store can be used while iterating', async () => {
    const store = await seeded();
    let pages = 0;
    let rows = 0;
    for await (const page of store.audit.rows({ pageSize: 6 })) {
      pages++;
      rows += page.length;
      expect(await store.audit.count()).toBeGreaterThanOrEqual(20);
    }
    expect([pages, rows]).toEqual([4, 20]);
    const tail: number[] = [];
    for await (const record of store.audit.scan(18)) tail.push(record.seq);
    expect(tail).toEqual([18, 19, 20]);
    await store.close();
  });
});

describe('SqliteStore: two processes appending at once', () => {
  it('produce one valid chain', async () => {
    const dist = join(ROOT, 'dist/core/store/open-store.js');
    expect(existsSync(dist), 'run `npm run build` first: the child process uses dist/').toBe(true);
    const dataDir = tempDataDir();
    const store = await openStore({ dataDir });
    const script = `
      import { openStore } from ${JSON.stringify(pathToFileURL(dist).href)};
      const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      process.stdin.destroy();
      for (let i = 0; i < 2000; i++) {
        await store.audit.append([{ type: 'decision', time: new Date().toISOString(), agentId: 'child', decisionId: 'c' + i,
          effect: 'allow', rules: ['r'], data: { i } }]);
      }
      await store.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    child.stdin.end('go\n');
    for (let i = 0; i < 2000; i++) {
      await store.audit.append([{ ...decisionEntry(i), agentId: 'parent', time: new Date().toISOString() }]);
    }
    expect(await exited, stderr).toBe(0);

    const result = await verifyAudit(store, { publicKey: null });
    expect(result).toEqual({ ok: true, records: 4000, checkpoints: 0, problems: [] });
    const agents = (await store.audit.query({ order: 'asc' })).map((r) => r.agentId);
    expect(agents.filter((a) => a === 'child')).toHaveLength(2000);
    expect(agents.filter((a) => a === 'parent')).toHaveLength(2000);
    // The writers really did interleave (otherwise this test would prove nothing about concurrency).
    const switches = agents.filter((a, i) => i > 0 && a !== agents[i - 1]).length;
    expect(switches).toBeGreaterThan(1);
    await store.close();
  }, 120_000);
});

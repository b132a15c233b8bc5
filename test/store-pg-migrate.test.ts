import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { migratePostgres, PG_SCHEMA_VERSION } from '../src/core/store/postgres/migrations.js';
import { PostgresStore } from '../src/core/store/postgres/postgres-store.js';
import { AgentGuard, Policy } from '../src/sdk/index.js';
import { PgDatabase } from '../src/core/store/postgres/connection.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { makeTempDir } from './helpers/temp-dirs.js';

let cluster: PgCluster | undefined;
beforeAll(async () => {
  if (postgresMissing() === null) cluster = await startPgCluster();
}, 120_000);
afterAll(() => cluster?.stop());

async function sqliteProject(records: number): Promise<string> {
  const dataDir = join(makeTempDir('ag-pg-migrate-'), '.agentguard');
  const recorder = await AuditRecorder.open({ dataDir });
  for (let i = 0; i < records; i++) {
    await recorder.record({ type: 'decision', time: new Date(Date.UTC(2026, 2, 1, 0, 0, i)).toISOString(), agentId: 'bot', decisionId: `d${i}`, effect: 'allow', rules: ['r'], data: { i } });
  }
  await recorder.close();
  expect((await runCliInProcess(['token', 'create', '--agent', 'bot', '--json', '--data-dir', dataDir])).code).toBe(0);
  return dataDir;
}

describe.skipIf(postgresMissing() !== null)(`agentguard store migrate${postgresMissing() ? ` (skipped: ${postgresMissing()})` : ''}`, () => {
  it('is idempotent and safe with two instances migrating at once', async () => {
    const url = cluster!.database('migrate_twice');
    const [a, b] = await Promise.all([PgDatabase.connect(url), PgDatabase.connect(url)]);
    try {
      const [ra, rb] = await Promise.all([migratePostgres(a), migratePostgres(b)]);
      expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, PG_SCHEMA_VERSION]);
      expect((await migratePostgres(a)).applied).toEqual([]);
    } finally {
      await a.end();
      await b.end();
    }
    // The cluster trusts its socket, so a password in the URL is accepted and ignored: it must not be printed.
    const withPassword = url.replace('agentguard@', 'agentguard:s3cret-pw@');
    const cli = await runCliInProcess(['store', 'migrate', '--json', '--store', withPassword, '--data-dir', makeTempDir('ag-pg-m-')]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ kind: 'postgres', from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION, applied: [] });
    expect(JSON.parse(cli.stdout).store).toMatch(/^postgresql:\/\/agentguard@/);
    expect(cli.stdout + cli.stderr).not.toContain('s3cret-pw');
  });

  it('--from copies a local SQLite store, verified before and after; audit verify and tokens work on the copy', async () => {
    const dataDir = await sqliteProject(25);
    const url = cluster!.database('migrate_from');
    const moved = await runCliInProcess(['store', 'migrate', '--from', join(dataDir, 'agentguard.db'), '--to', url, '--json', '--data-dir', dataDir]);
    expect(moved.code, moved.stderr + moved.stdout).toBe(0);
    const result = JSON.parse(moved.stdout);
    expect(result.copied).toMatchObject({ verified: { ok: true }, rows: { api_tokens: 1 } });
    expect(result.copied.rows.audit_records).toBeGreaterThanOrEqual(25);
    const verify = await runCliInProcess(['audit', 'verify', '--json', '--store', url, '--data-dir', dataDir]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout).chains).toEqual([expect.objectContaining({ ok: true, keySource: 'data-folder', chain: result.copied.chain })]);
    const doctor = await runCliInProcess(['doctor', '--json', '--store', url, '--data-dir', dataDir]);
    const checks = JSON.parse(doctor.stdout).checks as Array<{ name: string; status: string; message: string }>;
    expect(checks.filter((c) => c.name === 'store' || c.name === 'audit').map((c) => [c.name, c.status])).toEqual([['store', 'ok'], ['audit', 'ok']]);
    const tokens = await runCliInProcess(['token', 'list', '--json', '--store', url, '--data-dir', dataDir]);
    expect(JSON.parse(tokens.stdout)).toHaveLength(1);
    // A second copy into the same chain is refused.
    const again = await runCliInProcess(['store', 'migrate', '--from', join(dataDir, 'agentguard.db'), '--to', url, '--json', '--data-dir', dataDir]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('STORE_COPY_REFUSED');
  });

  it('--from refuses a local store whose audit log was tampered with, and copies nothing', async () => {
    const dataDir = await sqliteProject(5);
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(join(dataDir, 'agentguard.db'));
    db.prepare(`UPDATE audit_records SET data = '{"i":99}' WHERE seq = 3`).run();
    db.close();
    const url = cluster!.database('migrate_tampered');
    const moved = await runCliInProcess(['store', 'migrate', '--from', join(dataDir, 'agentguard.db'), '--to', url, '--json', '--data-dir', dataDir]);
    expect(moved.code).toBe(1);
    expect(JSON.parse(moved.stdout).error).toMatchObject({ code: 'STORE_COPY_REFUSED' });
    const query = await runCliInProcess(['audit', 'query', '--json', '--store', url, '--data-dir', dataDir]);
    expect(JSON.parse(query.stdout)).toEqual([]);
  });

  it('merges the chains of several instances by time, then chain and seq, in pages, with every record once', async () => {
    const url = cluster!.database('merged');
    const [a, b] = await Promise.all([PostgresStore.open(url, { chain: 'a' }), PostgresStore.open(url, { chain: 'b' })]);
    try {
      // Equal times across chains (and within one append) so that the chain and seq break ties.
      for (let batch = 0; batch < 12; batch++) {
        const entries = Array.from({ length: 100 }, (_, i) => ({ type: 'decision' as const, time: new Date(Date.UTC(2026, 2, 1, 0, 0, batch)).toISOString(), agentId: 'bot', decisionId: `d${batch}-${i}`, effect: 'allow' as const, rules: ['r'], data: { i } }));
        await Promise.all([a.audit.append(entries), b.audit.append(entries)]);
      }
      const all: Array<{ time: string; chain?: string; seq: number }> = [];
      for await (const record of a.scanAllChains({ order: 'asc' })) all.push(record);
      expect(all).toHaveLength(2400);
      expect(new Set(all.map((r) => `${r.chain}:${r.seq}`)).size).toBe(2400);
      const key = (r: { time: string; chain?: string; seq: number }) => `${r.time}|${r.chain}|${String(r.seq).padStart(6, '0')}`;
      expect(all.map(key)).toEqual([...all.map(key)].sort());
      const newest = await b.queryAllChains({ limit: 3 });
      expect(newest.map((r) => [r.chain, r.seq])).toEqual([['b', 1200], ['b', 1199], ['b', 1198]]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the SDK in local mode records into the store its `store` option names', async () => {
    const url = cluster!.database('sdk');
    const dataDir = makeTempDir('ag-pg-sdk-');
    const guard = new AgentGuard({ policy: Policy.parse({ version: 1, name: 'sdk', rules: [{ id: 'read', effect: 'allow', when: { name: 'kb.read' } }] }), agentId: 'bot', dataDir, store: url });
    const decision = await guard.decide({ kind: 'tool', name: 'kb.read' });
    expect(decision.effect).toBe('allow');
    await guard.close();
    const store = await PostgresStore.open(url, { chain: 'reader' });
    try {
      expect((await store.queryAllChains({ decisionId: decision.id })).map((r) => r.effect)).toEqual(['allow']);
    } finally {
      await store.close();
    }
  });

  it('refuses a URL that is not postgresql:// without echoing it, and never prints a password', async () => {
    const bad = await runCliInProcess(['store', 'migrate', '--json', '--store', 'mysql://root:hunter2@db/x']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('STORE_URL_INVALID');
    expect(bad.stdout + bad.stderr).not.toContain('hunter2');
    const unreachable = await runCliInProcess(['store', 'migrate', '--json', '--store', 'postgresql://agentguard:hunter2@127.0.0.1:1/x', '--data-dir', makeTempDir('ag-pg-m-')]);
    expect(unreachable.code).toBe(2);
    expect(JSON.parse(unreachable.stdout).error.code).toBe('STORE_UNAVAILABLE');
    expect(unreachable.stdout + unreachable.stderr).not.toContain('hunter2');
  });
});

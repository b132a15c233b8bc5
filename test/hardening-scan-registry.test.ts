import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ScannedAgent } from '../src/core/agents/registry.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { runScan } from '../src/scan/run-scan.js';
import { fakeProc } from './fixtures/scan/processes/index.js';
import { rawDb } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const root = makeTempDir('ag-registry-');
const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function open(): SqliteStore {
  const store = SqliteStore.open(join(root, `r${++n}.db`));
  stores.push(store);
  return store;
}

const T1 = '2026-01-01T10:00:00.000Z';
const T2 = '2026-01-01T10:01:00.000Z';
const T3 = '2026-01-01T10:02:00.000Z';
const processes = { completeKinds: ['agent-process' as const, 'credential-process' as const] };

const proc = (pid: number, status: ScannedAgent['status'] = 'unsecured'): ScannedAgent => ({
  id: `process:${pid}:777`, kind: 'agent-process', name: 'Claude Code', frameworks: [], location: `pid ${pid}`, status, risk: 'high', details: { pid }, notes: [],
});
const project: ScannedAgent = { id: 'project:/src/bot', kind: 'project', name: 'bot', frameworks: [], location: '/src/bot', status: 'unsecured', risk: 'medium', details: {}, notes: [] };

describe('processes that have exited are gone from the registry', () => {
  it('a scan that listed every process marks the ones it no longer finds gone: neither listed nor counted, but kept', async () => {
    const { agents } = open();
    await agents.upsertFromScan([proc(1), proc(2), project], T1, processes);
    expect((await agents.summary()).unsecured).toBe(3);
    expect(await agents.upsertFromScan([proc(2)], T2, processes)).toEqual({ added: [], updated: [proc(2).id], gone: [proc(1).id] });
    expect(await agents.summary()).toMatchObject({ total: 2, unsecured: 2 });
    expect((await agents.list()).map((e) => e.id).sort()).toEqual([proc(2).id, project.id].sort());
    expect((await agents.list({ status: 'unsecured' })).map((e) => e.id)).not.toContain(proc(1).id);
    expect(await agents.get(proc(1).id)).toMatchObject({ goneAt: T2, lastSeen: T1 });
    expect((await agents.list({ includeGone: true })).map((e) => e.id)).toContain(proc(1).id);
    // The project was not found either, but projects are not a kind this scan looked for everywhere.
    expect(await agents.get(project.id)).toMatchObject({ goneAt: null });
    // Gone once: a later scan does not report it again.
    expect((await agents.upsertFromScan([], T3, processes)).gone).toEqual([proc(2).id]);
  });

  it('a scan of some pids only, or one that could not read a process, marks nothing gone', async () => {
    const { agents } = open();
    await agents.upsertFromScan([proc(1), proc(2)], T1, processes);
    expect((await agents.upsertFromScan([], T2)).gone).toEqual([]);
    expect((await agents.upsertFromScan([], T2, { ...processes, notInspected: ['process:1:'] })).gone).toEqual([proc(2).id]);
    expect(await agents.get(proc(1).id)).toMatchObject({ goneAt: null });
  });

  it('an entry found again is no longer gone', async () => {
    const { agents } = open();
    await agents.upsertFromScan([proc(1)], T1, processes);
    await agents.upsertFromScan([], T2, processes);
    await agents.upsertFromScan([proc(1)], T3, processes);
    expect(await agents.get(proc(1).id)).toMatchObject({ goneAt: null, lastSeen: T3 });
    expect((await agents.summary()).unsecured).toBe(1);
  });

  it('runScan says processes were listed completely only when no pid filter was given', async () => {
    const procRoot = join(root, 'proc');
    await fakeProc(procRoot, 7001, { argv: ['claude'], env: {} });
    const base = { home: join(root, 'home'), paths: [], probe: false, platform: 'linux' as const, procRoot, probeTimeoutMs: 100 };
    const all = await runScan(base);
    expect(all.findings.map((f) => f.id)).toEqual(['process:7001:777000']);
    expect(all.completeKinds).toEqual(['agent-process', 'credential-process', 'coding-agent']);
    expect((await runScan({ ...base, pids: [7001] })).completeKinds).toEqual([]);
    rmSync(join(procRoot, '7001'), { recursive: true, force: true });
    const { agents } = open();
    await agents.upsertFromScan(all.findings, T1, all);
    const after = await runScan(base);
    expect((await agents.upsertFromScan(after.findings, T2, after)).gone).toEqual(['process:7001:777000']);
    expect((await agents.summary()).unsecured).toBe(0);
  });
});

describe('agents show and list never print a secret, even one stored before masking reached the registry', () => {
  it('masks on the way out', async () => {
    const dataDir = join(root, 'data-show');
    mkdirSync(dataDir, { recursive: true });
    await SqliteStore.open(join(dataDir, 'agentguard.db')).close();
    const secret = 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    const db = rawDb(join(dataDir, 'agentguard.db'));
    db.prepare(
      `INSERT INTO agents (id, kind, name, framework, location, status, risk, source, first_seen, last_seen, details, notes)
       VALUES ('mcp:x#a', 'mcp-server', 'a', '[]', ?, 'unknown', 'high', 'scan', ?, ?, ?, ?)`,
    ).run(`http://mcp.example.com/${secret}/sse`, T1, T1, JSON.stringify({ url: `http://mcp.example.com/${secret}/sse`, args: ['--pat', 'hunter2hunter2'] }), JSON.stringify([`plain-HTTP remote: http://mcp.example.com/${secret}/sse`]));
    db.close();
    for (const args of [['agents', 'show', 'mcp:x#a'], ['agents', 'show', 'mcp:x#a', '--json'], ['agents', 'list', '--json'], ['agents', 'status', '--json']]) {
      const result = await runCliInProcess([...args, '--data-dir', dataDir]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain(secret);
      expect(result.stdout).not.toContain('hunter2hunter2');
    }
  }, 60_000);
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentGuard, AgentGuardDeniedError, ApprovalRequiredError, Policy } from 'agentguard/sdk';
import { openStore } from '../src/core/store/open-store.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { loadPublicKey } from '../src/core/audit/keys.js';
import { BIN, ROOT } from './helpers/cli.js';

const POLICY = join(ROOT, 'test/fixtures/sdk/policy.yaml');
const CHILD = join(ROOT, 'test/fixtures/sdk/record-forever.mjs');
const guards: AgentGuard[] = [];

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function guard(dataDir = tempDir('ag-sdk-')) {
  const g = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir });
  guards.push(g);
  return { g, dataDir };
}

async function records(dataDir: string) {
  const store = await openStore({ dataDir, create: false });
  try {
    return await store.audit.query({ order: 'asc', limit: 1_000_000 });
  } finally {
    await store.close();
  }
}

async function verify(dataDir: string) {
  const store = await openStore({ dataDir, create: false });
  try {
    return await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
  } finally {
    await store.close();
  }
}

afterEach(async () => {
  await Promise.all(guards.splice(0).map((g) => g.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('AgentGuard local mode', () => {
  it('decides, records the decision durably and masks secrets in the record', async () => {
    const { g, dataDir } = guard();
    const d = await g.decide({ kind: 'tool', name: 'kb.search', input: { q: 'x', api_key: 'sk-live-abcdefghijklmnopqrstuvwx' } });
    expect(d.effect).toBe('allow');
    expect(d.action.agent).toEqual({ id: 'bot' });
    expect(d.action.input).toMatchObject({ api_key: 'sk-live-abcdefghijklmnopqrstuvwx' });
    const rows = await records(dataDir);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'decision', decisionId: d.id, agentId: 'bot', effect: 'allow', rules: ['kb'] });
    expect(JSON.stringify(rows[0])).not.toContain('sk-live-abcdefghijklmnopqrstuvwx');
  });

  it('protect runs the function with the transformed input and records the outcome', async () => {
    const { g, dataDir } = guard();
    const calls: unknown[] = [];
    const query = g.protect('db.query', async (input: { sql: string; limit: number }) => {
      calls.push(input);
      return 'rows';
    });
    const original = { sql: 'SELECT 1', limit: 500 };
    await expect(query(original)).resolves.toBe('rows');
    expect(calls).toEqual([{ sql: 'SELECT 1', limit: 10 }]);
    expect(original.limit).toBe(500);
    const rows = await records(dataDir);
    expect(rows.map((r) => r.type)).toEqual(['decision', 'outcome']);
    expect(rows[1].data).toMatchObject({ status: 'ok' });
    expect(rows[1].decisionId).toBe(rows[0].decisionId);
  });

  it('passes several arguments through as input.args', async () => {
    const { g } = guard();
    const add = g.protect('add', (a: number, b: number) => a + b);
    await expect(add(2, 3)).resolves.toBe(5);
  });

  it('never runs a denied function and throws the decision', async () => {
    const { g, dataDir } = guard();
    let ran = 0;
    const query = g.protect('db.query', () => ran++);
    const error = await query({ sql: 'DROP TABLE users' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentGuardDeniedError);
    expect((error as AgentGuardDeniedError).decision.reasons[0].rule).toBe('no-drop');
    const unknown = g.protect('shell.exec', () => ran++);
    await expect(unknown({ cmd: 'ls' })).rejects.toBeInstanceOf(AgentGuardDeniedError);
    expect(ran).toBe(0);
    expect((await records(dataDir)).map((r) => r.effect)).toEqual(['deny', 'deny']);
  });

  it('throws ApprovalRequiredError for require_approval without running', async () => {
    const { g } = guard();
    let ran = false;
    const pay = g.protect('pay', () => (ran = true));
    await expect(pay({ amount: 1000 })).rejects.toBeInstanceOf(ApprovalRequiredError);
    expect(ran).toBe(false);
  });

  it('records errors of the protected function and rethrows them', async () => {
    const { g, dataDir } = guard();
    const failing = g.protect('kb.search', async () => {
      throw new Error('backend down');
    });
    await expect(failing({ q: 'x' })).rejects.toThrow('backend down');
    const rows = await records(dataDir);
    expect(rows[1].data).toMatchObject({ status: 'error', error: 'backend down' });
  });

  it('never runs the function when the guard cannot start', async () => {
    const g = new AgentGuard({ policy: '/nonexistent/policy.yaml', agentId: 'bot', dataDir: tempDir('ag-sdk-') });
    guards.push(g);
    let ran = false;
    await expect(g.protect('kb.search', () => (ran = true))({})).rejects.toThrow(/no such file/);
    expect(ran).toBe(false);
  });

  it('denies when the decision cannot be recorded', async () => {
    const dir = tempDir('ag-sdk-');
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const g = new AgentGuard({ policy: POLICY, agentId: 'bot', dataDir: file });
    guards.push(g);
    let ran = false;
    await expect(g.protect('kb.search', () => (ran = true))({})).rejects.toThrow();
    expect(ran).toBe(false);
  });

  it('works without audit when asked', async () => {
    const g = new AgentGuard({ policy: Policy.parse({ version: 1, name: 'p', rules: [{ id: 'a', effect: 'allow' }] }), agentId: 'bot', audit: false });
    guards.push(g);
    expect((await g.decide({ kind: 'tool', name: 'x' })).effect).toBe('allow');
  });

  it('rejects bad options clearly', () => {
    expect(() => new AgentGuard({ policy: 5 as unknown as string, agentId: 'x' })).toThrow(/needs `policy`/);
    expect(() => new AgentGuard({ policy: POLICY, agentId: '' })).toThrow(/needs `agentId`/);
  });
});

describe('durability', () => {
  it('a process killed with SIGKILL leaves a log that verifies and holds every returned decision', async () => {
    const dataDir = tempDir('ag-crash-');
    const child = spawn(process.execPath, [CHILD, dataDir, POLICY], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const returned: string[] = [];
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        returned.push(...lines);
        if (returned.length >= 1500 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => child.on('close', r));
    expect(returned.length).toBeGreaterThanOrEqual(1500);
    const result = await verify(dataDir);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const ids = new Set((await records(dataDir)).map((r) => r.decisionId));
    for (const id of returned) expect(ids.has(id)).toBe(true);
  }, 60_000);

  it('the CLI and an SDK process appending at once produce one valid chain', async () => {
    const dataDir = tempDir('ag-two-');
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ kind: 'tool', name: 'kb.search', input: { i } })).join('\n');
    const actions = join(tempDir('ag-two-actions-'), 'actions.jsonl');
    writeFileSync(actions, lines);
    const sdk = spawn(process.execPath, [CHILD, dataDir, POLICY, '1000', 'sdk-agent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const sdkDone = new Promise<number>((r) => sdk.on('close', (code) => r(code ?? -1)));
    const cli = spawnSync(process.execPath, [BIN, 'policy', 'simulate', '--policy', POLICY, '--input', actions, '--record', '--data-dir', dataDir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(cli.status).toBe(0);
    expect(await sdkDone).toBe(0);
    const result = await verify(dataDir);
    expect(result.ok).toBe(true);
    const rows = await records(dataDir);
    // Every decision of both writers, plus the chain's copy of each checkpoint one signed before the next append.
    expect(rows.filter((r) => r.type !== 'checkpoint')).toHaveLength(2000);
    expect(result.records).toBe(rows.length);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.agentId))).toEqual(new Set([null, 'sdk-agent']));
  }, 120_000);
});

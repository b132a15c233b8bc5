import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPublicKey } from '../src/core/audit/keys.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { tempDataDir } from './helpers/audit-log.js';
import { createToken, killStartedSidecars, startSidecar } from './helpers/sidecar-process.js';

afterAll(() => killStartedSidecars());

const POLICY = `version: 1
name: kill-test
default: deny
rules:
  - id: kb
    effect: allow
    when: { name: { glob: "kb.*" } }
`;

/** Starts a detached sidecar with AGENTGUARD_AUDIT_THREAD set as given (the daemon inherits this process's environment). */
async function startWithThread(dataDir: string, policy: string, thread: 'on' | undefined) {
  const before = process.env.AGENTGUARD_AUDIT_THREAD;
  if (thread === undefined) delete process.env.AGENTGUARD_AUDIT_THREAD;
  else process.env.AGENTGUARD_AUDIT_THREAD = thread;
  try {
    return await startSidecar(dataDir, policy);
  } finally {
    if (before === undefined) delete process.env.AGENTGUARD_AUDIT_THREAD;
    else process.env.AGENTGUARD_AUDIT_THREAD = before;
  }
}

describe('sidecar killed under load', () => {
  it.each([
    ['records written by the writer thread (AGENTGUARD_AUDIT_THREAD=on)', 'on' as const],
    ['records written on the event loop (the default on SQLite)', undefined],
  ])('%s: never returned a decision whose record is not in the audit log, and the log verifies', async (_, thread) => {
    const dataDir = tempDataDir('ag-perf-kill-');
    const policy = join(dirname(dataDir), 'policy.yaml');
    writeFileSync(policy, POLICY);
    const { token } = await createToken(dataDir, '--agent', 'bot');
    const sidecar = await startWithThread(dataDir, policy, thread);

    const answered: string[] = [];
    let killed = false;
    const client = async (n: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await fetch(`${sidecar.url}/v1/decide`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ action: { kind: 'tool', name: i % 2 ? 'kb.search' : 'db.query', input: { q: `${n}-${i}` } } }),
          });
          const body = (await res.json()) as { id?: string };
          if (res.status === 200 && body.id) answered.push(body.id);
        } catch {
          return; // the sidecar is gone
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, n) => client(n));
    // Kill it mid-load, once it has answered a few hundred decisions (batches are in flight to the writer thread).
    while (answered.length < 400) await new Promise((r) => setTimeout(r, 5));
    process.kill(sidecar.pid, 'SIGKILL');
    killed = true;
    await Promise.all(clients);

    const store = SqliteStore.open(join(dataDir, 'agentguard.db'), { create: false, backgroundCheckpoints: false });
    try {
      const recorded = new Set<string>();
      for await (const row of store.audit.scan()) if ('decisionId' in row && row.decisionId) recorded.add(row.decisionId);
      const missing = answered.filter((id) => !recorded.has(id));
      expect(answered.length).toBeGreaterThanOrEqual(400);
      expect(missing).toEqual([]);
      const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});

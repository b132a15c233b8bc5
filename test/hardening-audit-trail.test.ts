import fc from 'fast-check';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/core/canonical-json.js';
import { canonicalRecordText, GENESIS_HASH, hashRecord, hashText, type RecordColumns } from '../src/core/audit/chain.js';
import { readCheckpointFile, signCheckpoint } from '../src/core/audit/checkpoint.js';
import { loadOrCreateSigningKeys, loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import type { AuditEntry, VerifyResult } from '../src/core/audit/types.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { readWitness, witnessPath } from '../src/core/audit/witness.js';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import { MIGRATIONS, migrate } from '../src/core/store/sqlite/migrations.js';
import { decisionEntry, rawDb, tempDataDir as newDataDir } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

/**
 * Issue 16, item 3: the audit trail cannot be rewritten quietly without the key. Each attack is done as someone with
 * write access to the database file (a direct SQL connection), never to the keys folder, would do it.
 */

/** Temporary folders made here, removed when the file is done. */
const made: string[] = [];
function tempDataDir(prefix: string): string {
  const dir = newDataDir(prefix);
  made.push(dirname(dir));
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const ENTRIES = 800;
const EVERY = 100;
const HOUR = 3_600_000;

/** Every fifth decision is a deny; times start two hours ago, one second apart. */
function entry(i: number, start: number): AuditEntry {
  const effect = i % 5 === 0 ? 'deny' : 'allow';
  return decisionEntry(i, { type: 'decision', effect, time: new Date(start + i * 1000).toISOString(), data: { id: `dec_${i}`, effect } });
}

/** A log of 800 decisions with a checkpoint every 100, closed cleanly. Returns the data folder. */
async function recordedLog(start = Date.now() - 2 * HOUR): Promise<string> {
  const dataDir = tempDataDir('ag-audit-');
  const recorder = await AuditRecorder.open({ dataDir, checkpointEvery: EVERY });
  for (let i = 1; i <= ENTRIES; i++) await recorder.record(entry(i, start));
  await recorder.close();
  return dataDir;
}

/** What `agentguard audit verify` does: the data folder's key and the checkpoint kept next to it, when there is one. */
async function verify(dataDir: string, options: { now?: Date } = {}): Promise<VerifyResult> {
  const store = await openStore({ dataDir, create: false });
  try {
    const witness = await readWitness(join(dataDir, 'keys'), store.location);
    return await verifyAudit(store, { publicKey: loadPublicKey(dataDir), witness: witness ?? undefined, now: options.now });
  } finally {
    await store.close();
  }
}

type Db = ReturnType<typeof rawDb>;
function sql(dataDir: string, fn: (db: Db) => void): void {
  const db = rawDb(databasePath({ dataDir }));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

interface Row extends RecordColumns {
  hash: string;
}
const ROWS = 'SELECT seq, time, type, agent_id AS agentId, decision_id AS decisionId, effect, rules, data, prev_hash AS prevHash, hash FROM audit_records';

/** Recomputes prev_hash and hash of every record from `from` on, as an attacker who knows the format would. */
function rechain(db: Db, from: number): void {
  const rows = db.prepare(`${ROWS} WHERE seq >= ? ORDER BY seq`).all(from) as Row[];
  let prevHash = from === 1 ? GENESIS_HASH : (db.prepare('SELECT hash FROM audit_records WHERE seq = ?').get(from - 1) as { hash: string }).hash;
  const update = db.prepare('UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?');
  for (const row of rows) {
    const hash = hashText(prevHash, canonicalRecordText({ ...row, prevHash }));
    update.run(prevHash, hash, row.seq);
    prevHash = hash;
  }
}

/** Denies become allows in records 400..700 (effect column and the decision in data). */
function denyToAllow(db: Db): number {
  const rows = db.prepare(`${ROWS} WHERE seq BETWEEN 400 AND 700 AND effect = 'deny'`).all() as Row[];
  const update = db.prepare("UPDATE audit_records SET effect = 'allow', data = ? WHERE seq = ?");
  for (const row of rows) update.run(row.data.replace('"effect":"deny"', '"effect":"allow"'), row.seq);
  return rows.length;
}

/** The issue's attack, exactly: checkpoints from seq 400 on deleted, denies to allows in 400..700, hashes recomputed. */
function issueAttack(db: Db): void {
  db.prepare('DELETE FROM audit_checkpoints WHERE seq >= 400').run();
  expect(denyToAllow(db)).toBeGreaterThan(50);
  rechain(db, 400);
}

/**
 * The same attack done thoroughly: the chain's copies of the deleted checkpoints are removed too and the records after
 * them renumbered, so nothing in the database names a deleted checkpoint.
 */
function thoroughAttack(db: Db, options: { retime?: number } = {}): { from: number; to: number } {
  const last = (db.prepare('SELECT seq FROM audit_checkpoints WHERE seq < 400 ORDER BY seq DESC LIMIT 1').get() as { seq: number }).seq;
  db.prepare('DELETE FROM audit_checkpoints WHERE seq > ?').run(last);
  const from = last + 2; // last + 1 is the chain's copy of the kept checkpoint
  denyToAllow(db);
  const copies = db.prepare("SELECT seq FROM audit_records WHERE type = 'checkpoint' AND seq > ? ORDER BY seq DESC").pluck().all(last + 1) as number[];
  for (const seq of copies) {
    db.prepare('DELETE FROM audit_records WHERE seq = ?').run(seq);
    db.prepare('UPDATE audit_records SET seq = -(seq - 1) WHERE seq > ?').run(seq);
    db.prepare('UPDATE audit_records SET seq = -seq WHERE seq < 0').run();
  }
  if (options.retime !== undefined) {
    const rows = db.prepare('SELECT seq FROM audit_records WHERE seq >= ? ORDER BY seq').pluck().all(from) as number[];
    rows.forEach((seq, i) => db.prepare('UPDATE audit_records SET time = ? WHERE seq = ?').run(new Date(options.retime! + i).toISOString(), seq));
  }
  rechain(db, from);
  const to = (db.prepare('SELECT max(seq) FROM audit_records').pluck().get() as number);
  return { from, to };
}

function deleteWitness(dataDir: string): void {
  const path = witnessPath(dataDir, databasePath({ dataDir }));
  expect(existsSync(path)).toBe(true);
  rmSync(path);
}

const kinds = (r: VerifyResult) => r.problems.map((p) => p.kind);

describe('the issue 16 attack: checkpoints from seq 400 deleted, denies turned into allows in 400..700, hashes recomputed', { timeout: 60_000 }, () => {
  it('the pristine log verifies, with its checkpoints numbered, linked and copied into the chain', async () => {
    const dataDir = await recordedLog();
    const result = await verify(dataDir);
    expect(result).toEqual({ ok: true, records: ENTRIES + 7, checkpoints: 8, problems: [] });
    const store = await openStore({ dataDir, create: false });
    const checkpoints = await store.audit.checkpoints();
    await store.close();
    expect(checkpoints.map((c) => c.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(checkpoints.every((c) => c.intervalMs === 60_000)).toBe(true);
    const witness = await readCheckpointFile(witnessPath(dataDir, databasePath({ dataDir })));
    expect(witness.checkpoint).toEqual(checkpoints[7]);
  });

  it('is reported: the chain still holds copies of the deleted checkpoints, and the checkpoint next to the key is ahead', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, issueAttack);
    const result = await verify(dataDir);
    expect(result.ok).toBe(false);
    expect(kinds(result)).toContain('checkpoint_missing');
    expect(kinds(result)).toContain('truncated'); // the witness: record 807 differs, the log was rolled back
    expect(result.problems.find((p) => p.kind === 'checkpoint_missing')!.message).toMatch(/checkpoints #4\.\.#8 are missing/);
  });

  it('is reported without the checkpoint next to the key: the chain copy at 404 does not match the rewritten record 403', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, issueAttack);
    deleteWitness(dataDir);
    const result = await verify(dataDir);
    expect(result.ok).toBe(false);
    // Checkpoints #1..#3 were signed at 100, 201 and 302 (each followed by its copy), #4 at 403.
    expect(result.problems[0]).toMatchObject({ seq: 403, kind: 'changed', message: expect.stringMatching(/does not match checkpoint #4 .*copy the chain holds at seq 404/) });
    expect(kinds(result)).toContain('checkpoint_missing');
  });

  it('done thoroughly (chain copies removed, witness deleted): records older than the interval that no checkpoint covers are unsigned, with the range named', async () => {
    const dataDir = await recordedLog();
    let range = { from: 0, to: 0 };
    sql(dataDir, (db) => (range = thoroughAttack(db)));
    deleteWitness(dataDir);
    const result = await verify(dataDir);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: range.from - 1, kind: 'unsigned', message: expect.stringContaining(`records ${range.from - 1}..${range.to} (written `) },
    ]);
    expect(range.from - 1).toBe(303); // the copy of checkpoint #3 (at 302) was kept, so coverage ends at 302
  });

  it('done thoroughly with the records re-dated to now: reported once the interval and slack have passed', async () => {
    const dataDir = await recordedLog();
    const now = Date.now();
    sql(dataDir, (db) => thoroughAttack(db, { retime: now }));
    deleteWitness(dataDir);
    expect((await verify(dataDir, { now: new Date(now + 1000) })).ok).toBe(true); // within 60 s + 120 s: indistinguishable from a live writer
    const later = await verify(dataDir, { now: new Date(now + 181_000 + ENTRIES) });
    expect(kinds(later)).toEqual(['unsigned']);
  });

  it('done thoroughly but with the witness kept: verify finds it, and a signer started afterwards links past the deleted checkpoints', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, (db) => thoroughAttack(db, { retime: Date.now() }));
    expect(kinds(await verify(dataDir))).toEqual(expect.arrayContaining(['checkpoint_missing', 'truncated']));
    // A sidecar or SDK starting now finds unsigned records and signs them at once, linked to the witness's #8.
    const warnings: string[] = [];
    const recorder = await AuditRecorder.open({ dataDir, onError: (e) => warnings.push(e.message) });
    await recorder.close();
    expect(warnings.join('\n')).toMatch(/lacks checkpoints #4\.\.#8 signed by this key/);
    deleteWitness(dataDir); // even without it now, the new checkpoint's link shows the gap
    const result = await verify(dataDir);
    expect(result.problems).toContainEqual(expect.objectContaining({ kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoints #4\.\.#8 are missing .*checkpoint #9 links to #8/) }));
  });
});

describe('agentguard audit verify (the built CLI)', { timeout: 120_000 }, () => {
  it('exits 1 on the issue attack, naming the problems; emptied without evidence, exits 0 but says what it cannot tell', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, issueAttack);
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Audit log TAMPERED');
    expect(r.stdout).toMatch(/checkpoint_missing +signed checkpoints #4\.\.#8 are missing/);

    const emptied = await recordedLog();
    sql(emptied, (db) => {
      db.prepare('DELETE FROM audit_records').run();
      db.prepare('DELETE FROM audit_checkpoints').run();
    });
    expect((await runCliInProcess(['audit', 'verify', '--data-dir', emptied])).code).toBe(1);
    deleteWitness(emptied);
    const blind = await runCliInProcess(['audit', 'verify', '--data-dir', emptied, '--json']);
    expect(blind.code).toBe(0);
    expect(JSON.parse(blind.stdout).notes).toEqual([expect.stringMatching(/the log is empty and has no checkpoint, but the data folder has a signing key .*it was emptied/)]);
    expect((await runCliInProcess(['audit', 'verify', '--data-dir', emptied, '--unsigned-slack', 'soon'])).stderr).toContain('--unsigned-slack: "soon" is not a duration');
  });
});

describe('variants', { timeout: 60_000 }, () => {
  it('deleting one checkpoint in the middle: a gap in the numbers, named', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE n = 4').run());
    deleteWitness(dataDir);
    const result = await verify(dataDir);
    expect(result.problems).toEqual([
      { seq: 403, kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoint #4 is missing .*checkpoint #5 links to #4; the chain holds #4 at seq 404/) },
    ]);
  });

  it('deleting the first checkpoint: the next one links to it', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE n = 1').run());
    expect((await verify(dataDir)).problems).toEqual([{ seq: 100, kind: 'checkpoint_missing', message: expect.stringContaining('checkpoint #1 is missing') }]);
  });

  it('deleting only the last checkpoints: the chain copies and the witness name them; without both, the tail is unsigned', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE n >= 7').run());
    const withWitness = await verify(dataDir);
    expect(withWitness.problems).toEqual([
      { seq: 706, kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoints #7\.\.#8 are missing .*the chain holds #7 at seq 707/) },
    ]);
    deleteWitness(dataDir);
    expect(kinds(await verify(dataDir))).toEqual(['checkpoint_missing', 'unsigned']);
    // Only the last one, which no record copies yet: the witness names it; without it the records since #7 are unsigned.
    const other = await recordedLog();
    sql(other, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE n = 8').run());
    expect((await verify(other)).problems).toEqual([
      { seq: 807, kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoint #8 is missing .*latest-checkpoint\.json is #8/) },
    ]);
    deleteWitness(other);
    expect((await verify(other)).problems).toEqual([{ seq: 707, kind: 'unsigned', message: expect.stringContaining('records 707..807') }]);
  });

  it('emptying both tables: the checkpoint next to the key shows the log had reached seq 807', async () => {
    const dataDir = await recordedLog();
    sql(dataDir, (db) => {
      db.prepare('DELETE FROM audit_records').run();
      db.prepare('DELETE FROM audit_checkpoints').run();
    });
    const result = await verify(dataDir);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: 1, kind: 'truncated', message: expect.stringMatching(/the log ends at seq 0, but the checkpoint kept next to the signing key .* had reached seq 807: records 1\.\.807 were removed/) },
      { seq: 1, kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoints #1\.\.#8 are missing/) },
    ]);
  });

  it('replacing the signed tail with a different, re-signed one needs the key: a forged checkpoint does not verify', async () => {
    const dataDir = await recordedLog();
    const stranger = loadOrCreateSigningKeys(tempDataDir('ag-audit-stranger-'));
    sql(dataDir, (db) => {
      const head = db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
      const forged = signCheckpoint(head, stranger);
      db.prepare('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature, n, prev, interval_ms, reason) VALUES (?, ?, ?, ?, ?, 9, NULL, 60000, ?)').run(
        forged.seq, forged.hash, forged.time, forged.keyId, forged.signature, 'close',
      );
    });
    expect(kinds(await verify(dataDir))).toEqual(['bad_signature']);
  });
});

describe('signing at start', { timeout: 60_000 }, () => {
  /** Records as a process that dies before signing: no checkpoint on count or timer, and never closed. */
  async function crashedWriter(dataDir: string, count: number, start: number): Promise<void> {
    const store = await openStore({ dataDir });
    const recorder = new AuditRecorder(store, loadOrCreateSigningKeys(dataDir), { checkpointEvery: 0, checkpointIntervalMs: 0 });
    for (let i = 1; i <= count; i++) await recorder.record(entry(i, start));
    await store.close(); // the recorder is never closed: no final checkpoint
  }

  it('unsigned records are reported until a recorder opens the log; it signs the head at once, listed as signed at start', async () => {
    const dataDir = tempDataDir('ag-audit-crash-');
    await crashedWriter(dataDir, 20, Date.now() - HOUR);
    const before = await verify(dataDir);
    expect(before.problems).toEqual([{ seq: 1, kind: 'unsigned', message: expect.stringContaining('records 1..20 (written ') }]);
    const recorder = await AuditRecorder.open({ dataDir });
    expect(recorder.latestCheckpoint).toMatchObject({ n: 1, seq: 20, reason: 'start' });
    await recorder.close();
    const after = await verify(dataDir);
    expect(after.ok).toBe(true);
    expect(after.notes).toEqual([expect.stringMatching(/checkpoint #1 was signed at start .*records 1\.\.20 were found unsigned/)]);
  });

  it('AgentGuard in local mode signs unsigned records when it starts, before its first decision is recorded', async () => {
    const { AgentGuard } = await import('agentguard/sdk');
    const dataDir = tempDataDir('ag-audit-sdk-');
    await crashedWriter(dataDir, 5, Date.now() - HOUR);
    const guard = new AgentGuard({ policy: join(import.meta.dirname, 'fixtures/sdk/policy.yaml'), agentId: 'bot', dataDir });
    await guard.decide({ kind: 'tool', name: 'kb.search', input: { q: 'x' } });
    const store = await openStore({ dataDir, create: false });
    const checkpoints = await store.audit.checkpoints();
    const copy = (await store.audit.query({ type: 'checkpoint' }))[0];
    await store.close();
    await guard.close();
    expect(checkpoints[0]).toMatchObject({ n: 1, seq: 5, reason: 'start' });
    expect(copy.seq).toBe(6); // the decision at 7 follows the chain's copy of it
    expect((await verify(dataDir)).ok).toBe(true);
  });

  it('a log with everything signed gets no checkpoint at start', async () => {
    const dataDir = await recordedLog();
    const recorder = await AuditRecorder.open({ dataDir });
    expect(recorder.latestCheckpoint).toBeNull();
    await recorder.close();
  });
});

describe('legacy logs (written before checkpoints were linked)', { timeout: 60_000 }, () => {
  /** A database at schema 6 with 30 records and legacy checkpoints at 10, 20 and 30, as the previous version wrote. */
  function legacyLog(): string {
    const dataDir = tempDataDir('ag-audit-legacy-');
    const keys = loadOrCreateSigningKeys(dataDir);
    const db = rawDb(databasePath({ dataDir }));
    migrate(db, 'legacy', MIGRATIONS.filter((m) => m.version <= 6));
    let prevHash = GENESIS_HASH;
    const start = Date.now() - HOUR;
    for (let seq = 1; seq <= 30; seq++) {
      const e = entry(seq, start);
      const hash = hashRecord(prevHash, { ...e, seq, prevHash });
      db.prepare('INSERT INTO audit_records (seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        seq, e.time, e.type, e.agentId, e.decisionId, e.effect, canonicalJson(e.rules), canonicalJson(e.data), prevHash, hash,
      );
      if (seq % 10 === 0) {
        const cp = signCheckpoint({ seq, hash }, keys);
        db.prepare('INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)').run(cp.seq, cp.hash, cp.time, cp.keyId, cp.signature);
      }
      prevHash = hash;
    }
    db.close();
    return dataDir;
  }

  it('still verifies, with a note that its checkpoints are of the legacy format', async () => {
    const dataDir = legacyLog();
    const result = await verify(dataDir);
    expect(result).toMatchObject({ ok: true, records: 30, checkpoints: 3, problems: [] });
    expect(result.notes).toEqual([expect.stringMatching(/3 checkpoints were signed in the legacy format.*up to seq 30.*leaves no trace/)]);
  });

  it('continues with linked checkpoints: the first links to the last legacy one, whose deletion is then reported', async () => {
    const dataDir = legacyLog();
    const recorder = await AuditRecorder.open({ dataDir });
    await recorder.record(entry(31, Date.now()));
    await recorder.close();
    const result = await verify(dataDir);
    expect(result.ok).toBe(true);
    sql(dataDir, (db) => db.prepare('DELETE FROM audit_checkpoints WHERE seq = 30 AND n IS NULL').run());
    expect((await verify(dataDir)).problems).toEqual([
      { seq: 31, kind: 'checkpoint_missing', message: expect.stringContaining('checkpoint #1 (signed') },
    ]);
  });
});

describe('properties: on a log whose records are older than the interval, no deletion or rewrite goes unreported', { timeout: 120_000 }, () => {
  /** A smaller pristine log (200 decisions, a checkpoint every 20) copied for each run, witness included. */
  async function pristine(): Promise<{ dir: string; copy: () => string }> {
    const dir = tempDataDir('ag-audit-prop-');
    const recorder = await AuditRecorder.open({ dataDir: dir, checkpointEvery: 20 });
    const start = Date.now() - 2 * HOUR;
    for (let i = 1; i <= 200; i++) await recorder.record(entry(i, start));
    await recorder.close();
    let copies = 0;
    const copy = (): string => {
      const to = join(dirname(dir), `copy-${copies++}`);
      mkdirSync(join(to, 'keys'), { recursive: true, mode: 0o700 });
      copyFileSync(databasePath({ dataDir: dir }), databasePath({ dataDir: to }));
      for (const file of ['audit-ed25519.pub.pem', 'latest-checkpoint.json']) copyFileSync(join(dir, 'keys', file), join(to, 'keys', file));
      return to;
    };
    return { dir, copy };
  }

  it('deleting any non-empty set of checkpoints, with or without the witness', async () => {
    const { copy } = await pristine();
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }), fc.boolean(), async (numbers, dropWitness) => {
        const dir = copy();
        sql(dir, (db) => {
          for (const n of numbers) db.prepare('DELETE FROM audit_checkpoints WHERE n = ?').run(n);
        });
        if (dropWitness) deleteWitness(dir);
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect(kinds(result).some((k) => k === 'checkpoint_missing' || k === 'unsigned' || k === 'truncated')).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('rewriting from any record with recomputed hashes, the checkpoints after it deleted, their chain copies removed or not, with or without the witness', async () => {
    const { copy } = await pristine();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 205 }), fc.boolean(), fc.boolean(), async (from, dropCopies, dropWitness) => {
        const dir = copy();
        sql(dir, (db) => {
          const row = db.prepare('SELECT seq, data FROM audit_records WHERE seq = ?').get(from) as { seq: number; data: string };
          db.prepare("UPDATE audit_records SET effect = 'allow', data = ? WHERE seq = ?").run(row.data.replace('}', ',"forged":true}'), from);
          db.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(from);
          if (dropCopies) {
            db.prepare("DELETE FROM audit_records WHERE type = 'checkpoint' AND seq > ?").run(from);
            // Renumber what is left after `from` to close the gaps.
            const rest = db.prepare('SELECT seq FROM audit_records WHERE seq > ? ORDER BY seq').pluck().all(from) as number[];
            rest.forEach((seq, i) => db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(-(from + 1 + i), seq));
            db.prepare('UPDATE audit_records SET seq = -seq WHERE seq < 0').run();
          }
          rechain(db, from);
        });
        if (dropWitness) deleteWitness(dir);
        expect((await verify(dir)).ok).toBe(false);
      }),
      { numRuns: 40 },
    );
  });
});

import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { keyPaths } from '../src/core/audit/keys.js';
import { databasePath } from '../src/core/store/open-store.js';
import { decisionEntry, rawDb, tempDataDir } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

/**
 * A data folder holding `n` recorded decisions, with a signed checkpoint every 10 and on close. The first append after
 * each checkpoint writes the chain's copy of it first: 25 decisions are 27 records (copies at 11 and 22).
 */
async function recordedLog(n: number, dataDir = tempDataDir('ag-cli-')): Promise<string> {
  const recorder = await AuditRecorder.open({ dataDir, checkpointEvery: 10 });
  for (let i = 1; i <= n; i++) await recorder.record(decisionEntry(i));
  await recorder.close();
  return dataDir;
}

function sql(dataDir: string, statement: string, ...params: unknown[]): void {
  const db = rawDb(databasePath({ dataDir }));
  db.prepare(statement).run(...params);
  db.close();
}

describe('agentguard audit verify', { timeout: 120_000 }, () => {
  it('exits 0 on an intact log and says so', async () => {
    const dataDir = await recordedLog(25);
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Audit log intact: 27 records, 3 signed checkpoints');
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({ ok: true, records: 27, checkpoints: 3, problems: [] });
  });

  it('finds the data folder from the project when --data-dir is not given', async () => {
    const project = dirname(tempDataDir('ag-cli-project-'));
    writeFileSync(join(project, 'agentguard.config.json'), JSON.stringify({ dataDir: 'runtime' }));
    await recordedLog(3, join(project, 'runtime'));
    mkdirSync(join(project, 'sub'));
    const r = await runCliInProcess(['audit', 'verify', '--json'], { cwd: join(project, 'sub'), env: { AGENTGUARD_DATA_DIR: undefined } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).records).toBe(3);
  });

  it('exits 1 naming the first bad record when a column was changed with SQL', async () => {
    const dataDir = await recordedLog(25);
    sql(dataDir, "UPDATE audit_records SET effect = 'allow' WHERE seq = 7"); // was require_approval
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Audit log TAMPERED: 1 problem in 27 records');
    expect(r.stdout).toMatch(/seq 7 {2}changed +record 7 was changed: its content no longer matches its hash/);
    expect(r.stderr).toContain('First bad record: seq 7');
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      ok: false,
      records: 27,
      checkpoints: 3,
      problems: [{ seq: 7, kind: 'changed', message: 'record 7 was changed: its content no longer matches its hash' }],
    });
  });

  it('exits 1 on a deleted record, naming it as missing', async () => {
    const dataDir = await recordedLog(12);
    sql(dataDir, 'DELETE FROM audit_records WHERE seq = 4');
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).problems).toEqual([{ seq: 4, kind: 'missing', message: expect.stringContaining('record 4 is missing') }]);
  });

  it('exits 2 when there is no database, and creates nothing', async () => {
    const dataDir = tempDataDir('ag-cli-none-');
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Error (STORE_NOT_FOUND): no agentguard database at ${join(dataDir, 'agentguard.db')}`);
    expect(r.stderr).toContain('Try this:');
    expect(existsSync(dataDir)).toBe(false);
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout).error.code).toBe('STORE_NOT_FOUND');
  });

  it('exits 2 when the key cannot be read, and 1 when the checkpoints were signed by another key', async () => {
    const dataDir = await recordedLog(5);
    writeFileSync(keyPaths(dataDir).publicKey, 'not a key');
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Error \(AUDIT_KEY_UNREADABLE\): .*audit-ed25519\.pub\.pem: not a PEM public key/);

    const other = join(dirname(dataDir), 'other.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--public-key', other, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).problems[0]).toMatchObject({ seq: 5, kind: 'bad_signature' });
  });

  it('exits 2 when the private key is readable by others and no public key file is left', async () => {
    const dataDir = await recordedLog(2);
    unlinkSync(keyPaths(dataDir).publicKey);
    chmodSync(keyPaths(dataDir).privateKey, 0o640);
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error (AUDIT_KEY_PERMISSIONS)');
    expect(r.stderr).toContain(`chmod 600 ${keyPaths(dataDir).privateKey}`);
    expect(r.stderr).not.toContain('PRIVATE KEY');
  });

  it('reports a forged stored checkpoint as bad_signature', async () => {
    const dataDir = await recordedLog(10);
    sql(dataDir, "UPDATE audit_checkpoints SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 10");
    const j = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).problems).toEqual([{ seq: 10, kind: 'bad_signature', message: expect.stringContaining('does not match its content') }]);
  });
});

describe('agentguard audit checkpoint and verify --checkpoint', { timeout: 120_000 }, () => {
  it('writes the signed head, and verify against it finds a truncated log', async () => {
    const dataDir = await recordedLog(30); // 32 records: copies of checkpoints #1 and #2 at 11 and 22
    const file = join(dirname(dataDir), 'kept-elsewhere.json');
    const c = await runCliInProcess(['audit', 'checkpoint', '--data-dir', dataDir, '--out', file]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/Wrote the checkpoint of seq 32 \(hash [0-9a-f]{16}…/);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved).toMatchObject({ format: 'agentguard-audit-checkpoint', version: 2, checkpoint: { seq: 32, n: 4, reason: 'manual', intervalMs: 0 } });
    expect(saved.publicKey).toBe(readFileSync(keyPaths(dataDir).publicKey, 'utf8'));
    expect((await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', file])).code).toBe(0);

    // Cut off the last rows, and the stored checkpoints that would give it away.
    sql(dataDir, 'DELETE FROM audit_records WHERE seq > 28');
    sql(dataDir, 'DELETE FROM audit_checkpoints');
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', file, '--json']);
    expect(r.code).toBe(1);
    const problems = JSON.parse(r.stdout).problems;
    expect(problems).toContainEqual({ seq: 29, kind: 'truncated', message: expect.stringMatching(/the log ends at seq 28, but the checkpoint file .*kept-elsewhere\.json .* records 29\.\.32 were removed/) });
    // The chain's copies name the deleted checkpoints #1 and #2, the file #4.
    expect(problems).toContainEqual({ seq: 10, kind: 'checkpoint_missing', message: expect.stringMatching(/checkpoints #1\.\.#4 are missing .*the chain holds #1 at seq 11/) });
    const human = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', file]);
    expect(human.stdout).toMatch(/seq 29 {2}truncated/);
    // Without the file, the checkpoint the signer keeps next to its key tells the same.
    const local = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(local.code).toBe(1);
    expect(JSON.parse(local.stdout).problems).toContainEqual(expect.objectContaining({ seq: 29, kind: 'truncated', message: expect.stringContaining('latest-checkpoint.json') }));
  });

  it('--json prints the checkpoint, and the stored copy verifies', async () => {
    const dataDir = await recordedLog(3);
    const file = join(dirname(dataDir), 'cp.json');
    const r = await runCliInProcess(['audit', 'checkpoint', '--data-dir', dataDir, '--out', file, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ file, checkpoint: { seq: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/), keyId: expect.stringMatching(/^sha256:/) } });
    const v = JSON.parse((await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--json'])).stdout);
    expect(v).toMatchObject({ ok: true, checkpoints: 2 }); // the close checkpoint and this one
  });

  it('exits 2 for an unreadable checkpoint file and for a missing database', async () => {
    const dataDir = await recordedLog(2);
    const bad = join(dirname(dataDir), 'bad.json');
    writeFileSync(bad, '{"format": "something-else"}');
    const r = await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--checkpoint', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Error (CHECKPOINT_UNREADABLE): checkpoint file ${bad}: "format" must be "agentguard-audit-checkpoint"`);
    const none = await runCliInProcess(['audit', 'checkpoint', '--data-dir', tempDataDir(), '--out', bad]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('STORE_NOT_FOUND');
  });

  it('requires --out', async () => {
    const r = await runCliInProcess(['audit', 'checkpoint']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Missing required flag out/);
  });
});

describe('agentguard audit public-key', { timeout: 120_000 }, () => {
  it('prints the PEM public key, writes it with --out, and --json gives the key id', async () => {
    const dataDir = await recordedLog(1);
    const pem = readFileSync(keyPaths(dataDir).publicKey, 'utf8');
    const r = await runCliInProcess(['audit', 'public-key', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(pem);
    const out = join(dirname(dataDir), 'key.pem');
    const w = await runCliInProcess(['audit', 'public-key', '--data-dir', dataDir, '--out', out, '--json']);
    expect(w.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(pem);
    expect(JSON.parse(w.stdout)).toEqual({ keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), publicKey: pem, file: out });
    expect((await runCliInProcess(['audit', 'verify', '--data-dir', dataDir, '--public-key', out])).code).toBe(0);
  });
});

import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/core/canonical-json.js';
import {
  canonicalRecordText,
  encodeEntry,
  GENESIS_HASH,
  hashRecord,
  hashText,
  columnsAligned,
  type UnhashedRecord,
} from '../src/core/audit/chain.js';
import {
  checkpointPayload,
  checkpointSignatureProblem,
  readCheckpointFile,
  signCheckpoint,
  writeCheckpointFile,
} from '../src/core/audit/checkpoint.js';
import { keyIdOf, keyPaths, loadOrCreateSigningKeys, loadPublicKey, parsePublicKeyPem } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { AgentGuardError } from '../src/core/errors.js';
import { openStore } from '../src/core/store/open-store.js';
import { decisionEntry, tempDataDir } from './helpers/audit-log.js';

const RECORD: UnhashedRecord = {
  seq: 1,
  prevHash: GENESIS_HASH,
  type: 'decision',
  time: '2025-01-01T00:00:00.000Z',
  agentId: 'bot',
  decisionId: 'dec_1',
  effect: 'deny',
  rules: ['no-drop'],
  data: { b: 1, a: 'x' },
};

describe('hash chain', () => {
  it('hashes the previous hash bytes followed by the canonical JSON of the whole record', () => {
    // Written out by hand in RFC 8785 order, so this checks key order and coverage independently of the code.
    const text =
      '{"agentId":"bot","data":{"a":"x","b":1},"decisionId":"dec_1","effect":"deny",' +
      `"prevHash":"${GENESIS_HASH}","rules":["no-drop"],"seq":1,"time":"2025-01-01T00:00:00.000Z","type":"decision"}`;
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(text).digest('hex');
    expect(hashRecord(GENESIS_HASH, RECORD)).toBe(expected);
    expect(canonicalJson(RECORD)).toBe(text);
  });

  it('changes when any field changes, including seq and prevHash', () => {
    const base = hashRecord(GENESIS_HASH, RECORD);
    const variants: Partial<UnhashedRecord>[] = [
      { seq: 2 },
      { prevHash: 'f'.repeat(64) },
      { type: 'outcome' },
      { time: '2025-01-01T00:00:00.001Z' },
      { agentId: null },
      { decisionId: 'dec_2' },
      { effect: 'allow' },
      { rules: [] },
      { data: { b: 1, a: 'y' } },
    ];
    for (const v of variants) expect(hashRecord(GENESIS_HASH, { ...RECORD, ...v })).not.toBe(base);
    expect(hashRecord('1'.repeat(64), RECORD)).not.toBe(base);
  });

  it('assembles the same text from stored columns as canonicalJson of the record', () => {
    const encoded = encodeEntry(RECORD);
    expect(canonicalRecordText({ ...encoded, seq: 1, prevHash: GENESIS_HASH })).toBe(canonicalJson(RECORD));
  });

  it('hashes large records (beyond the one-shot buffer) the same way', () => {
    const text = `{"x":"${'é'.repeat(200_000)}"}`;
    expect(hashText(GENESIS_HASH, text)).toBe(createHash('sha256').update(Buffer.alloc(32)).update(text).digest('hex'));
  });

  it('rejects invalid entries with the field named', () => {
    const bad = (patch: Record<string, unknown>) => () => encodeEntry({ ...decisionEntry(1), ...patch } as never, 3);
    expect(bad({ type: 'other' })).toThrow(/audit entry 3: "type"/);
    expect(bad({ time: '2025-01-01' })).toThrow(/"time" must be an ISO 8601 UTC time/);
    expect(bad({ effect: 'maybe' })).toThrow(/"effect"/);
    expect(bad({ rules: [1] })).toThrow(/"rules"/);
    expect(bad({ data: [] })).toThrow(/"data" must be an object/);
    expect(bad({ data: { n: 10n } })).toThrow(/"data" cannot be written as JSON/);
    expect(bad({ agentId: 5 })).toThrow(/"agentId"/);
  });

  it('replaces lone surrogates in text columns so the stored value round-trips', () => {
    expect(encodeEntry({ ...decisionEntry(1), agentId: 'a\uD800b' }).agentId).toBe('a\uFFFDb');
  });

  it('tells aligned columns from text moved out of data into rules', () => {
    expect(columnsAligned('["kb-read","decisionId"]')).toBe(true);
    expect(columnsAligned('["a\\",\\"decisionId\\":"]')).toBe(true);
    expect(columnsAligned('["x"]}},"decisionId":"d","effect":"deny","prevHash":"00","rules":["r"]')).toBe(false);
  });
});

describe('signing keys', () => {
  it('are created on first use with folder 0700 and private key 0600, and reloaded after', () => {
    const dir = tempDataDir();
    const keys = loadOrCreateSigningKeys(dir);
    const paths = keyPaths(dir);
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700);
    expect(statSync(paths.privateKey).mode & 0o777).toBe(0o600);
    expect(keys.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keys.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(readFileSync(paths.publicKey, 'utf8')).toBe(keys.publicKeyPem);
    expect(loadOrCreateSigningKeys(dir).keyId).toBe(keys.keyId);
    expect(loadPublicKey(dir)?.keyId).toBe(keys.keyId);
  });

  it('loadPublicKey creates nothing when there is no key', () => {
    const dir = tempDataDir();
    expect(loadPublicKey(dir)).toBeNull();
    expect(existsSync(keyPaths(dir).dir)).toBe(false);
  });

  it('refuses a private key that others can read, saying how to fix it', () => {
    const dir = tempDataDir();
    loadOrCreateSigningKeys(dir);
    chmodSync(keyPaths(dir).privateKey, 0o644);
    try {
      loadOrCreateSigningKeys(dir);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AgentGuardError);
      expect((error as AgentGuardError).code).toBe('AUDIT_KEY_PERMISSIONS');
      expect((error as AgentGuardError).message).toContain('mode 0644');
      expect((error as AgentGuardError).actions.join(' ')).toContain('chmod 600');
    }
  });

  it('restores a deleted public key file from the private key', () => {
    const dir = tempDataDir();
    const keys = loadOrCreateSigningKeys(dir);
    unlinkSync(keyPaths(dir).publicKey);
    expect(loadPublicKey(dir)?.keyId).toBe(keys.keyId); // derived, without writing
    expect(existsSync(keyPaths(dir).publicKey)).toBe(false);
    loadOrCreateSigningKeys(dir);
    expect(readFileSync(keyPaths(dir).publicKey, 'utf8')).toBe(keys.publicKeyPem);
  });

  it('a replaced public key file makes the stored checkpoints fail to verify', async () => {
    const dataDir = tempDataDir();
    const recorder = await AuditRecorder.open({ dataDir });
    await recorder.record(decisionEntry(1));
    await recorder.close();
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(keyPaths(dataDir).publicKey, other);
    const store = await openStore({ dataDir });
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
    await store.close();
    expect(result.problems).toEqual([{ seq: 1, kind: 'bad_signature', message: expect.stringMatching(/signed by an unknown key/) }]);
  });

  it('does not put key material in error messages', () => {
    const dir = tempDataDir();
    loadOrCreateSigningKeys(dir);
    const pem = readFileSync(keyPaths(dir).privateKey, 'utf8');
    writeFileSync(keyPaths(dir).privateKey, pem.replace(/[A-Za-z]/g, 'A').slice(0, 100), { mode: 0o600 });
    try {
      loadOrCreateSigningKeys(dir);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/not a PEM private key/);
      expect((error as Error).message).not.toContain('AAAA');
    }
  });

  it('parsePublicKeyPem rejects non-keys and non-Ed25519 keys', () => {
    expect(() => parsePublicKeyPem('nope', 'x.pem')).toThrow(/x.pem: not a PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => parsePublicKeyPem(rsa, 'rsa.pem')).toThrow(/rsa key; audit checkpoints use Ed25519/);
  });
});

describe('checkpoints', () => {
  const keys = loadOrCreateSigningKeys(tempDataDir());
  const head = { seq: 42, hash: 'ab'.repeat(32) };

  it('verify when untouched', () => {
    const cp = signCheckpoint(head, keys, new Date('2025-02-01T00:00:00Z'));
    expect(cp).toMatchObject({ seq: 42, hash: head.hash, time: '2025-02-01T00:00:00.000Z', keyId: keys.keyId });
    expect(checkpointSignatureProblem(cp, keys)).toBeNull();
    expect(checkpointPayload(cp).toString()).toBe(canonicalJson({ seq: 42, hash: head.hash, time: cp.time, keyId: keys.keyId }));
  });

  it('fail when any signed field or the signature changes', () => {
    const cp = signCheckpoint(head, keys);
    expect(checkpointSignatureProblem({ ...cp, seq: 43 }, keys)).toMatch(/does not match its content/);
    expect(checkpointSignatureProblem({ ...cp, hash: 'cd'.repeat(32) }, keys)).toMatch(/does not match/);
    expect(checkpointSignatureProblem({ ...cp, time: new Date(0).toISOString() }, keys)).toMatch(/does not match/);
    const sig = Buffer.from(cp.signature, 'base64');
    sig[0] ^= 1;
    expect(checkpointSignatureProblem({ ...cp, signature: sig.toString('base64') }, keys)).toMatch(/does not match/);
    expect(checkpointSignatureProblem({ ...cp, signature: 'AAAA' }, keys)).toMatch(/not a base64 Ed25519 signature/);
  });

  it('fail with another key, whether or not the key id is forged', () => {
    const other = loadOrCreateSigningKeys(tempDataDir());
    const byOther = signCheckpoint(head, other);
    expect(checkpointSignatureProblem(byOther, keys)).toMatch(/signed by an unknown key/);
    const forgedId = { ...byOther, keyId: keys.keyId };
    expect(checkpointSignatureProblem(forgedId, keys)).toMatch(/does not match/);
    expect(keyIdOf(other.publicKey)).toBe(other.keyId);
  });

  it('round-trip through a checkpoint file', async () => {
    const file = join(tempDataDir(), '..', 'cp.json');
    const cp = signCheckpoint(head, keys);
    await writeCheckpointFile(file, cp, keys.publicKeyPem);
    const loaded = await readCheckpointFile(file);
    expect(loaded.checkpoint).toEqual(cp);
    expect(loaded.key.keyId).toBe(keys.keyId);
    expect(checkpointSignatureProblem(loaded.checkpoint, loaded.key)).toBeNull();
  });

  it('written by two writers of one process at once (two recorders sharing a data folder): both succeed, the file holds one of them', async () => {
    const file = join(tempDataDir(), '..', 'shared-witness.json');
    const first = signCheckpoint(head, keys);
    const second = signCheckpoint({ seq: 43, hash: 'cd'.repeat(32) }, keys);
    for (let i = 0; i < 20; i++) {
      await Promise.all([writeCheckpointFile(file, first, keys.publicKeyPem), writeCheckpointFile(file, second, keys.publicKeyPem)]);
      expect([first, second]).toContainEqual((await readCheckpointFile(file)).checkpoint);
    }
    expect(readdirSync(dirname(file)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reject unreadable checkpoint files with the file and field named', async () => {
    const dir = join(tempDataDir(), '..');
    const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    await expect(readCheckpointFile(join(dir, 'none.json'))).rejects.toThrow(/none.json: no such file/);
    await expect(readCheckpointFile(write('a.json', '{'))).rejects.toThrow(/a.json: not JSON/);
    await expect(readCheckpointFile(write('b.json', '{"format":"x"}'))).rejects.toThrow(/"format" must be/);
    const good = { format: 'agentguard-audit-checkpoint', version: 1, checkpoint: signCheckpoint(head, keys), publicKey: keys.publicKeyPem };
    await expect(readCheckpointFile(write('c.json', JSON.stringify({ ...good, checkpoint: { ...good.checkpoint, seq: -1 } })))).rejects.toThrow(/"checkpoint.seq"/);
    await expect(readCheckpointFile(write('d.json', JSON.stringify({ ...good, publicKey: 'x' })))).rejects.toThrow(/d.json: "publicKey": not a PEM public key/);
    const error = await readCheckpointFile(write('e.json', '[]')).catch((e: AgentGuardError) => e);
    expect(error).toMatchObject({ code: 'CHECKPOINT_UNREADABLE', exitCode: 2 });
  });
});

describe('AuditRecorder', () => {
  it('records entries in order and signs a checkpoint every N records and on close', async () => {
    const dataDir = tempDataDir();
    const recorder = await AuditRecorder.open({ dataDir, checkpointEvery: 10 });
    const records = [];
    for (let i = 0; i < 25; i++) records.push(await recorder.record(decisionEntry(i)));
    // The first append after each checkpoint writes the chain's copy of it first (seq 11 and 22).
    expect(records.map((r) => r.seq)).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => i + 12), 23, 24, 25, 26, 27]);
    expect(records[1].prevHash).toBe(records[0].hash);
    await recorder.close();
    const store = await openStore({ dataDir, create: false });
    const checkpoints = await store.audit.checkpoints();
    expect(checkpoints.map((c) => [c.n, c.seq, c.reason])).toEqual([[1, 10, 'count'], [2, 21, 'count'], [3, 27, 'close']]);
    expect(checkpoints[2].hash).toBe(records[24].hash);
    const copies = await store.audit.query({ type: 'checkpoint', order: 'asc' });
    expect(copies.map((r) => [r.seq, (r.data.checkpoint as { n: number }).n])).toEqual([[11, 1], [22, 2]]);
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
    expect(result).toEqual({ ok: true, records: 27, checkpoints: 3, problems: [] });
    await store.close();
  });

  it('commits concurrent records together (in batches of at most maxBatch), each resolving with its own record', async () => {
    const dataDir = tempDataDir();
    const recorder = await AuditRecorder.open({ dataDir, checkpointEvery: 0, maxBatch: 7 });
    const records = await Promise.all(Array.from({ length: 200 }, (_, i) => recorder.record(decisionEntry(i))));
    expect(records.map((r) => r.decisionId)).toEqual(Array.from({ length: 200 }, (_, i) => `dec_${i}`));
    expect(new Set(records.map((r) => r.seq)).size).toBe(200);
    await recorder.close();
    const store = await openStore({ dataDir });
    expect((await verifyAudit(store, { publicKey: loadPublicKey(dataDir) })).ok).toBe(true);
    expect(await store.audit.count()).toBe(200);
    await store.close();
  });

  it('groupCommit: "turn" waits for the event loop turn; "microtask" commits as soon as the caller yields, still batching', async () => {
    for (const groupCommit of ['turn', 'microtask'] as const) {
      const recorder = await AuditRecorder.open({ dataDir: tempDataDir(), groupCommit });
      const transactions: number[] = [];
      const append = recorder.store.audit.append.bind(recorder.store.audit);
      recorder.store.audit.append = (entries, alongside) => (transactions.push(entries.length), append(entries, alongside));
      let turnEnded = false;
      setImmediate(() => (turnEnded = true));
      const records = await Promise.all([recorder.record(decisionEntry(1)), recorder.record(decisionEntry(2)), recorder.record(decisionEntry(3))]);
      expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(transactions).toEqual([3]);
      expect(turnEnded).toBe(groupCommit === 'turn');
      await recorder.close();
    }
  });

  it('a ledger row given with entries is written in their transaction; one that fails is a warning, not a failure', async () => {
    const recorder = await AuditRecorder.open({ dataDir: tempDataDir() });
    const ledger = (decisionId: string) => ({
      time: '2026-01-01T00:00:00.000Z', decisionId, scope: { agent: 'a', project: null, user: null, session: null }, provider: 'openai', model: 'gpt-4o-mini',
      tokens: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }, costNano: 10, estimated: false, priced: 'unpriced' as const,
    });
    await recorder.append([decisionEntry(1)], { ledger: ledger('dec_1') });
    expect(await recorder.store.cost.ledger({})).toHaveLength(1);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const [record] = await recorder.append([decisionEntry(2)], { ledger: { ...ledger('dec_2'), costNano: -5 } });
      expect(record.seq).toBe(2);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([expect.stringContaining('could not record the cost of dec_2')]);
    expect(await recorder.store.cost.ledger({})).toHaveLength(1);
    expect(await recorder.store.audit.count()).toBe(2);
    await recorder.close();
  });

  it('fails only the caller whose entry is invalid when records share a transaction', async () => {
    const recorder = await AuditRecorder.open({ dataDir: tempDataDir() });
    const results = await Promise.allSettled([
      recorder.record(decisionEntry(1)),
      recorder.record({ ...decisionEntry(2), time: 'yesterday' }),
      recorder.record(decisionEntry(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_ENTRY_INVALID' });
    expect(await recorder.store.audit.count()).toBe(2);
    await recorder.close();
  });

  it('signs a checkpoint after the interval when records stop coming', async () => {
    const recorder = await AuditRecorder.open({ dataDir: tempDataDir(), checkpointEvery: 1000, checkpointIntervalMs: 50 });
    await recorder.record(decisionEntry(1));
    await recorder.record(decisionEntry(2));
    expect(await recorder.store.audit.checkpoints()).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await recorder.store.audit.checkpoints()).map((c) => c.seq)).toEqual([2]);
    expect(recorder.latestCheckpoint?.seq).toBe(2);
    await recorder.close(); // nothing new since: no second checkpoint
    const store = await openStore({ dataDir: dirname(recorder.store.location) });
    expect((await store.audit.checkpoints()).length).toBe(1);
    await store.close();
  });

  it('commits queued records before closing, and refuses records after', async () => {
    const dataDir = tempDataDir();
    const recorder = await AuditRecorder.open({ dataDir });
    const pending = recorder.record(decisionEntry(1));
    await recorder.close();
    await expect(pending).resolves.toMatchObject({ seq: 1 });
    await expect(recorder.record(decisionEntry(2))).rejects.toMatchObject({ code: 'AUDIT_RECORDER_CLOSED' });
    const store = await openStore({ dataDir });
    expect((await store.audit.checkpoints()).map((c) => c.seq)).toEqual([1]);
    await store.close();
  });

  it('checkpoint() signs the current head, including records of other writers', async () => {
    const dataDir = tempDataDir();
    const recorder = await AuditRecorder.open({ dataDir });
    await recorder.record(decisionEntry(1));
    const other = await openStore({ dataDir });
    await other.audit.append([decisionEntry(2)]);
    const cp = await recorder.checkpoint();
    expect(cp.seq).toBe(2);
    expect(cp.hash).toBe((await other.audit.head())?.hash);
    await other.close();
    await recorder.close();
  });
});

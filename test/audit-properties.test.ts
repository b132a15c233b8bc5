import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/core/canonical-json.js';
import { canonicalRecordText, columnsAligned, encodeEntry, GENESIS_HASH, hashRecord, type RecordColumns } from '../src/core/audit/chain.js';
import { signCheckpoint } from '../src/core/audit/checkpoint.js';
import { loadOrCreateSigningKeys, loadPublicKey, type SigningKeys } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import type { AuditEntry, AuditRecord, VerifyResult } from '../src/core/audit/types.js';
import { verifyAudit, type ExternalCheckpoint } from '../src/core/audit/verify.js';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import type { HashedAuditRow, StoredAuditRow } from '../src/core/store/store.js';
import { decisionEntry, rawDb, tempDataDir } from './helpers/audit-log.js';

/**
 * Tamper-evidence properties. One pristine log (40 entries, a signed checkpoint every 10, each copied into the chain by
 * the next append, so N = 43 records) is built once; every run
 * copies it, tampers with the copy through a direct SQL connection, as anyone with write access to the file could,
 * and checks that verifyAudit names the first bad record and what is wrong, once.
 */

const ENTRIES = 40;
/** Records in the pristine log: the entries and the chain's copies of the checkpoints signed between them. */
let N = 0;
const RUNS = Number(process.env.AUDIT_PROPERTY_RUNS ?? 60);
let pristineDir: string;
let keys: SigningKeys;
let records: AuditRecord[];
let copies = 0;

beforeAll(async () => {
  pristineDir = tempDataDir('ag-props-');
  const recorder = await AuditRecorder.open({ dataDir: pristineDir, checkpointEvery: 10 });
  for (let i = 1; i <= ENTRIES; i++) await recorder.record(decisionEntry(i));
  records = await recorder.store.audit.query({ order: 'asc' });
  N = records.length;
  await recorder.close(); // closing the last connection folds the WAL into the main file, so one file is the whole log
  keys = loadOrCreateSigningKeys(pristineDir);
});

afterAll(() => undefined);

/** A fresh copy of the pristine log (database and keys). */
function copyLog(): string {
  const dir = join(dirname(pristineDir), `copy-${copies++}`);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  copyFileSync(databasePath({ dataDir: pristineDir }), databasePath({ dataDir: dir }));
  return dir;
}

async function verify(dir: string, external?: ExternalCheckpoint): Promise<VerifyResult> {
  const store = await openStore({ dataDir: dir, create: false });
  try {
    return await verifyAudit(store, { publicKey: loadPublicKey(pristineDir), externalCheckpoint: external });
  } finally {
    await store.close();
  }
}

type Row = Record<string, unknown>;
const COLUMNS = ['time', 'type', 'agent_id', 'decision_id', 'effect', 'rules', 'data', 'prev_hash', 'hash'] as const;
const NOT_NULL = new Set(['time', 'type', 'rules', 'data', 'prev_hash', 'hash']);

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

function flipHexDigit(hex: string, at: number): string {
  const i = at % hex.length;
  return hex.slice(0, i) + (hex[i] === '0' ? '1' : '0') + hex.slice(i + 1);
}

/** Plausible edits someone would make (a different effect, a shifted time, re-spaced JSON), plus arbitrary values. */
function newValue(column: (typeof COLUMNS)[number], original: Row, pick: number, arbitrary: unknown): unknown {
  const value = original[column] as string | null;
  const json = () => JSON.parse(value as string) as Record<string, unknown>;
  const choices: Record<string, () => unknown[]> = {
    time: () => [new Date(Date.parse(value as string) + 1).toISOString(), '2030-01-01T00:00:00.000Z'],
    type: () => [value === 'decision' ? 'outcome' : 'decision'],
    agent_id: () => [`${value}x`, null, 'agent-0'],
    decision_id: () => [`${value}0`, null, 'dec_1'],
    effect: () => ['allow', 'deny', 'transform', 'require_approval', null],
    rules: () => ['[]', JSON.stringify(json(), null, 1), canonicalJson([...(json() as unknown as string[]), 'extra'])],
    data: () => [JSON.stringify(json(), null, 2), canonicalJson({ ...json(), effect: 'allow' }), canonicalJson({ ...json(), injected: true })],
    prev_hash: () => [flipHexDigit(value as string, pick), (value as string).toUpperCase(), records[pick % N].hash],
    hash: () => [flipHexDigit(value as string, pick), (value as string).toUpperCase(), records[pick % N].hash],
  };
  const list = [...choices[column](), arbitrary];
  return list[pick % list.length];
}

const arbitraryValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);

describe('verifyAudit detects tampering', () => {
  it('leaves the pristine log intact', async () => {
    const result = await verify(copyLog());
    expect(N).toBe(43);
    expect(records.filter((r) => r.type === 'checkpoint').map((r) => r.seq)).toEqual([11, 22, 33]);
    expect(result).toEqual({ ok: true, records: N, checkpoints: 4, problems: [] });
  });

  it('any single change to any column of any record: changed, at that record, reported once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.constantFrom(...COLUMNS), fc.nat(), arbitraryValue, async (seq, column, pick, arbitrary) => {
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        const before = db.prepare(`SELECT ${column} AS v FROM audit_records WHERE seq = ?`).get(seq) as { v: unknown };
        const value = newValue(column, db.prepare('SELECT * FROM audit_records WHERE seq = ?').get(seq) as Row, pick, arbitrary);
        if (value === null && NOT_NULL.has(column)) {
          db.close();
          fc.pre(false);
        }
        db.prepare(`UPDATE audit_records SET ${column} = ? WHERE seq = ?`).run(value, seq);
        const after = db.prepare(`SELECT ${column} AS v FROM audit_records WHERE seq = ?`).get(seq) as { v: unknown };
        db.close();
        fc.pre(!sameValue(before.v, after.v));
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect(result.problems).toHaveLength(1);
        expect(result.problems[0]).toMatchObject({ seq, kind: 'changed' });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('a change whose record hash is recomputed (but not the rest of the chain): changed, at that record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N - 1 }), fc.constantFrom('allow', 'deny', 'transform'), async (seq, effect) => {
        const original = records[seq - 1];
        fc.pre(original.effect !== effect);
        const dir = copyLog();
        const forged = { ...original, effect } as AuditRecord;
        const { hash: _old, ...unhashed } = forged;
        const db = rawDb(databasePath({ dataDir: dir }));
        db.prepare('UPDATE audit_records SET effect = ?, hash = ? WHERE seq = ?').run(effect, hashRecord(original.prevHash, unhashed), seq);
        db.close();
        const result = await verify(dir);
        expect(result.problems).toHaveLength(1);
        expect(result.problems[0]).toMatchObject({ seq, kind: 'changed' });
      }),
      { numRuns: RUNS },
    );
  });

  it('changing a seq column (moving a record): detected at that record or where it was moved', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.oneof(fc.integer({ min: -5, max: 0 }), fc.integer({ min: N + 1, max: N + 10 })), async (seq, to) => {
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(to, seq);
        db.close();
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect([seq, to]).toContain(result.problems[0].seq);
        expect(result.problems).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('deleting a record: missing at its seq (truncated if it was the last, covered by a stored checkpoint)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.boolean(), async (seq, renumber) => {
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        db.prepare('DELETE FROM audit_records WHERE seq = ?').run(seq);
        // Hide the gap: renumber the later records down by one.
        if (renumber) for (let s = seq + 1; s <= N; s++) db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(s - 1, s);
        db.close();
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect(result.problems[0]).toMatchObject({ seq, kind: seq === N ? 'truncated' : 'missing' });
        expect(result.problems).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('inserting a forged record with a valid hash: inserted, at its seq', async () => {
    // where: 'end' appends a record linking into the middle; 'middle' renumbers later records up to make room;
    // 'before' puts it before seq 1.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('end', 'middle', 'before'), fc.integer({ min: 1, max: N - 1 }), fc.integer({ min: -3, max: 0 }), async (where, at, before) => {
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        const seq = where === 'end' ? N + 1 : where === 'middle' ? at : before;
        const prevHash = where === 'end' ? records[at - 1].hash : where === 'middle' ? (at === 1 ? GENESIS_HASH : records[at - 2].hash) : GENESIS_HASH;
        if (where === 'middle') {
          db.prepare('UPDATE audit_records SET seq = -seq WHERE seq >= ?').run(at);
          db.prepare('UPDATE audit_records SET seq = 1 - seq WHERE seq < 0').run();
        }
        insertForged(db, seq, prevHash);
        db.close();
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect(result.problems[0]).toMatchObject({ seq, kind: 'inserted' });
        expect(result.problems).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('swapping two records: reordered, at the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.integer({ min: 1, max: N }), async (i, j) => {
        fc.pre(i !== j);
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        db.prepare('UPDATE audit_records SET seq = -1 WHERE seq = ?').run(i);
        db.prepare('UPDATE audit_records SET seq = ? WHERE seq = ?').run(i, j);
        db.prepare('UPDATE audit_records SET seq = ? WHERE seq = -1').run(j);
        db.close();
        const result = await verify(dir);
        expect(result.ok).toBe(false);
        expect(result.problems[0]).toMatchObject({ seq: Math.min(i, j), kind: 'reordered' });
        expect(result.problems).toHaveLength(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncating the log and removing the stored checkpoints: truncated, against a checkpoint kept elsewhere', async () => {
    const external: ExternalCheckpoint = { checkpoint: signCheckpoint({ seq: N, hash: records[N - 1].hash }, keys), key: keys, path: 'kept-elsewhere.json' };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.integer({ min: 0, max: 5 }), async (removed, appendedAfter) => {
        const dir = copyLog();
        const db = rawDb(databasePath({ dataDir: dir }));
        db.prepare('DELETE FROM audit_records WHERE seq > ?').run(N - removed);
        db.prepare('DELETE FROM audit_checkpoints').run();
        db.close();
        // Optionally keep writing after the rollback, so the log is long again but different.
        const extra = removed + appendedAfter > N ? appendedAfter : 0;
        if (extra > 0) {
          const store = await openStore({ dataDir: dir });
          await store.audit.append(Array.from({ length: removed + extra }, (_, i) => decisionEntry(1000 + i)));
          await store.close();
        }
        // The chain's copies of the deleted checkpoints, or the age of the records no checkpoint covers, give it away;
        // only an emptied log looks like a new one without the checkpoint kept next to the key (not copied here).
        expect((await verify(dir)).ok).toBe(removed === N && extra === 0);
        const result = await verify(dir, external);
        expect(result.ok).toBe(false);
        expect(result.problems.filter((p) => p.kind === 'truncated')).toEqual([
          expect.objectContaining(extra > 0 ? { seq: N, kind: 'truncated' } : { seq: N - removed + 1, kind: 'truncated' }),
        ]);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('verifyAudit: column boundaries', () => {
  it('detects text moved between data and the columns after it, which keeps the hash valid', async () => {
    const dir = tempDataDir();
    const store = await openStore({ dataDir: dir });
    const [first] = await store.audit.append([decisionEntry(1)]);
    // A record whose data happens to contain the shape of the columns after it (an agent could put this in its input).
    const data = { z: { a: 1, decisionId: 'dec_fake', effect: 'allow', prevHash: first.hash, rules: ['x'] } };
    const entry: AuditEntry = { ...decisionEntry(2), decisionId: 'dec_2', effect: 'deny', rules: ['no-drop'], data };
    const [second] = await store.audit.append([entry]);
    await store.close();

    const encoded = encodeEntry(entry);
    const text = canonicalRecordText({ ...encoded, seq: 2, prevHash: first.hash });
    const cut = encoded.data.indexOf(',"decisionId":');
    const shiftedData = encoded.data.slice(0, cut);
    const shiftedRules = `${encoded.data.slice(encoded.data.indexOf('["x"]'))},"decisionId":"dec_2","effect":"deny","prevHash":"${first.hash}","rules":${encoded.rules}`;
    const shifted = { ...encoded, data: shiftedData, decisionId: 'dec_fake', effect: 'allow', rules: shiftedRules, seq: 2, prevHash: first.hash };
    // The attack is real: the concatenation (and so the hash) is unchanged while effect says allow.
    expect(canonicalRecordText(shifted)).toBe(text);

    const db = rawDb(databasePath({ dataDir: dir }));
    db.prepare('UPDATE audit_records SET data = ?, decision_id = ?, effect = ?, rules = ? WHERE seq = 2').run(shiftedData, 'dec_fake', 'allow', shiftedRules);
    db.close();
    const verifying = await openStore({ dataDir: dir });
    const result = await verifyAudit(verifying, { publicKey: null });
    await verifying.close();
    expect(result.problems).toEqual([{ seq: 2, kind: 'changed', message: expect.stringMatching(/text was moved between its data column/) }]);
    expect(second.seq).toBe(2);
  });
});

describe('verifyAudit: rewritten history, noise and read errors', () => {
  /** Rewrites record `from` and recomputes every later hash, as an attacker who knows the format would. */
  function rewriteFrom(dir: string, from: number): void {
    const db = rawDb(databasePath({ dataDir: dir }));
    let prevHash = from === 1 ? GENESIS_HASH : records[from - 2].hash;
    for (let seq = from; seq <= N; seq++) {
      const original = records[seq - 1];
      const { hash: _h, ...rest } = original;
      const forged = { ...rest, prevHash, effect: seq === from ? ('allow' as const) : original.effect };
      const hash = hashRecord(prevHash, forged);
      db.prepare('UPDATE audit_records SET effect = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(forged.effect, prevHash, hash, seq);
      prevHash = hash;
    }
    db.close();
  }

  it('a rewritten tail with recomputed hashes is caught by the first stored checkpoint after it', async () => {
    const dir = copyLog();
    rewriteFrom(dir, 14); // seq 14 is a deny (13 is already an allow)
    const result = await verify(dir);
    expect(result.problems).toEqual([{ seq: 21, kind: 'changed', message: expect.stringMatching(/does not match the checkpoint signed at .*: records up to 21 were rewritten/) }]);
  });

  it('a rewritten tail with re-signed checkpoints is caught by a checkpoint kept elsewhere', async () => {
    const external: ExternalCheckpoint = { checkpoint: signCheckpoint({ seq: 30, hash: records[29].hash }, keys), key: keys, path: 'kept.json' };
    const dir = copyLog();
    rewriteFrom(dir, 25);
    const store = await openStore({ dataDir: dir });
    const db = rawDb(databasePath({ dataDir: dir }));
    db.prepare('DELETE FROM audit_checkpoints').run();
    db.close();
    await store.audit.addCheckpoint(signCheckpoint((await store.audit.head())!, keys)); // the attacker has the key file too
    await store.close();
    expect((await verify(dir, external)).problems).toContainEqual(
      { seq: 30, kind: 'truncated', message: expect.stringMatching(/record 30 differs from the checkpoint file kept.json .*rolled back/) },
    );
  });

  it('lists at most maxProblems problems and counts the rest', async () => {
    const dir = copyLog();
    const db = rawDb(databasePath({ dataDir: dir }));
    db.prepare("UPDATE audit_records SET agent_id = 'someone-else'").run();
    db.close();
    const store = await openStore({ dataDir: dir });
    const result = await verifyAudit(store, { publicKey: keys, maxProblems: 5 });
    await store.close();
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(result.omittedProblems).toBe(N - 5);
  });

  it.each(['rows', 'hashedRows'] as const)('reports a log that cannot be read to the end as unreadable after the last good seq (%s)', async (reader) => {
    const store = await openStore({ dataDir: copyLog() });
    const failing = Object.create(store.audit) as typeof store.audit;
    /** The first page of 8 rows, then a read error. */
    async function* failAfterFirstPage<T>(pages: AsyncIterable<T>): AsyncIterable<T> {
      let first = true;
      for await (const page of pages) {
        if (!first) throw new Error('database disk image is malformed');
        first = false;
        yield page;
      }
    }
    if (reader === 'rows') {
      failing.hashedRows = undefined; // verification then reads with rows() only
      failing.rows = () => failAfterFirstPage(store.audit.rows({ pageSize: 8 }));
    } else {
      failing.hashedRows = () => failAfterFirstPage(store.audit.hashedRows({ pageSize: 8 })!);
    }
    const result = await verifyAudit(failing, { publicKey: keys });
    await store.close();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ seq: 9, kind: 'unreadable', message: 'the log cannot be read after seq 8: database disk image is malformed' }]);
  });

  it('reports a data column holding bytes that are not UTF-8, or a blob, as changed, with or without a recomputed hash', async () => {
    const original = records[4];
    const text = canonicalJson(original.data);
    const broken = Buffer.concat([Buffer.from(text.slice(0, -2)), Buffer.from([0xff, 0xe2, 0x82]), Buffer.from(text.slice(-2))]);
    for (const [value, asText, rehash] of [
      [broken, true, false],
      [broken, true, true],
      [Buffer.from(text), false, false],
      [Buffer.from(text), false, true],
    ] as const) {
      const dir = copyLog();
      const db = rawDb(databasePath({ dataDir: dir }));
      db.prepare(`UPDATE audit_records SET data = ${asText ? 'CAST(? AS TEXT)' : '?'} WHERE seq = 5`).run(value);
      if (rehash) {
        // The hash over the stored bytes, as someone would recompute it to hide the change.
        const rest = canonicalRecordText({ ...original, rules: canonicalJson(original.rules), data: '\u0000' }).split('\u0000');
        const bytes = Buffer.concat([Buffer.from(original.prevHash, 'hex'), Buffer.from(rest[0]), value, Buffer.from(rest[1])]);
        db.prepare('UPDATE audit_records SET hash = ? WHERE seq = 5').run(createHash('sha256').update(bytes).digest('hex'));
      }
      expect(db.prepare('SELECT typeof(data) AS t FROM audit_records WHERE seq = 5').get()).toEqual({ t: asText ? 'text' : 'blob' });
      db.close();
      const result = await verify(dir);
      expect(result.ok).toBe(false);
      expect(result.problems[0]).toMatchObject({ seq: 5, kind: 'changed' });
      if (!asText) expect(result.problems[0].message).toContain('data column holds a blob');
    }
  });
});

describe('canonical record text', () => {
  it('assembled from columns equals canonicalJson of the record, for any record', () => {
    const json: fc.Arbitrary<unknown> = fc.jsonValue();
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: 2 ** 40 }),
          type: fc.constantFrom('decision', 'outcome'),
          time: fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true }).map((d) => d.toISOString()),
          agentId: fc.option(fc.string({ unit: 'binary' })),
          decisionId: fc.option(fc.string({ unit: 'binary' })),
          effect: fc.constantFrom('allow', 'deny', 'transform', 'require_approval', null),
          rules: fc.array(fc.string({ unit: 'binary' })),
          data: fc.dictionary(fc.string({ unit: 'binary' }), json),
          prevHash: fc.stringMatching(/^[0-9a-f]{64}$/),
        }),
        (record) => {
          const entry = record as unknown as AuditEntry;
          const encoded = encodeEntry(entry);
          const normalised = { ...record, agentId: encoded.agentId, decisionId: encoded.decisionId };
          expect(canonicalRecordText({ ...encoded, seq: record.seq, prevHash: record.prevHash })).toBe(canonicalJson(normalised));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any stored record, with any text in its columns, verifies after a round trip through the database', async () => {
    const dir = tempDataDir();
    const store = await openStore({ dataDir: dir });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          agentId: fc.option(fc.string({ unit: 'binary' })),
          decisionId: fc.option(fc.string({ unit: 'binary' })),
          rules: fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }),
          data: fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 3 })),
        }),
        async (fields) => {
          await store.audit.append([{ ...decisionEntry(1), ...fields, data: fields.data as Record<string, unknown> }]);
        },
      ),
      { numRuns: 150 },
    );
    expect(await verifyAudit(store, { publicKey: null })).toMatchObject({ ok: true, records: 150 });
    await store.close();
  });
});

describe('the record text SQLite builds for verification (hashedRows)', () => {
  it('is canonicalRecordText of the columns as rows() reads them, or null, for any values in the columns', async () => {
    const dir = copyLog();
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\n', '\u001f', '\u007f', 'a', '\u00e9', '\ufffd', '\u2028', '\u{1f600}') }),
      fc.constant(',"decisionId":'),
    );
    const value = fc.oneof(
      text,
      fc.uint8Array({ maxLength: 12 }).map((a) => ({ bytes: Buffer.from(a), asText: true })), // often not UTF-8
      fc.uint8Array({ maxLength: 12 }).map((a) => ({ bytes: Buffer.from(a), asText: false })),
      fc.integer(),
      fc.constant(null),
    );
    const db = rawDb(databasePath({ dataDir: dir }));
    const original = db.prepare('SELECT * FROM audit_records WHERE seq = 3').get() as Row;
    let seq = N;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...COLUMNS), value), (changes) => {
        const sets = COLUMNS.map((c) => {
          let v = c in changes ? changes[c] : original[c];
          if (v === null && NOT_NULL.has(c)) v = original[c];
          return v !== null && typeof v === 'object' && 'bytes' in v ? { sql: v.asText ? 'CAST(? AS TEXT)' : '?', value: v.bytes } : { sql: '?', value: v };
        });
        db.prepare(`INSERT INTO audit_records (seq, ${COLUMNS.join(', ')}) VALUES (?, ${sets.map((x) => x.sql).join(', ')})`).run(++seq, ...sets.map((x) => x.value));
      }),
      { numRuns: 400 },
    );
    db.close();
    const store = await openStore({ dataDir: dir, create: false });
    const rows: StoredAuditRow[] = [];
    for await (const page of store.audit.rows({ pageSize: 100 })) rows.push(...page);
    const hashed: HashedAuditRow[] = [];
    for await (const page of store.audit.hashedRows({ pageSize: 100 })!) hashed.push(...page);
    await store.close();
    expect(hashed.map((h) => h[0])).toEqual(rows.map((r) => r.seq));
    let built = 0;
    rows.forEach((row, i) => {
      const [, prevHash, hash, builtText] = hashed[i];
      expect([prevHash, hash]).toEqual([row.prevHash, row.hash]);
      const textColumns = ['time', 'type', 'rules', 'data', 'prevHash'] as const;
      const typed =
        textColumns.every((c) => typeof row[c] === 'string') && (['agentId', 'decisionId', 'effect'] as const).every((c) => row[c] === null || typeof row[c] === 'string');
      if (builtText === null) {
        if (typed) expect(columnsAligned(row.rules as string)).toBe(false);
        return;
      }
      built++;
      expect(typed).toBe(true);
      expect(builtText).toBe(canonicalRecordText(row as unknown as RecordColumns));
    });
    expect(built).toBeGreaterThan(N + 50); // the pristine records, and many of the odd ones
  });
});

function insertForged(db: import('better-sqlite3').Database, seq: number, prevHash: string): void {
  const entry = decisionEntry(999, { effect: 'allow', agentId: 'intruder' });
  const e = encodeEntry(entry);
  const hash = hashRecord(prevHash, { ...entry, seq, prevHash });
  db.prepare('INSERT INTO audit_records (seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    seq, e.time, e.type, e.agentId, e.decisionId, e.effect, e.rules, e.data, prevHash, hash,
  );
}

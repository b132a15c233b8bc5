/**
 * Bench section: the audit trail. Recorded decisions per second through the real pipeline (decide() → masked,
 * hash-chained record committed in SQLite), awaited one at a time and with many in flight (the recorder commits
 * everything queued in one event-loop turn as one transaction); and verification throughput over the same log.
 * The peer is plain better-sqlite3 writing the same JSON without masking, canonical JSON or hashing, in the same
 * process and database settings, so the ratio is the price of the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Policy } from '../dist/sdk/index.js';
import { decide } from '../dist/core/pipeline.js';
import { AuditRecorder } from '../dist/core/audit/recorder.js';
import { verifyAudit } from '../dist/core/audit/verify.js';
import { loadPublicKey } from '../dist/core/audit/keys.js';
import { openStore } from '../dist/core/store/open-store.js';
import { formatRatio, markdownTable } from './lib/report.js';

export const id = 'audit';
export const title = 'Audit trail: recorded decisions and verification';

const TARGETS = { recordedPerSecond: 20_000, verifiedPerSecond: 200_000 };

const policy = Policy.parse({
  version: 1,
  name: 'bench-audit',
  rules: [
    { id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } },
    { id: 'no-drop', effect: 'deny', when: { name: 'db.query', 'input.sql': { regex: '^\\s*drop\\b', flags: 'i' } } },
    { id: 'sql', effect: 'allow', when: { name: 'db.query' } },
  ],
});

const actionFor = (i) =>
  i % 3 === 0
    ? { kind: 'tool', name: 'kb.search', agent: { id: 'bench' }, input: { query: `refund window ${i}`, limit: 10 } }
    : { kind: 'tool', name: 'db.query', agent: { id: 'bench' }, input: { sql: i % 3 === 1 ? `SELECT * FROM orders WHERE id = ${i}` : 'DROP TABLE orders', token: 'sk-proj-abcdefghijklmnop1234' } };

async function recordSequential(dataDir, n) {
  const recorder = await AuditRecorder.open({ dataDir });
  const ctx = { policy, audit: recorder };
  for (let i = 0; i < 200; i++) await decide(ctx, actionFor(i));
  const start = performance.now();
  for (let i = 0; i < n; i++) await decide(ctx, actionFor(i));
  const seconds = (performance.now() - start) / 1000;
  await recorder.close();
  return n / seconds;
}

async function recordConcurrent(dataDir, n, inFlight) {
  const recorder = await AuditRecorder.open({ dataDir });
  const ctx = { policy, audit: recorder };
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await decide(ctx, actionFor(next++));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await recorder.close();
  return n / seconds;
}

function plainSqlite(dataDir, n) {
  const db = new Database(join(dataDir, 'plain.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, time TEXT, agent_id TEXT, effect TEXT, data TEXT)');
  const insert = db.prepare('INSERT INTO log (time, agent_id, effect, data) VALUES (?, ?, ?, ?)');
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const decision = policy.evaluate(actionFor(i));
    insert.run(new Date().toISOString(), 'bench', decision.effect, JSON.stringify(decision));
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return n / seconds;
}

async function verifyRate(dataDir) {
  const store = await openStore({ dataDir, create: false });
  try {
    const start = performance.now();
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
    const seconds = (performance.now() - start) / 1000;
    if (!result.ok) throw new Error(`the bench log did not verify: ${JSON.stringify(result.problems[0])}`);
    return { records: result.records, perSecond: result.records / seconds };
  } finally {
    await store.close();
  }
}

const perSecond = (x) => `${Math.round(x).toLocaleString('en-US')}/s`;

export async function run({ log }) {
  const failures = [];
  const dir = mkdtempSync(join(tmpdir(), 'agentguard-bench-audit-'));
  try {
    const n = 30_000;
    log(`  ${n} decisions awaited one at a time…`);
    const sequential = await recordSequential(join(dir, 'seq'), n);
    log(`  ${n} decisions, 64 in flight…`);
    const concurrent = await recordConcurrent(join(dir, 'conc'), n * 3, 64);
    log('  plain SQLite inserts of the same decisions…');
    const plain = plainSqlite(dir, n);
    log('  verifying…');
    const verified = await verifyRate(join(dir, 'conc'));
    const rows = [
      ['decide() + record, awaited one at a time (one transaction each)', perSecond(sequential), formatRatio(plain / sequential)],
      ['decide() + record, 64 in flight (group commit)', perSecond(concurrent), formatRatio(plain / concurrent)],
      ['peer: plain better-sqlite3 insert of the JSON, no chain', perSecond(plain), '1×'],
      [`audit verify (${verified.records.toLocaleString('en-US')} records)`, perSecond(verified.perSecond), ''],
    ];
    const notes = [];
    const best = Math.max(sequential, concurrent);
    notes.push(`Target ≥ ${TARGETS.recordedPerSecond.toLocaleString('en-US')} recorded decisions/s: ${best >= TARGETS.recordedPerSecond ? 'met' : 'NOT met'} (best ${perSecond(best)}).`);
    notes.push(`Target verify ≥ ${TARGETS.verifiedPerSecond.toLocaleString('en-US')} records/s: ${verified.perSecond >= TARGETS.verifiedPerSecond ? 'met' : 'NOT met'}.`);
    for (const note of notes) log(`  ${note}`);
    const markdown = `${markdownTable(['what', 'throughput', 'plain insert ÷ this'], rows, ['l', 'r', 'r'])}\n\n${notes.join(' ')}`;
    return { markdown, failures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

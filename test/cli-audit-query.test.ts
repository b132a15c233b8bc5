import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action, Decision, Effect } from '../src/core/action.js';
import { hashRecord } from '../src/core/audit/chain.js';
import type { AuditEntry, AuditRecord } from '../src/core/audit/types.js';
import { decisionEntry } from '../src/core/pipeline.js';
import { openStore } from '../src/core/store/open-store.js';
import { BIN } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

const HOUR = 3_600_000;
const NOW = Date.now();

/** The --json contract of `audit query`: an array of stored records; a renamed or extra field fails here. */
const recordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'time', 'type', 'agentId', 'decisionId', 'effect', 'rules', 'data', 'prevHash', 'hash'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    time: { type: 'string' },
    type: { enum: ['decision', 'outcome', 'alert', 'approval'] },
    agentId: { type: ['string', 'null'] },
    decisionId: { type: ['string', 'null'] },
    effect: { enum: ['allow', 'deny', 'transform', 'require_approval', null] },
    rules: { type: 'array', items: { type: 'string' } },
    data: { type: 'object' },
    prevHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
};
const validateRecords = new Ajv({ allErrors: true }).compile({ type: 'array', items: recordSchema });

let seq = 0;
function decision(effect: Effect, action: Action, rules: string[]): Decision {
  seq++;
  return {
    id: `dec_${String(seq).padStart(4, '0')}`,
    effect,
    action,
    reasons: rules.map((rule) => ({ rule, effect, message: `${rule} says ${effect}` })),
    findings: [],
    policy: { name: 'support-bot', hash: `sha256:${'c'.repeat(64)}` },
    elapsedUs: 5,
  };
}

/** Six records spread over the last five hours, made the way the pipeline makes them. */
function sampleEntries(): AuditEntry[] {
  const at = (hoursAgo: number) => new Date(NOW - hoursAgo * HOUR);
  const kb = decision('allow', { agent: { id: 'support-bot' }, kind: 'tool', name: 'kb.search', input: { q: 'refunds', api_key: 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123' } }, ['kb-read']);
  return [
    decisionEntry(kb, at(5)),
    { type: 'outcome', time: at(4.99).toISOString(), agentId: 'support-bot', decisionId: kb.id, effect: null, rules: [], data: { name: 'kb.search', status: 'ok', durationMs: 7 } },
    decisionEntry(decision('deny', { agent: { id: 'support-bot' }, kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } }, ['no-destructive-sql']), at(3)),
    decisionEntry(decision('transform', { agent: { id: 'ops-bot' }, kind: 'tool', name: 'db.connect', input: { readOnly: true } }, ['readonly-db']), at(2)),
    decisionEntry(decision('deny', { agent: { id: 'ops-bot' }, kind: 'shell', name: 'shell.exec', input: { cmd: 'rm -rf /' } }, ['no-shell', 'no-destructive-sql']), at(1)),
    decisionEntry(decision('require_approval', { agent: { id: 'ops-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount: 5000 } }, ['big-transfer']), at(0.5)),
  ];
}

async function seed(dataDir: string, entries: AuditEntry[]): Promise<AuditRecord[]> {
  const store = await openStore({ dataDir });
  try {
    return await store.audit.append(entries);
  } finally {
    await store.close();
  }
}

async function storedRecords(dataDir: string): Promise<AuditRecord[]> {
  const store = await openStore({ dataDir, create: false });
  try {
    return await store.audit.query({ order: 'asc' });
  } finally {
    await store.close();
  }
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

let dataDir: string;
let stored: AuditRecord[];

beforeAll(async () => {
  dataDir = tempDir('ag-audit-');
  await seed(dataDir, sampleEntries());
  stored = await storedRecords(dataDir);
});

const q = (...args: string[]) => runCliInProcess(['audit', 'query', '--data-dir', dataDir, ...args]);
const seqsOf = (stdout: string) => (JSON.parse(stdout) as AuditRecord[]).map((r) => r.seq);

describe('agentguard audit query', () => {
  it('prints a table of the newest records first', async () => {
    const r = await q();
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+AGENT\s+EFFECT\s+ACTION\s+RULES$/);
    expect(lines).toHaveLength(7);
    expect(lines[1]).toMatch(/^\s*6\s+\S+Z\s+ops-bot\s+require_approval\s+tool payments\.transfer\s+big-transfer$/);
    expect(lines[2]).toMatch(/^\s*5\s+.*ops-bot\s+deny\s+shell shell\.exec\s+no-shell, no-destructive-sql$/);
    expect(lines[5]).toMatch(/^\s*2\s+.*support-bot\s+→ ok\s+kb\.search$/);
    expect(lines[6]).toContain(stored[0].time);
  });

  it('--json prints the stored records, newest first, without the masked secret', async () => {
    const r = await q('--json');
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as AuditRecord[];
    expect(validateRecords(records), JSON.stringify(validateRecords.errors)).toBe(true);
    expect(records).toEqual([...stored].reverse());
    expect(r.stdout).not.toContain('sk-proj-AbCdEf');
    expect(r.stdout).toContain('[MASKED]');
  });

  it.each([
    [['--agent', 'support-bot'], [3, 2, 1]],
    [['--effect', 'deny'], [5, 3]],
    [['--rule', 'no-destructive-sql'], [5, 3]],
    [['--type', 'outcome'], [2]],
    [['--since', '150m'], [6, 5, 4]],
    [['--until', '150m'], [3, 2, 1]],
    [['--since', '4h', '--until', '90m'], [4, 3]],
    [['--agent', 'ops-bot', '--effect', 'deny', '--since', '1d'], [5]],
    [['--limit', '2'], [6, 5]],
    [['--agent', 'nobody'], []],
  ])('filters with %j', async (args, expected) => {
    const r = await q(...args, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(seqsOf(r.stdout)).toEqual(expected);
  });

  it('accepts ISO times for --since and --until', async () => {
    const since = new Date(NOW - 2.5 * HOUR).toISOString();
    expect(seqsOf((await q('--since', since, '--json')).stdout)).toEqual([6, 5, 4]);
    expect(seqsOf((await q('--since', '2000-01-01', '--until', since, '--json')).stdout)).toEqual([3, 2, 1]);
  });

  it('says when more records match than --limit shows, and when none match', async () => {
    expect((await q('--limit', '2')).stderr).toContain('Showing the newest 2 matching records');
    const none = await q('--agent', 'nobody');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('No audit records match.');
  });

  it.each([
    [['--effect', 'maybe'], '--effect "maybe" is not an effect', 'allow, deny, transform, require_approval'],
    [['--since', 'yesterdayish'], '--since "yesterdayish" is neither a date, a time nor a duration', '15m'],
    [['--until', '2025-02-30'], '--until "2025-02-30" is neither a date, a time nor a duration', 'ISO 8601'],
    [['--limit', '-1'], '--limit "-1" is not a whole number of records', '--limit 100'],
    [['--limit', 'lots'], '--limit "lots" is not a whole number of records', '--limit 100'],
    [['--type', 'both'], '--type "both" is not a record type', 'decision, outcome, alert, approval'],
    [['--since', '1h', '--until', '2h'], '--since (', 'inclusive'],
  ])('rejects %j with exit 2 and says what would work', async (args, message, hint) => {
    const r = await q(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Error (USAGE): ${message}`);
    expect(r.stderr).toContain(hint);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const j = await q(...args, '--json');
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'USAGE' });
  });

  it('checks the flags before looking for the database', async () => {
    const r = await runCliInProcess(['audit', 'query', '--data-dir', tempDir('ag-empty-'), '--effect', 'maybe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--effect "maybe"');
  });

  it('exits 2 without a database, saying where it looked and what to do', async () => {
    const empty = tempDir('ag-nodb-');
    for (const cmd of [['query'], ['tail'], ['export', '--format', 'csv']]) {
      const r = await runCliInProcess(['audit', ...cmd, '--data-dir', empty]);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toContain(`Error (STORE_NOT_FOUND): no audit log yet: there is no agentguard database at ${join(empty, 'agentguard.db')}`);
      expect(r.stderr).toContain('agentguard init');
      expect(r.stderr).toContain('--data-dir');
    }
    expect(readdirSync(empty)).toEqual([]);
  });

  it('finds the database through agentguard.config.json', async () => {
    const project = tempDir('ag-proj-');
    writeFileSync(join(project, 'agentguard.config.json'), JSON.stringify({ dataDir: 'var/ag' }));
    await seed(join(project, 'var/ag'), sampleEntries().slice(0, 2));
    mkdirSync(join(project, 'sub'));
    const r = await runCliInProcess(['audit', 'query', '--json'], { cwd: join(project, 'sub') });
    expect(r.code, r.stderr).toBe(0);
    expect(seqsOf(r.stdout)).toEqual([2, 1]);
  });
});

describe('agentguard audit tail', () => {
  const t = (...args: string[]) => runCliInProcess(['audit', 'tail', '--data-dir', dataDir, ...args]);

  it('prints the last N records, oldest first', async () => {
    const r = await t('-n', '2');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\s*SEQ\s+TIME/);
    expect(lines[1]).toMatch(/^\s+5\s.*deny/);
    expect(lines[2]).toMatch(/^\s+6\s.*require_approval/);
    expect((await t()).stdout.trimEnd().split('\n')).toHaveLength(7);
  });

  it('--json prints one stored record per line', async () => {
    const r = await t('-n', '3', '--json', '--agent', 'ops-bot');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines).toEqual(stored.slice(3, 6));
  });

  it('rejects a bad -n', async () => {
    const r = await t('-n', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--lines "0" is not a whole number of records');
  });

  it('says so when the log is empty', async () => {
    const empty = tempDir('ag-tail-empty-');
    await seed(empty, []);
    const r = await runCliInProcess(['audit', 'tail', '--data-dir', empty]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No audit records yet.');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('-f prints new records as they arrive and stops cleanly on %s', async (signal) => {
    const dir = tempDir('ag-follow-');
    await seed(dir, sampleEntries().slice(0, 2));
    const child = spawn(process.execPath, [BIN, 'audit', 'tail', '-f', '--json', '-n', '1', '--data-dir', dir], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += String(c)));
    child.stderr.on('data', (c) => (err += String(c)));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while (lines().length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} lines; got ${JSON.stringify(out)} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(1);
      expect(lines().map((r) => r.seq)).toEqual([2]);
      await seed(dir, sampleEntries().slice(2, 4));
      await waitFor(3);
      await seed(dir, sampleEntries().slice(4, 5));
      await waitFor(4);
      expect(lines().map((r) => r.seq)).toEqual([2, 3, 4, 5]);
      expect(lines()).toEqual((await storedRecords(dir)).slice(1));
    } finally {
      child.kill(signal);
    }
    expect(await exited).toBe(0);
    expect(err).not.toMatch(/Error/);
  });
});

describe('agentguard audit export', () => {
  const x = (...args: string[]) => runCliInProcess(['audit', 'export', '--data-dir', dataDir, ...args]);

  it('jsonl writes every record as stored, oldest first, re-verifiable', async () => {
    const r = await x('--format', 'jsonl');
    expect(r.code).toBe(0);
    const records = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(records).toEqual(stored);
    for (const rec of records) {
      const { hash, ...rest } = rec;
      expect(hashRecord(rec.prevHash, rest)).toBe(hash);
    }
    expect(r.stderr).toContain('Exported 6 records as jsonl to stdout.');
  });

  it('csv has the header and one row per matching record', async () => {
    const r = await x('--format', 'csv', '--effect', 'deny');
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('seq,time,type,agent,decision_id,effect,rules,hash,data');
    expect(rows.slice(1).map((row) => row.split(',')[0])).toEqual(['3', '5']);
  });

  it('cef writes one event per record with the severity of its effect', async () => {
    const r = await x('--format', 'cef', '--type', 'decision');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.split('|')[6])).toEqual(['1', '7', '3', '7', '5']);
    expect(lines[0]).toMatch(/^CEF:0\|agentguard\|agentguard\|0\.1\.0\|decision\.allow\|Action allowed: tool kb\.search\|1\|rt=\d+ /);
  });

  it('ocsf writes API Activity events', async () => {
    const r = await x('--format', 'ocsf', '--since', '90m');
    expect(r.code).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(events.map((e) => [e.class_uid, e.type_uid, e.metadata.sequence, e.metadata.uid])).toEqual([
      [6003, 600399, 5, stored[4].decisionId],
      [6003, 600399, 6, stored[5].decisionId],
    ]);
  });

  it('--limit exports the newest N in log order', async () => {
    const r = await x('--format', 'jsonl', '--limit', '2');
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).seq)).toEqual([5, 6]);
  });

  it('--out writes the file (no partial file left) and --json prints a summary', async () => {
    const dir = tempDir('ag-export-');
    const file = join(dir, 'audit.csv');
    const r = await x('--format', 'csv', '--out', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ format: 'csv', records: 6, file });
    expect(readFileSync(file, 'utf8').split('\r\n').filter(Boolean)).toHaveLength(7);
    expect(readdirSync(dir)).toEqual(['audit.csv']);
    const human = await x('--format', 'cef', '--out', join(dir, 'a.cef'));
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`Exported 6 records as cef to ${join(dir, 'a.cef')}.`);
  });

  it('refuses --json without --out, a bad format and a folder it cannot write to', async () => {
    const noOut = await x('--format', 'csv', '--json');
    expect(noOut.code).toBe(2);
    expect(JSON.parse(noOut.stdout).error.message).toContain('--json needs --out');
    const bad = await x('--format', 'xml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected --format=xml to be one of: jsonl, csv, cef, ocsf');
    const missing = await x('--format', 'csv', '--out', join(tempDir('ag-x-'), 'no/such/dir/a.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Error \(EXPORT_WRITE_FAILED\): cannot write .*a\.csv \(ENOENT\)/);
  });

  it('applies the same filter checks as query', async () => {
    const r = await x('--format', 'csv', '--since', 'yesterdayish');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--since "yesterdayish"');
  });
});

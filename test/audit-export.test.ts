import fc from 'fast-check';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Action, Decision, Effect } from '../src/core/action.js';
import { hashRecord } from '../src/core/audit/chain.js';
import { CefExporter, cefHeader, cefValue } from '../src/core/audit/export/cef.js';
import { CSV_COLUMNS, csvCell } from '../src/core/audit/export/csv.js';
import { createExporter, EXPORT_FORMATS, writeExport, type ExportFormat } from '../src/core/audit/export/index.js';
import { OCSF_VERSION, OcsfExporter } from '../src/core/audit/export/ocsf.js';
import { parseAuditFilters, parseDuration, parseIsoTime, parseTimeBound } from '../src/core/audit/filters.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { AgentGuardError } from '../src/core/errors.js';
import { decisionEntry } from '../src/core/pipeline.js';
import { MemoryAuditStore } from './helpers/memory-audit-store.js';

const VERSION = '9.8.7';
const T0 = new Date('2025-03-01T10:00:00.000Z');

function decision(effect: Effect, action: Action, rules: string[], message = `because ${effect}`): Decision {
  return {
    id: `dec_${Math.random().toString(36).slice(2, 10)}`,
    effect,
    action,
    reasons: rules.length > 0 ? rules.map((rule) => ({ rule, effect, message })) : [{ effect, message, code: 'default' }],
    findings: [],
    policy: { name: 'support-bot', hash: `sha256:${'ab'.repeat(32)}` },
    elapsedUs: 4,
  };
}

/** A small log made the way the pipeline makes it: decisionEntry (which masks) and an outcome entry. */
async function sampleLog(): Promise<{ store: MemoryAuditStore; records: AuditRecord[] }> {
  const store = new MemoryAuditStore();
  const allowed = decision('allow', { agent: { id: 'support-bot' }, kind: 'tool', name: 'kb.search', input: { q: 'refund policy' } }, ['kb-read']);
  await store.append([decisionEntry(allowed, T0)]);
  await store.append([
    { type: 'outcome', time: new Date(T0.getTime() + 5).toISOString(), agentId: 'support-bot', decisionId: allowed.id, effect: null, rules: [], data: { name: 'kb.search', status: 'ok', durationMs: 12.4 } },
  ]);
  await store.append([decisionEntry(decision('deny', { agent: { id: 'support-bot' }, kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } }, ['no-destructive-sql']), new Date(T0.getTime() + 60_000))]);
  await store.append([decisionEntry(decision('transform', { agent: { id: 'ops-bot' }, kind: 'tool', name: 'db.connect', input: { readOnly: true } }, ['readonly-db']), new Date(T0.getTime() + 120_000))]);
  await store.append([
    decisionEntry(
      decision('require_approval', { agent: { id: 'ops-bot' }, kind: 'llm', name: 'chat', input: { model: 'claude-sonnet-4', password: 'hunter2' } }, ['big-transfer']),
      new Date(T0.getTime() + 180_000),
    ),
  ]);
  return { store, records: await store.query({ order: 'asc' }) };
}

/** Collects what an exporter writes. */
async function exportText(format: ExportFormat, records: AuditRecord[]): Promise<string> {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  await writeExport(records, createExporter(format, { productVersion: VERSION }), sink);
  return text;
}

/** An RFC 4180 reader, written independently of the exporter to check it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  if (cell !== '' || row.length > 0) row.push(cell), rows.push(row);
  return rows;
}

/** A CEF reader following the spec, independent of the exporter: header on unescaped `|`, extensions on ` key=`. */
function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let field = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i];
    if (c === '\\' && (line[i + 1] === '\\' || line[i + 1] === '|')) field += line[++i];
    else if (c === '|') header.push(field), (field = '');
    else field += c;
  }
  const rest = line.slice(i);
  const ext: Record<string, string> = {};
  // A key starts the text or follows a space, and its '=' is the first unescaped one.
  const keys = [...rest.matchAll(/(?:^| )([A-Za-z0-9]+)=/g)].filter((m) => {
    let backslashes = 0;
    for (let j = (m.index ?? 0) + m[0].length - 2; j >= 0 && rest[j] === '\\'; j--) backslashes++;
    return backslashes % 2 === 0;
  });
  keys.forEach((m, k) => {
    const start = (m.index ?? 0) + m[0].length;
    const end = k + 1 < keys.length ? keys[k + 1].index ?? rest.length : rest.length;
    ext[m[1]] = rest.slice(start, end).replace(/\\(.)/g, (_s, ch: string) => (ch === 'n' ? '\n' : ch === 'r' ? '\r' : ch));
  });
  return { header, ext };
}

describe('export: jsonl', () => {
  it('writes each record as stored, one per line, and reads back to the same records and hashes', async () => {
    const { records } = await sampleLog();
    const text = await exportText('jsonl', records);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
    const back = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(back).toEqual(records);
    for (const r of back) {
      const { hash, ...unhashed } = r;
      expect(hashRecord(r.prevHash, unhashed)).toBe(hash);
    }
    expect(text).not.toContain('hunter2');
  });
});

describe('export: csv', () => {
  it('has a header row and one row per record with the documented columns', async () => {
    const { records } = await sampleLog();
    const rows = parseCsv(await exportText('csv', records));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(records.length + 1);
    const deny = rows.find((r) => r[5] === 'deny')!;
    expect(deny.slice(0, 8)).toEqual(['3', records[2].time, 'decision', 'support-bot', records[2].decisionId, 'deny', 'no-destructive-sql', records[2].hash]);
    expect(JSON.parse(deny[8])).toEqual(records[2].data);
  });

  it('quotes commas, quotes and line breaks (RFC 4180) and ends rows with CRLF', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });

  it.each(['=HYPERLINK("http://evil")', '+1+1', '-2+3', '@SUM(A1)', '\tTAB', '\rCR'])('defuses the formula in %j', (value) => {
    const cell = parseCsv(`${csvCell(value)}\r\n`)[0][0];
    expect(cell).toBe(`'${value}`);
  });

  it('round-trips any text through a CSV reader (formula cells gain only a leading quote)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), fc.string(), async (agent, rule) => {
        const store = new MemoryAuditStore();
        await store.append([{ type: 'decision', time: T0.toISOString(), agentId: agent, decisionId: 'dec_1', effect: 'allow', rules: [rule], data: { note: agent } }]);
        const rows = parseCsv(await exportText('csv', store.records));
        expect(rows).toHaveLength(2);
        const expected = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
        expect(rows[1][3]).toBe(expected(agent));
        expect(rows[1][6]).toBe(expected(rule));
        expect(JSON.parse(rows[1][8])).toEqual({ note: agent });
      }),
      { numRuns: 200 },
    );
  });
});

describe('export: cef', () => {
  it('writes the header, severity per effect and the documented extension keys', async () => {
    const { records } = await sampleLog();
    const lines = (await exportText('cef', records)).trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
    const events = lines.map(parseCef);
    for (const e of events) expect(e.header.slice(0, 4)).toEqual(['CEF:0', 'agentguard', 'agentguard', VERSION]);
    expect(events.map((e) => e.header[6])).toEqual(['1', '1', '7', '3', '5']);
    const deny = events[2];
    expect(deny.header[4]).toBe('decision.deny');
    expect(deny.header[5]).toBe('Action denied: tool db.query');
    expect(deny.ext).toMatchObject({
      rt: String(Date.parse(records[2].time)),
      suser: 'support-bot',
      act: 'deny',
      cat: 'decision',
      externalId: '3',
      msg: 'because deny',
      cs1Label: 'rules',
      cs1: 'no-destructive-sql',
      cs2Label: 'decisionId',
      cs2: records[2].decisionId,
      cs3Label: 'hash',
      cs3: records[2].hash,
      cs6Label: 'prevHash',
      cs6: records[2].prevHash,
    });
    const outcome = events[1];
    expect(outcome.header[4]).toBe('outcome.ok');
    expect(outcome.ext).toMatchObject({ act: 'ok', outcome: 'success', cn1Label: 'durationMs', cn1: '12', cs2: records[0].decisionId });
  });

  it('escapes \\ and | in the header, and \\, =, \\n and \\r in extension values', () => {
    expect(cefHeader('a|b\\c')).toBe('a\\|b\\\\c');
    expect(cefHeader('two\r\nlines\nhere')).toBe('two lines here');
    expect(cefValue('a=b\\c\nd\re|f')).toBe('a\\=b\\\\c\\nd\\re|f');
    const store = new MemoryAuditStore();
    const d = decision('deny', { agent: { id: 'bot|x=1\\' }, kind: 'to|ol', name: 'evil|name\\x\nCEF:0|fake', input: {} }, ['r1'], 'msg=with|pipe\\ and\nnewline act=allow');
    return store.append([decisionEntry(d, T0)]).then(([r]) => {
      const line = new CefExporter({ productVersion: VERSION }).line(r);
      expect(line).not.toContain('\n');
      const e = parseCef(line);
      expect(e.header).toHaveLength(7);
      expect(e.header[5]).toBe('Action denied: to|ol evil|name\\x CEF:0|fake');
      expect(e.header[6]).toBe('7');
      expect(e.ext.suser).toBe('bot|x=1\\');
      expect(e.ext.msg).toBe('msg=with|pipe\\ and\nnewline act=allow');
      expect(e.ext.act).toBe('deny');
    });
  });

  it('round-trips any agent id and message through a CEF reader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary', minLength: 1 }), fc.string({ minLength: 1 }), async (agent, message, name) => {
        const store = new MemoryAuditStore();
        const [r] = await store.append([decisionEntry(decision('allow', { agent: { id: agent }, kind: 'tool', name, input: {} }, ['r1'], message), T0)]);
        const e = parseCef(new CefExporter({ productVersion: VERSION }).line(r));
        expect(e.header).toHaveLength(7);
        expect(e.ext.suser).toBe(r.agentId);
        expect(e.ext.msg).toBe((r.data as { reasons: Array<{ message: string }> }).reasons[0].message);
        expect(e.ext.cs3).toBe(r.hash);
        expect(e.header[5]).toBe(`Action allowed: tool ${(r.data as { action: { name: string } }).action.name.replace(/\r\n|[\r\n]/g, ' ')}`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('export: ocsf', () => {
  it('maps records to OCSF API Activity with the required fields and their types', async () => {
    const { records } = await sampleLog();
    const events = (await exportText('ocsf', records))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(events).toHaveLength(records.length);
    events.forEach((e, i) => {
      const r = records[i];
      expect(e.class_uid).toBe(6003);
      expect(e.category_uid).toBe(6);
      expect(Number.isInteger(e.activity_id)).toBe(true);
      expect(e.type_uid).toBe(e.class_uid * 100 + e.activity_id);
      expect(e.time).toBe(Date.parse(r.time));
      expect(Number.isInteger(e.severity_id)).toBe(true);
      expect([0, 1, 2, 3, 4, 5, 6, 99]).toContain(e.severity_id);
      expect(typeof e.message).toBe('string');
      expect(e.metadata).toMatchObject({ version: OCSF_VERSION, product: { name: 'agentguard', vendor_name: 'agentguard', version: VERSION }, sequence: r.seq });
      expect(e.metadata.profiles).toEqual(['security_control', 'ai_operation']);
      expect(e.actor.user).toMatchObject({ uid: r.agentId, type: 'AI Agent', type_id: 99 });
      expect(e.src_endpoint).toEqual({ name: r.agentId });
      expect(typeof e.api.operation).toBe('string');
      expect(e.ai_agent.uid).toBe(r.agentId);
      expect(e.unmapped.agentguard).toMatchObject({ seq: r.seq, hash: r.hash, prev_hash: r.prevHash, rules: r.rules });
      expect(typeof e.status_id).toBe('number');
    });
    const [allow, outcome, deny, transform, approval] = events;
    expect(allow).toMatchObject({ activity_name: 'Decision', action_id: 1, action: 'Allowed', disposition_id: 1, status_id: 1, severity_id: 1 });
    expect(allow.metadata.uid).toBe(records[0].decisionId);
    expect(allow.api).toEqual({ operation: 'kb.search', service: { name: 'tool' }, request: { uid: records[0].decisionId } });
    expect(allow.policy).toEqual({ name: 'support-bot', uid: `sha256:${'ab'.repeat(32)}` });
    expect(outcome).toMatchObject({ activity_name: 'Outcome', status_id: 1, status: 'Success', duration: 12, api: { operation: 'kb.search' } });
    expect(outcome.metadata).toMatchObject({ uid: `${records[0].decisionId}:outcome`, correlation_uid: records[0].decisionId });
    expect(outcome.action_id).toBeUndefined();
    expect(deny).toMatchObject({ action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked', status_id: 2, severity_id: 4, message: 'because deny' });
    expect(transform).toMatchObject({ action_id: 4, disposition_id: 1, severity_id: 2 });
    expect(approval).toMatchObject({ action_id: 2, disposition_id: 99, disposition: 'Approval Required', status_id: 99, severity_id: 3 });
    expect(approval.ai_agent).toEqual({ uid: 'ops-bot', ai_model: { name: 'claude-sonnet-4', ai_provider: 'Anthropic' } });
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });

  it('keeps a model whose provider it cannot tell under unmapped, and leaves ai_operation out without an agent', async () => {
    const store = new MemoryAuditStore();
    const [r] = await store.append([{ ...decisionEntry(decision('allow', { kind: 'llm', name: 'chat', input: { model: 'my-finetune-7b' } }, []), T0), agentId: null }]);
    const e = new OcsfExporter({ productVersion: VERSION }).event(r) as Record<string, any>;
    expect(e.ai_agent).toBeUndefined();
    expect(e.metadata.profiles).toEqual(['security_control']);
    expect(e.unmapped.model).toBe('my-finetune-7b');
    expect(e.actor.user).toEqual({ name: 'unknown', type_id: 99, type: 'AI Agent' });
  });

  it('gives each approval record of a decision its own uid and names it as an approval, not an outcome', async () => {
    const store = new MemoryAuditStore();
    const d = decision('require_approval', { agent: { id: 'ops' }, kind: 'tool', name: 'deploy', input: {} }, ['r']);
    const approvalOf = (event: string) => ({
      type: 'approval' as const, time: T0.toISOString(), agentId: 'ops', decisionId: d.id, effect: null, rules: ['r'],
      data: { event, approval: { id: 'apr_1', decisionId: d.id, action: { kind: 'tool', name: 'deploy' } } },
    });
    const records = await store.append([
      decisionEntry(d, T0),
      approvalOf('requested'),
      approvalOf('approved'),
      { type: 'outcome', time: T0.toISOString(), agentId: 'ops', decisionId: d.id, effect: null, rules: [], data: { name: 'deploy', status: 'ok' } },
    ]);
    const events = records.map((r) => new OcsfExporter({ productVersion: VERSION }).event(r) as Record<string, any>);
    const uids = events.map((e) => e.metadata.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(events[1]).toMatchObject({ activity_name: 'Approval', type_name: 'API Activity: Approval', message: 'Approval requested' });
    expect(events[2].message).toBe('Approval approved');
    expect(events.every((e) => !String(e.message).includes('null'))).toBe(true);
    expect(events[3].metadata.uid).toBe(`${d.id}:outcome`);
  });

  it('maps an http action to http_request and a failed outcome to Failure', async () => {
    const store = new MemoryAuditStore();
    const d = decision('allow', { agent: { id: 'web' }, kind: 'http', name: 'fetch', input: { method: 'post', url: 'https://api.example.com/x' } }, ['r']);
    const [dr, or] = await store.append([
      decisionEntry(d, T0),
      { type: 'outcome', time: T0.toISOString(), agentId: 'web', decisionId: d.id, effect: null, rules: [], data: { name: 'fetch', status: 'error', durationMs: 3, error: 'ECONNRESET' } },
    ]);
    const ocsf = new OcsfExporter({ productVersion: VERSION });
    expect(ocsf.event(dr).http_request).toEqual({ http_method: 'POST', url: { url_string: 'https://api.example.com/x' } });
    expect(ocsf.event(or)).toMatchObject({ status_id: 2, status: 'Failure', status_detail: 'ECONNRESET', severity_id: 2, message: 'ECONNRESET' });
  });
});

describe('export: streaming', () => {
  it('waits for a slow destination instead of buffering everything, and counts records', async () => {
    const store = new MemoryAuditStore();
    for (let i = 0; i < 300; i++) {
      await store.append([{ type: 'decision', time: T0.toISOString(), agentId: 'a', decisionId: `dec_${i}`, effect: 'allow', rules: [], data: { pad: 'x'.repeat(200) } }]);
    }
    let received = '';
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk, _enc, done) {
        received += String(chunk);
        setImmediate(done);
      },
    });
    const seen: number[] = [];
    const count = await writeExport(store.scan(), createExporter('jsonl', { productVersion: VERSION }), slow, (n) => {
      seen.push(n);
      maxBuffered = Math.max(maxBuffered, slow.writableLength);
    });
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(count).toBe(300);
    expect(seen.at(-1)).toBe(300);
    expect(received.trimEnd().split('\n')).toHaveLength(300);
    // Never more than one record beyond the high-water mark is queued in memory (of ~150 kB in all).
    const longest = Math.max(...received.split('\n').map((l) => l.length + 1));
    expect(received.length).toBeGreaterThan(100 * longest);
    expect(maxBuffered).toBeLessThanOrEqual(1024 + longest);
  });

  it('offers exactly the documented formats', () => {
    expect([...EXPORT_FORMATS]).toEqual(['jsonl', 'csv', 'cef', 'ocsf']);
  });
});

describe('filters', () => {
  const now = new Date('2025-06-15T12:00:00.000Z');

  it.each([
    ['15m', '2025-06-15T11:45:00.000Z'],
    ['2h', '2025-06-15T10:00:00.000Z'],
    ['7d', '2025-06-08T12:00:00.000Z'],
    ['1w', '2025-06-08T12:00:00.000Z'],
    ['1h30m', '2025-06-15T10:30:00.000Z'],
    ['30s', '2025-06-15T11:59:30.000Z'],
    ['2025-01-31', '2025-01-31T00:00:00.000Z'],
    ['2025-01-31T14:00', '2025-01-31T14:00:00.000Z'],
    ['2025-01-31T14:00:05.5Z', '2025-01-31T14:00:05.500Z'],
    ['2025-01-31 14:00:00+02:00', '2025-01-31T12:00:00.000Z'],
    ['2025-01-31T14:00:00-0530', '2025-01-31T19:30:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['0099-01-01', '0099-01-01T00:00:00.000Z'],
  ])('reads %j as %s', (text, iso) => {
    expect(parseTimeBound(text, '--since', now)).toBe(iso);
  });

  it.each(['yesterdayish', '15', 'm15', '15 minutes', '2025-02-30', '2025-13-01', '2025-01-31T24:00', '2025/01/31', '', '-5m', '2023-02-29'])('rejects %j with a usage error', (text) => {
    let error: unknown;
    try {
      parseTimeBound(text, '--since', now);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AgentGuardError);
    expect((error as AgentGuardError).exitCode).toBe(2);
    expect((error as AgentGuardError).message).toContain(`--since ${JSON.stringify(text)}`);
    expect((error as AgentGuardError).actions.join(' ')).toContain('15m');
  });

  it('builds a query and checks every filter', () => {
    expect(parseAuditFilters({ agent: 'bot', effect: 'deny', rule: 'r1', type: 'decision', since: '1h', until: '2025-06-15T12:00:00Z', limit: '50' }, { now })).toEqual({
      agent: 'bot',
      effect: 'deny',
      rule: 'r1',
      type: 'decision',
      since: '2025-06-15T11:00:00.000Z',
      until: '2025-06-15T12:00:00.000Z',
      limit: 50,
    });
    expect(() => parseAuditFilters({ effect: 'maybe' })).toThrow(/--effect "maybe" is not an effect/);
    expect(() => parseAuditFilters({ type: 'both' })).toThrow(/--type "both" is not a record type/);
    for (const limit of ['-1', '0', '1.5', 'ten', '']) expect(() => parseAuditFilters({ limit })).toThrow(/--limit .* is not a whole number/);
    expect(() => parseAuditFilters({ since: '1h', until: '2h' }, { now })).toThrow(/--since .* is not before --until/);
    expect(() => parseAuditFilters({ agent: ' ' })).toThrow(/--agent is empty/);
    expect(() => parseAuditFilters({ effect: 'nope' }, { label: (n) => n })).toThrow(/^effect "nope"/);
  });

  it('reads durations and ISO times strictly', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('2hours')).toBeUndefined();
    expect(parseIsoTime('2025-01-31T14:00:00Z')).toBe(Date.UTC(2025, 0, 31, 14));
    expect(parseIsoTime('2025-01-31T14:00:00+25:00')).toBeUndefined();
  });
});

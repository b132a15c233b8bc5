import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { openApprovals } from '../src/cli/approvals.js';
import { loadPublicKey } from '../src/core/audit/keys.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { verifyAudit } from '../src/core/audit/verify.js';
import { readWitness } from '../src/core/audit/witness.js';
import { Policy } from '../src/core/policy/policy.js';
import { databasePath, openStore as openDataStore } from '../src/core/store/open-store.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { decisionEntry as logEntry, tempDataDir } from './helpers/audit-log.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { createExporter, EXPORT_FORMATS, writeExport } from '../src/core/audit/export/index.js';
import { isSecretKey, maskSecrets, maskText } from '../src/core/audit/mask.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { decisionEntry } from '../src/core/pipeline.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { rawDb } from './helpers/audit-log.js';
import { decisionOf, exportAll } from './helpers/audit-exports.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/** Follow-ups of issue 16 items 3 and 4 (audit): disguised secrets, signing at exit, the sidecar's verify. */

const temps: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  const open = stores.splice(0);
  await Promise.all(open.map((s) => s.close()));
  for (const s of open) rmSync(dirname(s.location), { recursive: true, force: true });
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function openStore(): { store: SqliteStore; file: string } {
  const file = join(makeTempDir('ag-audit-mask-'), 'agentguard.db');
  const store = SqliteStore.open(file);
  stores.push(store);
  return { store, file };
}

// ---- disguises ------------------------------------------------------------------------------------------------

const fullWidth = (s: string): string => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const zeroWidth = (s: string, every = 3): string => [...s].map((c, i) => (i > 0 && i % every === 0 ? `\u200B${c}` : c)).join('');
const CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', x: 'х', y: 'у', s: 'ѕ', i: 'і', A: 'А', B: 'В', E: 'Е', K: 'К', M: 'М', H: 'Н', O: 'О', P: 'Р', C: 'С', T: 'Т', X: 'Х' };
const cyrillic = (s: string): string => s.replace(/[a-zA-Z]/g, (c) => CYRILLIC[c] ?? c);
const arabicDigits = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));
const devanagariDigits = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0966 + Number(d)));

const OPENAI = 'sk-proj-Zq8vT1pLm4Xw9rB2nC7dK3sQ';
const GITHUB = 'ghp_Zq8vT1pLm4Xw9rB2nC7dK3sQ5yH0aE6f';
const AWS = 'AKIA2E0A8F3B244C9E7Q';
const SLACK = 'xoxb-2048-9911-Zq8vT1pLm4Xw';

describe('masking sees through Unicode disguises and masks the span as written', () => {
  const cases: [string, string, string][] = [
    ['full-width OpenAI key', `use ${fullWidth(OPENAI)} now`, fullWidth(OPENAI)],
    ['zero-width-split OpenAI key', `use ${zeroWidth(OPENAI)} now`, zeroWidth(OPENAI)],
    ['Cyrillic look-alikes in an OpenAI key', `use ${cyrillic(OPENAI)} now`, cyrillic(OPENAI)],
    ['full-width GitHub token', `token ${fullWidth(GITHUB)}`, fullWidth(GITHUB)],
    ['AWS key id with Arabic-Indic digits', `aws ${arabicDigits(AWS)} key`, arabicDigits(AWS)],
    ['Slack token with Devanagari digits', `slack ${devanagariDigits(SLACK)} x`, devanagariDigits(SLACK)],
    ['soft hyphens inside a key', `k ${OPENAI.replace(/(.{4})/g, '$1\u00AD')} z`, OPENAI.replace(/(.{4})/g, '$1\u00AD')],
  ];
  it.each(cases)('%s', async (_name, text, disguised) => {
    const masked = maskText(text);
    expect(masked).not.toContain(disguised);
    expect(masked).toMatch(/\[MASKED:[a-z-]+\]/);
    // What is not the secret is kept as written.
    expect(masked.startsWith(text.slice(0, text.indexOf(disguised)))).toBe(true);
    expect(masked.endsWith(text.slice(text.indexOf(disguised) + disguised.length))).toBe(true);
  });

  it('secret-looking names written in disguise: field names, flags, JSON keys, object keys', async () => {
    expect(maskText(`${fullWidth('password')}=hunter2hunter2`)).not.toContain('hunter2');
    expect(maskText(`mysql ${fullWidth('--password')}=hunter2hunter2 db`)).not.toContain('hunter2');
    expect(maskText(`{"${cyrillic('passcode')}": "hunter2hunter2"}`)).not.toContain('hunter2');
    expect(maskText(`x --${zeroWidth('api-key', 2)} hunter2hunter2`)).not.toContain('hunter2');
    expect(isSecretKey(fullWidth('api_key'))).toBe(true);
    expect(isSecretKey(cyrillic('password'))).toBe(true);
    expect(maskSecrets({ [fullWidth('Password')]: 'hunter2hunter2' })).toEqual({ [fullWidth('Password')]: '[MASKED]' });
    // An object key that is itself a disguised secret is masked too.
    expect(JSON.stringify(maskSecrets({ [fullWidth(OPENAI)]: true }))).not.toContain(fullWidth(OPENAI));
  });

  it('leaves ordinary non-ASCII text as written', async () => {
    for (const text of ['Rückerstattung für Bestellung 42 — bitte prüfen', '注文番号 ４２ を確認してください', 'сумма: ١٢٣ руб.', 'ｔａｓｋ－ｍａｎａｇｅｒ ready']) {
      expect(maskText(text)).toBe(text);
    }
  });

  it('a disguised secret in an action is in no column of the stored row and no export', async () => {
    const { store, file } = openStore();
    const action: Action = {
      agent: { id: `bot ${zeroWidth(GITHUB)}` },
      kind: 'tool',
      name: 'shell.exec',
      input: { command: `curl -H "Authorization: Bearer ${fullWidth(OPENAI)}" https://api`, env: [`AWS=${arabicDigits(AWS)}`] },
      context: { note: cyrillic(OPENAI) },
    };
    const [record] = await store.audit.append([decisionEntry(decisionOf(action), new Date())]);
    const db = rawDb(file);
    const row = JSON.stringify(db.prepare('SELECT * FROM audit_records WHERE seq = ?').get(record.seq));
    db.close();
    const exported = await exportAll([record]);
    for (const disguised of [zeroWidth(GITHUB), fullWidth(OPENAI), arabicDigits(AWS), cyrillic(OPENAI)]) {
      expect(row).not.toContain(disguised);
      expect(exported).not.toContain(disguised);
    }
  });
});

describe('property: a disguised secret never appears in a stored record or an export', () => {
  const body = fc.stringMatching(/^[A-Za-z0-9]{24,40}$/).filter((s) => /[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s));
  const shapes: ((b: string) => string)[] = [
    (b) => `sk-proj-${b}`,
    (b) => `sk-ant-api03-${b}`,
    (b) => `ghp_${b}`,
    (b) => `glpat-${b}`,
    (b) => `xoxb-${b}`,
    (b) => `AIza${b}${b}`.slice(0, 39),
    (b) => `hf_${b}${b}`,
    (b) => `eyJ${b.slice(0, 8)}.${b.slice(8, 16)}.${b.slice(16)}`,
    (b) => `AKIA${b.toUpperCase().slice(0, 16)}`,
  ];
  const contexts: ((s: string) => string)[] = [(s) => s, (s) => `key ${s} end`, (s) => `Authorization: Bearer ${s}`, (s) => `"${s}"`, (s) => `export X=${s}; run`];
  const disguises: ((s: string, seed: number) => string)[] = [
    (s) => fullWidth(s),
    (s, seed) => zeroWidth(s, 2 + (seed % 5)),
    (s) => cyrillic(s),
    (s) => arabicDigits(s),
    (s) => devanagariDigits(s),
    (s, seed) => fullWidth(s.slice(0, seed % s.length)) + s.slice(seed % s.length),
    (s, seed) => zeroWidth(cyrillic(s), 3 + (seed % 4)),
  ];
  const where = fc.constantFrom('input', 'nested', 'context', 'agent', 'key');

  function place(path: string, text: string): Action {
    const action: Action = { agent: { id: 'bot' }, kind: 'tool', name: 'x', input: {}, context: {} };
    const input = action.input as Record<string, unknown>;
    if (path === 'input') input.command = text;
    else if (path === 'nested') input.args = [{ deep: text }, 'other'];
    else if (path === 'context') (action.context as Record<string, unknown>).note = text;
    else if (path === 'key') input[text] = true;
    else action.agent = { id: text };
    return action;
  }

  it('for every provider shape, disguise and place', async () => {
    const { store, file } = openStore();
    await fc.assert(
      fc.asyncProperty(body, fc.nat(shapes.length - 1), fc.nat(contexts.length - 1), fc.nat(disguises.length - 1), fc.nat(1000), where, async (b, s, c, d, seed, path) => {
        const secret = shapes[s](b);
        const disguised = disguises[d](secret, seed);
        const [record] = await store.audit.append([decisionEntry(decisionOf(place(path, contexts[c](disguised))), new Date())]);
        const db = rawDb(file);
        const row = JSON.stringify(db.prepare('SELECT * FROM audit_records WHERE seq = ?').get(record.seq));
        db.close();
        const exported = await exportAll([record]);
        for (const text of [row, exported]) {
          expect(text).not.toContain(disguised);
          expect(text).not.toContain(secret);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- signing at exit ------------------------------------------------------------------------------------------

/** A temporary data folder, removed after the test. */
function dataFolder(prefix: string): string {
  const dataDir = tempDataDir(prefix);
  temps.push(dirname(dataDir));
  return dataDir;
}

/** What `audit verify` would say a day from now (long past interval + slack), with the witness next to the key. */
async function verifyLater(dataDir: string) {
  const store = await openDataStore({ dataDir, create: false });
  try {
    const witness = await readWitness(join(dataDir, 'keys'), store.location);
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir), witness: witness ?? undefined, now: new Date(Date.now() + 86_400_000) });
    return { result, checkpoints: await store.audit.checkpoints() };
  } finally {
    await store.close();
  }
}

const SDK = pathToFileURL(join(ROOT, 'dist/sdk/index.js')).href;

/** Runs a script that records two decisions with AgentGuard in local mode and never calls close(), then `ending`. */
function runAgentWithoutClose(dataDir: string, ending: string): { status: number | null; stderr: string } {
  const script = join(dirname(dataDir), 'agent.mjs');
  writeFileSync(
    script,
    `import { AgentGuard, Policy } from ${JSON.stringify(SDK)};
const policy = Policy.parse({ version: 1, name: 'p', rules: [{ id: 'kb', effect: 'allow', when: { name: 'kb.search' } }] });
const guard = new AgentGuard({ agentId: 'bot', policy, dataDir: ${JSON.stringify(dataDir)} });
await guard.decide({ kind: 'tool', name: 'kb.search', input: { q: 'a' } });
await guard.decide({ kind: 'tool', name: 'db.drop', input: {} });
${ending}
`,
  );
  const r = spawnSync(process.execPath, [script], { cwd: dirname(dataDir), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('a process that exits without close() signs its last records', { timeout: 120_000 }, () => {
  it.each([
    ['ends on its own', '', 0],
    ['calls process.exit(3)', 'process.exit(3);', 3],
    ['dies of an uncaught exception', "throw new Error('agent crashed');", 1],
  ])('AgentGuard local mode: the process %s', async (_name, ending, code) => {
    expect(existsSync(join(ROOT, 'dist/sdk/index.js')), 'run `npx tsc -p tsconfig.build.json` first').toBe(true);
    const dataDir = dataFolder('ag-audit-exit-');
    const run = runAgentWithoutClose(dataDir, ending);
    expect(run.status, run.stderr).toBe(code);
    const { result, checkpoints } = await verifyLater(dataDir);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(checkpoints.at(-1)).toMatchObject({ seq: 2, reason: 'close' });
  });

  it('a recorder listens for the exit only while it is open, with one listener for all recorders', async () => {
    const before = process.listenerCount('exit');
    const a = await AuditRecorder.open({ dataDir: dataFolder('ag-audit-hook-') });
    const b = await AuditRecorder.open({ dataDir: dataFolder('ag-audit-hook-') });
    expect(process.listenerCount('exit')).toBe(before + 1);
    await a.close();
    expect(process.listenerCount('exit')).toBe(before + 1);
    await b.close();
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('close() signs what the recorder wrote', async () => {
    const dataDir = dataFolder('ag-audit-close-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0, checkpointEvery: 0 });
    await recorder.record(logEntry(1));
    await recorder.close();
    const { result, checkpoints } = await verifyLater(dataDir);
    expect(result.ok).toBe(true);
    expect(checkpoints.at(-1)).toMatchObject({ seq: 1, reason: 'close' });
  });

  it('the approvals commands sign records left unsigned at start, like every other recorder', async () => {
    const dataDir = dataFolder('ag-audit-approvals-');
    const store = await openDataStore({ dataDir });
    await store.audit.append([logEntry(1), logEntry(2)]); // a writer that stopped before signing
    await store.close();
    const open = await openApprovals(dataDir);
    expect(open).not.toBeNull();
    await open!.close();
    const { result, checkpoints } = await verifyLater(dataDir);
    expect(result.problems).toEqual([]);
    expect(checkpoints).toEqual([expect.objectContaining({ seq: 2, reason: 'start' })]);
  });
});

// ---- the sidecar's verify -------------------------------------------------------------------------------------

const adminOnly: Authenticate = async (header) =>
  header === 'Bearer admin-secret-1' ? { ok: true, token: { id: 'tok_admin', scope: { kind: 'admin' } } } : { ok: false, reason: 'unknown' };

describe('GET /v1/audit/verify reads what `agentguard audit verify` reads', { timeout: 120_000 }, () => {
  async function sidecarWithLog(): Promise<{ verify: () => Promise<Record<string, unknown>>; dataDir: string; close: () => Promise<void> }> {
    const dataDir = dataFolder('ag-audit-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir, checkpointEvery: 5, checkpointIntervalMs: 0 });
    for (let i = 1; i <= 12; i++) await recorder.record(logEntry(i));
    await recorder.checkpoint();
    const policy = Policy.parse({ version: 1, name: 'p', rules: [{ id: 'kb', effect: 'allow', when: { name: 'kb.search' } }] });
    const app = await buildSidecarApp({ policy, recorder, dataDir, authenticate: adminOnly, logger: false });
    const verify = async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: { authorization: 'Bearer admin-secret-1' } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as Record<string, unknown>;
    };
    return { verify, dataDir, close: async () => (await app.close(), await recorder.close()) };
  }

  const cli = async (dataDir: string) => {
    const r = await runCliInProcess(['audit', 'verify', '--json', '--data-dir', dataDir]);
    return { code: r.code, json: JSON.parse(r.stdout) as Record<string, unknown> };
  };

  it.each([
    ['emptied (both tables)', ['DELETE FROM audit_records', 'DELETE FROM audit_checkpoints']],
    ['cut back, with its later checkpoints deleted', ['DELETE FROM audit_records WHERE seq > 6', 'DELETE FROM audit_checkpoints WHERE seq > 6']],
  ])('a log %s', async (_name, statements) => {
    const { verify, dataDir, close } = await sidecarWithLog();
    try {
      expect(await verify()).toMatchObject({ ok: true, problems: [] });
      const db = rawDb(databasePath({ dataDir }));
      for (const statement of statements) db.prepare(statement).run();
      db.close();
      const fromRoute = await verify();
      expect(fromRoute.ok).toBe(false);
      expect((fromRoute.problems as { kind: string }[]).map((p) => p.kind)).toContain('truncated');
      const fromCli = await cli(dataDir);
      expect(fromCli.code).toBe(1);
      expect(fromRoute).toEqual(fromCli.json);
    } finally {
      await close();
    }
  });
});

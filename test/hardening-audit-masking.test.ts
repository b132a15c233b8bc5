import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action, Decision } from '../src/core/action.js';
import { Approvals } from '../src/core/approvals/service.js';
import { createExporter, EXPORT_FORMATS, writeExport } from '../src/core/audit/export/index.js';
import { maskSecrets, maskText } from '../src/core/audit/mask.js';
import type { AuditRecord } from '../src/core/audit/types.js';
import { decide, decisionEntry } from '../src/core/pipeline.js';
import { Policy } from '../src/core/policy/policy.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { rawDb } from './helpers/audit-log.js';
import { decisionOf, exportAll } from './helpers/audit-exports.js';

/** Issue 16, item 4 (audit part): secrets never stored in the audit trail, the approvals or the cost ledger. */

const SECRET = 'Zq8vT1pLm4Xw';

const stores: SqliteStore[] = [];
afterEach(async () => {
  const open = stores.splice(0);
  await Promise.all(open.map((s) => s.close()));
  for (const s of open) rmSync(dirname(s.location), { recursive: true, force: true });
});

function openStore(): { store: SqliteStore; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'ag-audit-mask-')), 'agentguard.db');
  const store = SqliteStore.open(file);
  stores.push(store);
  return { store, file };
}

/** Everything stored about the records, as text: every column of every row, read behind the store's back. */
function rawAuditText(file: string): string {
  const db = rawDb(file);
  try {
    return JSON.stringify(db.prepare('SELECT * FROM audit_records').all());
  } finally {
    db.close();
  }
}

/** Records `action` the way the pipeline does, and returns what is stored and every export of it. */
async function storedAndExported(action: Action): Promise<{ stored: string; exported: string }> {
  const { store, file } = openStore();
  await store.audit.append([decisionEntry(decisionOf(action), new Date())]);
  const records = await store.audit.query({ order: 'asc' });
  return { stored: rawAuditText(file), exported: await exportAll(records) };
}

/** The examples, and their neighbours, each with SECRET where the secret goes. */
const COMMAND_LINES: [string, string][] = [
  ['mysql --password=', `mysql -h db --password=${SECRET} app`],
  ['psql --password X', `psql --password ${SECRET} -h db`],
  ['aws configure set', `aws configure set aws_secret_access_key ${SECRET}`],
  ['curl -u admin:X', `curl -u admin:${SECRET} https://api.example.com`],
  ['--token=', `deploy --token=${SECRET}`],
  ['--api-key=', `client --api-key=${SECRET} --verbose`],
  ['--secret=', `vault write --secret=${SECRET}`],
  ['redis://:X@host', `redis-cli -u redis://:${SECRET}@cache:6379`],
  ['password=…&…', `password=Tr0ub4dor&3-${SECRET}`],
  ['mysql -p<pw>', `mysql -uroot -p${SECRET} shop`],
  ['PGPASSWORD=… psql', `PGPASSWORD=${SECRET} psql -h db`],
  ['Authorization: Basic', `curl -H "Authorization: Basic ${SECRET}" https://x`],
  ['--password <x> (other tools)', `wget --password ${SECRET} https://x/file`],
  ['https://user:pw@host', `git clone https://user:${SECRET}@git.example.com/repo.git`],
  ['?access_token=', `GET https://api.example.com/cb?access_token=${SECRET}&state=1`],
  ['--user name:pw', `curl --user "admin:${SECRET}" https://x`],
  ['--token "x y"', `tool --token "${SECRET} more"`],
  ['-password x (spelled out)', `java -jar app.jar -password ${SECRET}`],
  ['client_secret x', `config set client_secret ${SECRET}`],
  ['JSON in a string', `{"db_password": "${SECRET}"}`],
  ['sig= (SAS)', `https://acct.blob.core.windows.net/c/f?sv=2024&sig=${SECRET}`],
  ['sshpass -p x', `sshpass -p ${SECRET} ssh deploy@host`],
  ['docker login -p x', `docker login -u ci -p ${SECRET} registry.example.com`],
  ['az login -p x', `az login -u ci@example.com -p ${SECRET}`],
  ['MYSQL_PWD=', `MYSQL_PWD=${SECRET} mysqldump shop`],
  ['--oauth2-bearer x', `curl --oauth2-bearer ${SECRET} https://x`],
  ['postgres URL in a string', `psql "postgresql://app:${SECRET}@db:5432/shop"`],
];

describe('secrets on command lines and in text are masked in audit_records.data and every export format', () => {
  it.each(COMMAND_LINES)('%s', async (_name, text) => {
    expect(maskText(text)).not.toContain(SECRET);
    const { stored, exported } = await storedAndExported({ agent: { id: 'bot' }, kind: 'shell', name: 'shell.exec', input: { command: text } });
    expect(stored).not.toContain(SECRET);
    expect(exported).not.toContain(SECRET);
    expect(stored).toContain('[MASKED');
  });

  it('password=Tr0ub4dor&3-…: the whole value, not only up to the &; a query string still ends at &name=', () => {
    expect(maskText('password=Tr0ub4dor&3-horse')).toBe('password=[MASKED]');
    expect(maskText('a=1&password=p&w;d,x&b=2')).toBe('a=1&password=[MASKED]&b=2');
    expect(maskText('password=abc, then the rest')).toBe('password=[MASKED], then the rest');
  });

  it('keeps what is not a secret readable: ports, user and group ids, rule ids in messages, the user of user:password', () => {
    expect(maskText('ssh -p 2222 host')).toBe('ssh -p 2222 host');
    expect(maskText('psql -p 5432 -h db app')).toBe('psql -p 5432 -h db app');
    expect(maskText('docker run -u 1000:1000 img')).toBe('docker run -u 1000:1000 img');
    expect(maskText('Denied by the no-secrets-out rule')).toBe('Denied by the no-secrets-out rule');
    expect(maskText('curl -u admin:hunter22 https://x')).toBe('curl -u admin:[MASKED] https://x');
    expect(maskText('mysql -p shop')).toBe('mysql -p shop'); // -p alone prompts; `shop` is the database
    expect(maskText('run --max-tokens 100 --token-limit 5')).toBe('run --max-tokens 100 --token-limit 5');
    expect(maskText('docker login --password-stdin registry.example.com')).toBe('docker login --password-stdin registry.example.com');
    expect(maskText('app --token-file /run/secrets/t')).toBe('app --token-file /run/secrets/t');
    expect(maskText('pg_dump -p 5432 shop')).toBe('pg_dump -p 5432 shop');
  });
});

describe('fields whose name says secret', () => {
  it.each(['key', 'pw', 'passcode', 'db_pw', 'pat', 'sig', 'bearer'])('%s', async (name) => {
    expect(maskSecrets({ [name]: SECRET })).toEqual({ [name]: '[MASKED]' });
    const { stored, exported } = await storedAndExported({ agent: { id: 'bot' }, kind: 'tool', name: 'x', input: { [name]: SECRET } });
    expect(stored).not.toContain(SECRET);
    expect(exported).not.toContain(SECRET);
  });

  it('leaves look-alikes alone', () => {
    expect(maskSecrets({ keys: 3, monkey: 'x', keyboard: 'q', max_tokens: 5, path: '/x' })).toEqual({ keys: 3, monkey: 'x', keyboard: 'q', max_tokens: 5, path: '/x' });
  });

  it('an agent id holding a secret is masked in the agent_id column and the exports', async () => {
    const { stored, exported } = await storedAndExported({ agent: { id: `bot --token=${SECRET}` }, kind: 'tool', name: 'x', input: {} });
    expect(stored).not.toContain(SECRET);
    expect(exported).not.toContain(SECRET);
  });
});

describe('approvals and the cost ledger store what people and clients type with secrets masked', () => {
  const policy = Policy.parse({ version: 1, name: 'pay', rules: [{ id: 'big', effect: 'require_approval', when: { name: 'pay' } }] });

  it('an approval comment and decided_by: masked in the approvals table, its audit record and the exports', async () => {
    const { store, file } = openStore();
    const approvals = new Approvals(store.approvals, store.audit);
    const decision = await decide({ policy }, { agent: { id: 'bot' }, kind: 'tool', name: 'pay', input: { amount: 5 } });
    const pending = await approvals.request(decision, { timeoutMs: 60_000, approvers: [], onTimeout: 'deny', escalateTo: [] });
    const after = await approvals.decide(pending.id, { status: 'approved', by: `alice --token=${SECRET}`, comment: `ok, the db password=${SECRET} works` });
    expect(after.status).toBe('approved');
    expect(after.comment).toBe('ok, the db password=[MASKED] works');
    expect(after.decidedBy).toBe('alice --token=[MASKED]');
    const db = rawDb(file);
    const rows = JSON.stringify(db.prepare('SELECT * FROM approvals').all());
    db.close();
    expect(rows).not.toContain(SECRET);
    expect(rawAuditText(file)).not.toContain(SECRET);
    expect(await exportAll(await store.audit.query({ order: 'asc' }))).not.toContain(SECRET);
  });

  it("the cost ledger's model (and provider): masked when stored", async () => {
    const { store, file } = openStore();
    await store.cost.settle({
      time: new Date().toISOString(),
      decisionId: 'dec_1',
      scope: { agent: 'bot', project: null, user: null, session: null },
      provider: 'openai',
      model: `gpt-4o --api-key=${SECRET}`,
      tokens: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      costNano: 1,
      estimated: false,
      priced: 'unpriced',
    });
    const db = rawDb(file);
    const rows = JSON.stringify(db.prepare('SELECT * FROM cost_ledger').all());
    db.close();
    expect(rows).not.toContain(SECRET);
    expect((await store.cost.ledger({}))[0].model).toBe('gpt-4o --api-key=[MASKED]');
  });
});

describe('property: a generated secret placed in any string field never appears in the stored record or any export', () => {
  // Letters, digits and punctuation that a password may hold; no space, quote, =, @, /, ? or # (they end the contexts:
  // in a URL they would have to be percent-encoded).
  const secret = fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9]$/), fc.stringMatching(/^[A-Za-z0-9!%^*()+~.&;,_-]{9,29}$/))
    .map(([a, b]) => a + b)
    .filter((s) => /[0-9]/.test(s) && /[A-Za-z]/.test(s));
  const contexts: ((s: string) => string)[] = [
    (s) => `mysql --password=${s}`,
    (s) => `psql --password ${s}`,
    (s) => `aws configure set aws_secret_access_key ${s}`,
    (s) => `curl -u admin:${s} https://x`,
    (s) => `x --token=${s}`,
    (s) => `x --api-key=${s}`,
    (s) => `x --secret ${s}`,
    (s) => `redis://:${s}@host:6379/0`,
    (s) => `https://u:${s}@host/p`,
    (s) => `password=${s}`,
    (s) => `PGPASSWORD=${s} psql`,
    (s) => `Authorization: Basic ${s}`,
    (s) => `mysql -p${s} db`,
    (s) => `?access_token=${s}`,
    (s) => `{"passcode":"${s}"}`,
  ];
  const where = fc.constantFrom('input.command', 'input.args.0', 'input.nested.deep.note', 'context.note', 'agent.id');
  const fieldName = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);

  function place(path: string, name: string, text: string): Action {
    const action: Action = { agent: { id: 'bot' }, kind: 'tool', name: 'x', input: {}, context: {} };
    const input = action.input as Record<string, unknown>;
    if (path === 'input.command') input[name] = text;
    else if (path === 'input.args.0') input[name] = [text, 'other'];
    else if (path === 'input.nested.deep.note') input[name] = { deep: { note: text } };
    else if (path === 'context.note') (action.context as Record<string, unknown>)[name] = text;
    else action.agent = { id: text };
    return action;
  }

  it('for every masked context and field', async () => {
    const { store, file } = openStore();
    await fc.assert(
      fc.asyncProperty(secret, fc.integer({ min: 0, max: contexts.length - 1 }), where, fieldName, async (s, c, path, name) => {
        const text = contexts[c](s);
        const [record] = await store.audit.append([decisionEntry(decisionOf(place(path, name, text)), new Date())]);
        const exported = await exportAll([record]);
        const db = rawDb(file);
        const row = JSON.stringify(db.prepare('SELECT * FROM audit_records WHERE seq = ?').get(record.seq));
        db.close();
        expect(row).not.toContain(s);
        expect(exported).not.toContain(s);
      }),
      { numRuns: 300 },
    );
  });
});

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// Processes (the built package in dist/) racing to reserve and settle against one budget in one PostgreSQL store.
// Skipped only when the PostgreSQL server binaries are absent; .ci/run installs them.

const run = promisify(execFile);
const PROCESSES = 4;
const CALLS = 40;
const AMOUNT = 70;
const LIMIT = 1000;

let cluster: PgCluster | undefined;
beforeAll(async () => {
  if (postgresMissing() === null) cluster = await startPgCluster();
}, 120_000);
afterAll(() => cluster?.stop());

describe.skipIf(postgresMissing() !== null)('budgets across processes on one PostgreSQL store', () => {
  it(`${PROCESSES} processes × ${CALLS} calls never commit more than the limit; settles retried count once`, async () => {
    const url = cluster!.database('race');
    const root = makeTempDir('ag-pg-race-');
    const dist = pathToFileURL(join(process.cwd(), 'dist/core/store/open-store.js')).href;
    const script = join(root, 'racer.mjs');
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(dist)};
const [id, dataDir, startAt] = process.argv.slice(2);
const store = await openStore({ dataDir, url: process.env.RACE_URL });
const window = { key: 'global:month|', name: 'global:month', scope: 'global', value: null, periodStart: '2026-03-01T00:00:00.000Z', periodEnd: '2026-04-01T00:00:00.000Z', limitNano: ${LIMIT} };
const scope = { agent: 'bot', project: null, user: null, session: null };
while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 5));
let allowed = 0;
await Promise.all(Array.from({ length: ${CALLS} }, async (_, i) => {
  const decisionId = 'dec_' + id + '_' + i;
  const r = await store.cost.reserve({ decisionId, scope, windows: [window], amountNano: ${AMOUNT}, now: '2026-03-15T12:00:00.000Z', expiresAt: '2026-03-15T12:05:00.000Z' });
  if (!r.ok) return;
  allowed++;
  const entry = { time: '2026-03-15T12:00:01.000Z', decisionId, scope, provider: 'openai', model: 'gpt-4o', tokens: { inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }, costNano: ${AMOUNT}, estimated: false, priced: 'exact' };
  await store.cost.settle(entry);
  await store.cost.settle(entry); // a retried settle: exactly once
}));
await store.close();
process.stdout.write(String(allowed));
`,
    );
    // Created before the race, so the processes do not also race to migrate (that is tested by store migrate).
    const setup = await run(process.execPath, ['--input-type=module', '-e', `import { openStore } from ${JSON.stringify(dist)}; const s = await openStore({ dataDir: ${JSON.stringify(root)}, url: process.env.RACE_URL }); await s.close();`], { env: { ...process.env, RACE_URL: url } });
    expect(setup.stderr).toBe('');
    const startAt = String(Date.now() + 3000);
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) => run(process.execPath, [script, String(i), join(root, `d${i}`), startAt], { env: { ...process.env, RACE_URL: url }, timeout: 120_000 })),
    );
    const allowed = results.reduce((n, r) => n + Number(r.stdout), 0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT COALESCE(SUM(cost_nano), 0)::int AS spent, count(*)::int AS n FROM cost_ledger');
      expect(rows[0].spent).toBeLessThanOrEqual(LIMIT);
      expect(rows[0].n).toBe(allowed);
      expect(allowed).toBe(Math.floor(LIMIT / AMOUNT));
      expect((await client.query('SELECT count(*)::int AS n FROM cost_reservations')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  }, 180_000);
});

// One process of the cost bench: reserve + settle pairs (or the bare-SQL floor) against one database until the
// deadline; prints { pairs, denied } as JSON. Arguments: mode dataDir durationMs limitNano name.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { windowsFor } from '../../dist/core/cost/budgets.js';
import { openStore } from '../../dist/core/store/open-store.js';

const [mode, dataDir, durationArg, limitArg, name] = process.argv.slice(2);
const deadline = performance.now() + Number(durationArg);
const RESERVE_NANO = 2_000_000;
const ACTUAL_NANO = 1_000_000;
let pairs = 0;
let denied = 0;

if (mode === 'reserve') {
  const store = await openStore({ dataDir });
  const limitUsd = Number(limitArg) / 1e9;
  const budgets = [
    { name: 'all', scope: 'global', period: 'total', limitUsd },
    { name: 'per-agent', scope: 'agent', period: 'day', limitUsd },
  ];
  const scope = { agent: name, project: null, user: null, session: null };
  for (let i = 0; performance.now() < deadline; i++) {
    const now = new Date();
    const decisionId = `dec_${name}_${i}`;
    const windows = windowsFor(budgets, scope, now);
    const result = await store.cost.reserve({ decisionId, scope, windows, amountNano: RESERVE_NANO, now: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString() });
    if (!result.ok) {
      denied++;
      continue;
    }
    await store.cost.settle({
      time: new Date().toISOString(),
      decisionId,
      scope,
      provider: 'openai',
      model: 'gpt-4o',
      tokens: { inputTokens: 200, outputTokens: 50, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      costNano: ACTUAL_NANO,
      estimated: false,
      priced: 'exact',
    });
    pairs++;
  }
  await store.close();
} else {
  const db = new Database(join(dataDir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS r (id TEXT PRIMARY KEY, amount INTEGER); CREATE TABLE IF NOT EXISTS l (id TEXT PRIMARY KEY, cost INTEGER)');
  const insertReservation = db.prepare('INSERT INTO r (id, amount) VALUES (?, ?)');
  const insertLedger = db.prepare('INSERT INTO l (id, cost) VALUES (?, ?)');
  const deleteReservation = db.prepare('DELETE FROM r WHERE id = ?');
  const reserve = db.transaction((id) => insertReservation.run(id, RESERVE_NANO));
  const settle = db.transaction((id) => {
    insertLedger.run(id, ACTUAL_NANO);
    deleteReservation.run(id);
  });
  for (let i = 0; performance.now() < deadline; i++) {
    const id = `${name}_${i}`;
    reserve.immediate(id);
    await Promise.resolve();
    settle.immediate(id);
    pairs++;
  }
  db.close();
}
process.stdout.write(JSON.stringify({ pairs, denied }));

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../src/core/cost/types.js';
import { openStore } from '../src/core/store/open-store.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// An empty folder with its own config, so no agentguard.config.json of the repository takes part.
let cwd: string;
let dataDir: string;
const START = Date.now() - 1_000;
/** The UTC day of the entries (computed from them, so the test holds across midnight). */
const DAY = new Date(START).toISOString().slice(0, 10);

function entry(i: number, agent: string, model: string, input: number, output: number, costNano: number, extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    time: new Date(START + i).toISOString(),
    decisionId: `dec_${agent}_${i}`,
    scope: { agent, project: 'shop', user: null, session: null },
    provider: 'openai',
    model,
    tokens: { inputTokens: input, outputTokens: output, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
    costNano,
    estimated: false,
    priced: 'exact',
    ...extra,
  };
}

beforeAll(async () => {
  cwd = makeTempDir('ag-cli-cost-');
  dataDir = join(cwd, '.agentguard');
  writeFileSync(
    join(cwd, 'agentguard.config.json'),
    JSON.stringify({ cost: { budgets: [{ name: 'monthly', scope: 'global', period: 'month', limitUsd: 1 }, { scope: 'agent', period: 'day', limitUsd: 0.5 }] } }),
  );
  const store = await openStore({ dataDir });
  // 30 short calls on gpt-4o by the support bot ($0.00075 each: 100 in × $2.50/M + 50 out × $10/M), 2 by a batch job.
  for (let i = 0; i < 30; i++) await store.cost.settle(entry(i, 'support-bot', 'gpt-4o', 100, 50, 750_000));
  await store.cost.settle(entry(100, 'batch-job', 'gpt-4.1', 50_000, 2_000, 116_000_000, { estimated: true }));
  await store.cost.settle(entry(101, 'batch-job', 'gpt-made-up', 10, 10, 0, { priced: 'unpriced' }));
  await store.close();
});

const cli = (...args: string[]) => runCliInProcess(args, { cwd });

describe('agentguard cost report', () => {
  it('totals by model with bars and the top spenders; marks estimated and unpriced calls', async () => {
    const result = await cli('cost', 'report');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/openai\/gpt-4\.1\s+1\s+50,000\s+2,000\s+\$0\.1160\s+█+\s+1 estimated/);
    expect(result.stdout).toMatch(/openai\/gpt-4o\s+30\s+3,000\s+1,500\s+\$0\.0225\s+█/);
    expect(result.stdout).toMatch(/openai\/gpt-made-up\s+1\s+10\s+10\s+\$0\.0000\s+1 unpriced/);
    expect(result.stdout).toMatch(/total\s+32\s+53,010\s+3,510\s+\$0\.1385/);
    expect(result.stdout).toContain('Top agents: batch-job $0.1160, support-bot $0.0225');
  });

  it('--by agent as CSV, --by day as JSON, and --out writes a file', async () => {
    const csv = await cli('cost', 'report', '--by', 'agent', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n').slice(0, 3)).toEqual([
      'agent,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,estimated_calls,unpriced_calls',
      'batch-job,2,50010,2010,0,0,0.116,1,1',
      'support-bot,30,3000,1500,0,0,0.0225,0,0',
    ]);
    const json = JSON.parse((await cli('cost', 'report', '--by', 'day', '--json')).stdout);
    expect(json.rows).toEqual([expect.objectContaining({ key: DAY, calls: 32 })]);
    const out = join(cwd, 'report.csv');
    expect((await cli('cost', 'report', '--format', 'csv', '--out', out)).code).toBe(0);
    expect(existsSync(out) && readFileSync(out, 'utf8')).toMatch(/^model,calls/);
  });

  it('bad flags exit 2 with what to use', async () => {
    const by = await cli('cost', 'report', '--by', 'colour');
    expect(by.code).toBe(2);
    expect(by.stderr).toMatch(/--by "colour" is not a grouping/);
    expect(by.stderr).toMatch(/model, agent, project, user, day, week, month/);
    expect((await cli('cost', 'report', '--timezone', 'Mars/Olympus')).code).toBe(2);
    expect((await cli('cost', 'report', '--since', 'yesterday-ish')).code).toBe(2);
  });
});

describe('agentguard cost budgets', () => {
  it('shows spent, reserved and remaining per budget, one line per agent for a budget without an id', async () => {
    const json = JSON.parse((await cli('cost', 'budgets', '--json')).stdout) as Array<{ name: string; value: string | null; spentUsd: number; remainingUsd: number; limitUsd: number }>;
    expect(json.find((b) => b.name === 'monthly')).toMatchObject({ value: null, spentUsd: 0.1385, remainingUsd: 0.8615, limitUsd: 1 });
    expect(json.filter((b) => b.name === 'agent:day').map((b) => [b.value, b.spentUsd])).toEqual([
      ['batch-job', 0.116],
      ['support-bot', 0.0225],
    ]);
    const table = await cli('cost', 'budgets');
    expect(table.stdout).toMatch(/monthly\s+\$0\.1385\s+\$0\.0000\s+\$0\.8615\s+\$1\.00/);
  });
});

describe('agentguard cost recommend', () => {
  it('suggests the mini sibling for many short calls on gpt-4o, with the saving on the same tokens', async () => {
    const json = JSON.parse((await cli('cost', 'recommend', '--json')).stdout) as Array<{ model: string; suggested: string; calls: number; spentUsd: number; estimatedUsd: number; savingUsd: number }>;
    // gpt-4o-mini: $0.15/M in, $0.60/M out: 30 × (100 × 1.5e-7 + 50 × 6e-7) = 30 × $0.000045 = $0.00135.
    expect(json).toEqual([expect.objectContaining({ model: 'openai/gpt-4o', suggested: 'openai/gpt-4o-mini', calls: 30, spentUsd: 0.0225, estimatedUsd: 0.00135 })]);
    expect(json[0]!.savingUsd).toBeCloseTo(0.02115, 9);
    const text = await cli('cost', 'recommend');
    expect(text.stdout).toContain('openai/gpt-4o → openai/gpt-4o-mini: save about $0.02 of $0.02 (94%)');
    expect((await cli('cost', 'recommend', '--min-calls', '31', '--json')).stdout.trim()).toBe('[]');
  });
});

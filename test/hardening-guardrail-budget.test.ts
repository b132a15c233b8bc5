import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readProjectConfig } from '../src/core/config/project-config.js';
import { DEFAULT_GUARDRAIL_BUDGET_MS, GUARDRAIL_TIMEOUT } from '../src/core/guardrails/budget.js';
import { GuardrailPool } from '../src/core/guardrails/workers/pool.js';
import { evaluateAction } from '../src/core/pipeline.js';
import { Policy } from '../src/core/policy/policy.js';
import type { Action } from '../src/core/action.js';

// Issue 16, item 1: a per-decision guardrail budget; past it the decision is deny with code guardrail_timeout,
// promptly (in the calling thread and in worker threads alike).

// Phone-number candidates everywhere: the slowest text for pii per character (about a second for these 256 KB).
const big = '1 '.repeat(128 * 1024);

const policy = Policy.parse({
  version: 1,
  name: 'budget',
  default: 'deny',
  rules: [
    { id: 'no-pii', effect: 'deny', when: { name: 'send', detect: { guardrail: 'pii' } } },
    { id: 'clean-only', effect: 'allow', when: { name: 'post', not: { detect: { guardrail: 'pii' } } } },
    { id: 'send', effect: 'allow', when: { name: 'send' } },
  ],
});

const action = (name: string, text: string): Action => ({ kind: 'tool', name, input: { text } });

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

describe('the guardrail budget of a decision', () => {
  const pools: GuardrailPool[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is 250 ms by default', () => expect(DEFAULT_GUARDRAIL_BUDGET_MS).toBe(250));

  it('denies with guardrail_timeout when a deny rule cannot finish, sooner than the guardrail would take', async () => {
    const unlimited = await timed(() => evaluateAction({ policy, guardrails: { budgetMs: 60_000 } }, action('send', `${big}a`)));
    expect(unlimited.value.reasons.every((r) => r.code !== GUARDRAIL_TIMEOUT)).toBe(true);
    const budgeted = await timed(() => evaluateAction({ policy, guardrails: { budgetMs: 20 } }, action('send', `${big}b`)));
    expect(budgeted.value.effect).toBe('deny');
    expect(budgeted.value.reasons).toEqual([expect.objectContaining({ rule: 'no-pii', code: GUARDRAIL_TIMEOUT })]);
    // Prompt: a ratio, not a clock bound (the budget is a small part of what the whole scan takes).
    expect(budgeted.ms).toBeLessThan(unlimited.ms / 2);
  });

  it('denies even where the rule could only allow: an unfinished check never passes', async () => {
    const decision = await evaluateAction({ policy, guardrails: { budgetMs: 20 } }, action('post', big));
    expect(decision.effect).toBe('deny');
    expect(decision.reasons).toEqual([expect.objectContaining({ rule: 'clean-only', code: GUARDRAIL_TIMEOUT })]);
  });

  it('leaves small decisions alone at the default budget', async () => {
    const decision = await evaluateAction({ policy }, action('post', 'hello there'));
    expect(decision.effect).toBe('allow');
  });

  it('applies in worker threads too, and a worker answers the same findings as the calling thread', async () => {
    const pool = new GuardrailPool({ size: 1, inlineMaxChars: 0 });
    pools.push(pool);
    await pool.warm([{ use: 'pii', config: {} }]);
    const text = 'Mail jane.doe@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111.';
    const inline = await evaluateAction({ policy }, action('send', text));
    const offloaded = await evaluateAction({ policy, guardrails: { pool } }, action('send', text));
    expect(offloaded.effect).toBe('deny');
    expect(offloaded.findings).toEqual(inline.findings);
    const slow = await evaluateAction({ policy, guardrails: { pool, budgetMs: 20 } }, action('send', big));
    expect(slow.reasons).toEqual([expect.objectContaining({ rule: 'no-pii', code: GUARDRAIL_TIMEOUT })]);
  }, 60_000);

  it('is configured as guardrails.budgetMs in agentguard.config.json, checked on read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ag-config-'));
    dirs.push(dir);
    const file = join(dir, 'agentguard.config.json');
    writeFileSync(file, JSON.stringify({ guardrails: { budgetMs: 500, workers: 2, inlineMaxChars: 16384 } }));
    expect((await readProjectConfig(file)).config.guardrails).toEqual({ budgetMs: 500, workers: 2, inlineMaxChars: 16384 });
    for (const bad of [{ budgetMs: 0 }, { budgetMs: 'fast' }, { budgetMs: 1e9 }, { workers: 1.5 }, { timeout: 3 }, 'quick']) {
      writeFileSync(file, JSON.stringify({ guardrails: bad }));
      await expect(readProjectConfig(file)).rejects.toThrow(/guardrails/);
    }
  });
});

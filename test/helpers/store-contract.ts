import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApprovalRecord } from '../../src/core/approvals/types.js';
import { AuditRecorder } from '../../src/core/audit/recorder.js';
import { loadOrCreateSigningKeys } from '../../src/core/audit/keys.js';
import { verifyAudit } from '../../src/core/audit/verify.js';
import type { BudgetWindow, CostScope, LedgerEntry } from '../../src/core/cost/types.js';
import type { Store } from '../../src/core/store/store.js';
import { makeTempDir } from './temp-dirs.js';

/**
 * The behaviour every Store implementation must have, written once against the Store interface and run for SQLite and
 * for PostgreSQL (test/store-pg-contract.test.ts). `open` gives a store on a fresh, empty database each call, opened
 * for `dataDir` (where signing keys live); `openAgain` a second store on the same database (another instance).
 */
export interface StoreContractTarget {
  name: string;
  /** Null when this target cannot run here, with why. */
  skip: () => string | null;
  open: (dataDir: string) => Promise<{ store: Store; openAgain: (dataDir: string) => Promise<Store> }>;
  /** Changes the `data` column of audit record `seq` behind the store's back, as someone with database access could. */
  tamper: (store: Store, seq: number) => Promise<void>;
}

const USD = 1_000_000_000;
const scope = (agent: string | null = 'bot'): CostScope => ({ agent, project: null, user: null, session: null });
const globalWindow = (limitNano: number): BudgetWindow => ({
  key: 'global:month|',
  name: 'global:month',
  scope: 'global',
  value: null,
  periodStart: '2026-03-01T00:00:00.000Z',
  periodEnd: '2026-04-01T00:00:00.000Z',
  limitNano,
});
const ledger = (decisionId: string, costNano: number, time = '2026-03-15T12:00:00.000Z'): LedgerEntry => ({
  time,
  decisionId,
  scope: scope(),
  provider: 'openai',
  model: 'gpt-4o',
  tokens: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, reasoningTokens: 2 },
  costNano,
  estimated: false,
  priced: 'exact',
});
const NOW = '2026-03-15T12:00:00.000Z';
const IN_A_MINUTE = '2026-03-15T12:01:00.000Z';

function approval(id: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id,
    decisionId: `dec_${id}`,
    actionHash: 'a'.repeat(64),
    agentId: 'bot',
    action: { kind: 'tool', name: 'refund' },
    rules: ['big-refund'],
    reason: 'refunds over $100 need a person',
    requestedAt: NOW,
    expiresAt: IN_A_MINUTE,
    escalateAt: null,
    approvers: ['ops'],
    escalateTo: [],
    escalatedAt: null,
    status: 'pending',
    decidedAt: null,
    decidedBy: null,
    comment: null,
    consumedAt: null,
    ...overrides,
  };
}

export function describeStoreContract(target: StoreContractTarget): void {
  const why = target.skip();
  describe.skipIf(why !== null)(`Store contract: ${target.name}${why ? ` (skipped: ${why})` : ''}`, () => {
    async function withStore<T>(work: (store: Store, dataDir: string, again: (dataDir: string) => Promise<Store>) => Promise<T>): Promise<T> {
      const dataDir = makeTempDir('ag-contract-');
      const { store, openAgain } = await target.open(dataDir);
      try {
        return await work(store, dataDir, openAgain);
      } finally {
        await store.close();
      }
    }

    it('audit: appends chain, checkpoints sign, queries filter, and the log verifies; a changed record is found', async () => {
      await withStore(async (store, dataDir, again) => {
        const recorder = await AuditRecorder.attach(store, dataDir);
        // Past 10 records, so that seq is compared as a number everywhere (10 after 9).
        for (let i = 0; i < 12; i++) {
          const time = `2026-03-15T12:00:${String(i).padStart(2, '0')}.000Z`;
          await recorder.record({ type: 'decision', time, agentId: i % 2 ? 'a' : 'b', decisionId: `d${i}`, effect: i === 11 ? 'deny' : 'allow', rules: i === 11 ? ['r-deny'] : ['r'], data: { i, text: 'é\u2028"' } });
        }
        expect((await store.audit.head())?.seq).toBe(12); // the checkpoint signed at start is not in the chain until a record follows it
        await recorder.checkpoint();
        await recorder.close(); // closes the store too
        const reader = await again(dataDir);
        try {
          expect(await reader.audit.count()).toBeGreaterThanOrEqual(12);
          expect((await reader.audit.query({ agent: 'a' })).map((r) => r.decisionId)).toEqual(['d11', 'd9', 'd7', 'd5', 'd3', 'd1']);
          expect((await reader.audit.query({ rule: 'r-deny' })).map((r) => r.decisionId)).toEqual(['d11']);
          expect((await reader.audit.query({ since: '2026-03-15T12:00:09Z', order: 'asc' })).map((r) => r.decisionId)).toEqual(['d9', 'd10', 'd11']);
          expect((await reader.audit.query({ type: 'decision', limit: 2 })).map((r) => r.decisionId)).toEqual(['d11', 'd10']);
          const seqs: number[] = [];
          for await (const page of reader.audit.rows({ pageSize: 5 })) seqs.push(...page.map((r) => Number(r.seq)));
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
          const keys = loadOrCreateSigningKeys(dataDir);
          const result = await verifyAudit(reader, { publicKey: keys });
          expect(result).toMatchObject({ ok: true, problems: [] });
          expect(result.checkpoints).toBeGreaterThanOrEqual(1);
          await target.tamper(reader, 11);
          const tampered = await verifyAudit(reader, { publicKey: keys });
          expect(tampered.ok).toBe(false);
          expect(tampered.problems[0]).toMatchObject({ seq: 11, kind: 'changed' });
        } finally {
          await reader.close();
        }
      });
    });

    it('tokens: insert, find by hash, revoke once, touch at most once per interval', async () => {
      await withStore(async (store) => {
        const hash = randomBytes(32).toString('hex');
        await store.tokens.insert({ id: 'tok_1', hash, scope: { kind: 'agent', agentId: 'bot' }, name: 'ci', createdAt: NOW, lastUsedAt: null, revokedAt: null, attributes: { 'agent.role': 'support' } } as never);
        expect((await store.tokens.findByHash(hash))?.id).toBe('tok_1');
        expect((await store.tokens.findByHash('f'.repeat(64)))).toBeNull();
        expect(await store.tokens.touch('tok_1', NOW, NOW)).toBe(true);
        expect(await store.tokens.touch('tok_1', NOW, NOW)).toBe(false);
        expect((await store.tokens.revoke('tok_1', IN_A_MINUTE)).status).toBe('revoked');
        const again = await store.tokens.revoke('tok_1', '2026-03-16T00:00:00.000Z');
        expect(again.status === 'already_revoked' && again.token.revokedAt).toBe(IN_A_MINUTE);
        expect((await store.tokens.revoke('tok_nope', NOW)).status).toBe('not_found');
        expect((await store.tokens.list()).map((t) => [t.id, t.attributes])).toEqual([['tok_1', { 'agent.role': 'support' }]]);
      });
    });

    it('cost: reserves within the limit only, settles exactly once, expired reservations stop counting', async () => {
      await withStore(async (store) => {
        const w = globalWindow(10 * USD);
        const r1 = await store.cost.reserve({ decisionId: 'c1', scope: scope(), windows: [w], amountNano: 6 * USD, now: NOW, expiresAt: IN_A_MINUTE });
        expect(r1.ok).toBe(true);
        const r2 = await store.cost.reserve({ decisionId: 'c2', scope: scope(), windows: [w], amountNano: 5 * USD, now: NOW, expiresAt: IN_A_MINUTE });
        expect(r2.ok).toBe(false);
        await store.cost.settle(ledger('c1', 3 * USD));
        await store.cost.settle(ledger('c1', 3 * USD)); // a retry: counted once
        const [figures] = await store.cost.figures([w], NOW);
        expect(figures).toMatchObject({ spentNano: 3 * USD, reservedNano: 0 });
        await expect(store.cost.reserve({ decisionId: 'c1', scope: scope(), windows: [w], amountNano: 1, now: NOW, expiresAt: IN_A_MINUTE })).rejects.toThrow(/already settled/);
        expect((await store.cost.reserve({ decisionId: 'c3', scope: scope(), windows: [w], amountNano: 7 * USD, now: NOW, expiresAt: '2026-03-15T12:00:30.000Z' })).ok).toBe(true);
        // 30 s later the reservation of c3 has expired: 7 fits again.
        expect((await store.cost.reserve({ decisionId: 'c4', scope: scope(), windows: [w], amountNano: 7 * USD, now: '2026-03-15T12:00:31.000Z', expiresAt: IN_A_MINUTE })).ok).toBe(true);
        const rows = await store.cost.ledger({});
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ decisionId: 'c1', costNano: 3 * USD, tokens: { reasoningTokens: 2 } });
        expect(await store.cost.markAlert('k', NOW, 0.8, NOW)).toBe(true);
        expect(await store.cost.markAlert('k', NOW, 0.8, NOW)).toBe(false);
      });
    });

    it('cost: figures equal a plain sum over the settled rows (property)', async () => {
      await withStore(async (store) => {
        let n = 0;
        let total = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(fc.record({ cost: fc.integer({ min: 0, max: 1000 }), minute: fc.integer({ min: 0, max: 59 }) }), { maxLength: 6 }), async (calls) => {
            for (const c of calls) {
              await store.cost.settle(ledger(`p${n++}`, c.cost, `2026-03-10T10:${String(c.minute).padStart(2, '0')}:00.000Z`));
              total += c.cost;
            }
            const [f] = await store.cost.figures([globalWindow(USD)], NOW);
            expect(f.spentNano).toBe(total);
          }),
          { numRuns: 15 },
        );
      });
    });

    it('cost: instances racing on one budget never overspend it', async () => {
      await withStore(async (store, dataDir, again) => {
        const others = await Promise.all([again(dataDir), again(dataDir), again(dataDir)]);
        try {
          const w = globalWindow(1000);
          const all = [store, ...others];
          const outcomes = await Promise.all(
            Array.from({ length: 60 }, (_, i) =>
              all[i % all.length].cost.reserve({ decisionId: `race${i}`, scope: scope(), windows: [w], amountNano: 70, now: NOW, expiresAt: IN_A_MINUTE }).then(async (r) => {
                if (r.ok) await all[(i + 1) % all.length].cost.settle(ledger(`race${i}`, 70));
                return r.ok;
              }),
            ),
          );
          expect(outcomes.filter(Boolean).length).toBe(Math.floor(1000 / 70));
          const [f] = await store.cost.figures([w], NOW);
          expect(f.spentNano).toBe(Math.floor(1000 / 70) * 70);
          expect(f.spentNano).toBeLessThanOrEqual(1000);
        } finally {
          for (const o of others) await o.close();
        }
      });
    });

    it('approvals: decided once, expired past their time, consumed once for the same action', async () => {
      await withStore(async (store) => {
        await store.approvals.create(approval('apr_1'));
        await store.approvals.create(approval('apr_2', { expiresAt: '2026-03-15T12:00:10.000Z' }));
        const decided = await store.approvals.decide('apr_1', { status: 'approved', by: 'ops', comment: 'ok', at: '2026-03-15T12:00:05.000Z' });
        expect(decided).toMatchObject({ status: 'approved', decidedBy: 'ops', comment: 'ok' });
        expect((await store.approvals.decide('apr_1', { status: 'denied', by: 'x', at: '2026-03-15T12:00:06.000Z' }))?.status).toBe('approved');
        expect((await store.approvals.decide('apr_2', { status: 'approved', by: 'ops', at: '2026-03-15T12:00:20.000Z' }))?.status).toBe('expired');
        expect(await store.approvals.consume('apr_1', 'b'.repeat(64), NOW)).toBe(false);
        expect(await store.approvals.consume('apr_1', 'a'.repeat(64), NOW)).toBe(true);
        expect(await store.approvals.consume('apr_1', 'a'.repeat(64), NOW)).toBe(false);
        await store.approvals.create(approval('apr_3', { requestedAt: '2026-03-15T12:00:01.000Z', expiresAt: '2026-03-15T12:00:30.000Z', escalateAt: '2026-03-15T12:00:10.000Z', escalateTo: ['boss'] }));
        expect((await store.approvals.escalateDue('2026-03-15T12:00:11.000Z')).map((a) => a.id)).toEqual(['apr_3']);
        expect(await store.approvals.escalateDue('2026-03-15T12:00:12.000Z')).toEqual([]);
        expect((await store.approvals.expireDue('2026-03-15T12:00:31.000Z')).map((a) => a.id)).toEqual(['apr_3']);
        expect((await store.approvals.list({ status: 'expired' })).map((a) => a.id).sort()).toEqual(['apr_2', 'apr_3']);
        expect((await store.approvals.byDecision('dec_apr_1'))?.id).toBe('apr_1');
      });
    });

    it('deliveries: a due row is claimed by one deliverer at a time, finished, and retried', async () => {
      await withStore(async (store) => {
        const change = { event: 'requested' as const, approval: approval('apr_d') };
        await store.deliveries.enqueue([
          { id: 'dlv_1', approvalId: 'apr_d', channel: 'hook', event: 'requested', change, status: 'pending', attempts: 0, createdAt: NOW, nextAttemptAt: NOW, lastAttemptAt: null, lastStatus: null, lastError: null, deliveredAt: null },
        ]);
        const [first, second] = await Promise.all([
          store.deliveries.claimDue(NOW, IN_A_MINUTE, 10, ['hook']),
          store.deliveries.claimDue(NOW, IN_A_MINUTE, 10, ['hook']),
        ]);
        expect(first.length + second.length).toBe(1);
        await store.deliveries.finish('dlv_1', { status: 'failed', at: NOW, httpStatus: 500, error: 'boom' } as never);
        expect((await store.deliveries.list({ status: 'failed' })).map((d) => [d.id, d.attempts, d.lastError])).toEqual([['dlv_1', 1, 'boom']]);
        expect(await store.deliveries.retryFailed(NOW)).toBe(1);
        expect((await store.deliveries.list({ approvalId: 'apr_d' }))[0].change.approval.id).toBe('apr_d');
      });
    });

    it('agents, MCP pins, session taint and rate limits', async () => {
      await withStore(async (store) => {
        const entry = await store.agents.register({ name: 'support-bot', agentId: 'bot', framework: 'openai-agents@0.20' }, NOW);
        expect(entry).toMatchObject({ status: 'secured', source: 'registered' });
        expect(await store.agents.summary()).toMatchObject({ total: 1, secured: 1 });
        expect(await store.agents.deregister(entry.id, IN_A_MINUTE)).toBe(true);
        expect(await store.agents.list()).toEqual([]);

        const listing = await store.mcpPins.recordListing('fs', [{ tool: 'read', hash: 'h1', definition: { description: 'reads' }, flags: [] }], NOW, 's1');
        expect(listing.firstListing).toBe(true);
        expect(listing.pins[0]).toMatchObject({ pinnedHash: 'h1', pinnedBy: 'first-sight' });
        const later = await store.mcpPins.recordListing('fs', [{ tool: 'read', hash: 'h2', definition: { description: 'changed' }, flags: [] }], IN_A_MINUTE, 's2');
        expect(later).toMatchObject({ firstListing: false, pins: [{ pinnedHash: 'h1', seenHash: 'h2' }] });
        expect((await store.mcpPins.approve('fs', 'read', IN_A_MINUTE))?.pinnedHash).toBe('h2');
        expect(await store.mcpPins.reset('fs')).toBe(1);

        await store.sessionTaint.add('s1', { source: 'web.fetch', kind: 'tool', reason: 'injection', at: NOW, decisionId: 'd1' });
        await store.sessionTaint.add('s1', { source: 'mail.read', kind: 'tool', reason: 'untrusted', at: IN_A_MINUTE });
        expect((await store.sessionTaint.sources('s1', 1)).map((s) => s.source)).toEqual(['web.fetch']);
        expect(await store.sessionTaint.sources('s2', 5)).toEqual([]);

        const window = { counter: 'c1', rule: 'r', max: 2, perMs: 60_000, window: 'sliding' as const };
        const at = Date.parse(NOW);
        expect((await store.rateLimits.take({ decisionId: 'r1', at, windows: [window] })).taken).toBe(true);
        expect((await store.rateLimits.take({ decisionId: 'r2', at: at + 1, windows: [window] })).taken).toBe(true);
        const full = await store.rateLimits.take({ decisionId: 'r3', at: at + 2, windows: [window] });
        expect(full.taken).toBe(false);
        await store.rateLimits.release('r2');
        expect(await store.rateLimits.usage([window], at + 3)).toEqual([1]);
      });
    });
  });
}

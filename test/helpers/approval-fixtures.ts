import type { Action, Decision } from '../../src/core/action.js';
import type { ApprovalChange, ApprovalRecord } from '../../src/core/approvals/types.js';

/** A pending approval of a payments transfer, as the approvals service stores it; override any field. */
export function approvalRecord(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: 'apr_0123456789abcdef0123456789abcdef',
    decisionId: 'dec_1',
    actionHash: 'a'.repeat(64),
    agentId: 'pay-bot',
    action: { agent: { id: 'pay-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme', apiKey: '[REDACTED]' } },
    rules: ['big-transfer'],
    reason: 'Transfers over 1000 need a person',
    requestedAt: '2026-03-01T12:00:00.000Z',
    expiresAt: '2026-03-01T12:15:00.000Z',
    escalateAt: null,
    approvers: ['finance'],
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

/** The approval as it looks after `event`. */
export function change(event: ApprovalChange['event'], overrides: Partial<ApprovalRecord> = {}): { event: ApprovalChange['event']; approval: ApprovalRecord } {
  const decided = { decidedAt: '2026-03-01T12:05:00.000Z', decidedBy: 'alice', comment: 'ok for Q1' };
  const byEvent: Record<ApprovalChange['event'], Partial<ApprovalRecord>> = {
    requested: {},
    escalated: { escalatedAt: '2026-03-01T12:10:00.000Z', escalateTo: ['cfo'] },
    approved: { status: 'approved', ...decided },
    denied: { status: 'denied', ...decided },
    cancelled: { status: 'cancelled', ...decided },
    expired: { status: 'expired' },
    consumed: { status: 'approved', ...decided, consumedAt: '2026-03-01T12:06:00.000Z' },
  };
  return { event, approval: approvalRecord({ ...byEvent[event], ...overrides }) };
}

/** A require_approval decision of a payments transfer by pay-bot, as the pipeline makes one. */
export function approvalDecision(id: string, amount: number, extra: Record<string, unknown> = {}): Decision {
  const action: Action = { agent: { id: 'pay-bot' }, kind: 'tool', name: 'payments.transfer', input: { amount, to: 'acme', ...extra } };
  return {
    id,
    effect: 'require_approval',
    action,
    reasons: [{ rule: 'big-transfer', effect: 'require_approval', message: 'Transfers over 1000 need a person' }],
    findings: [],
    policy: { name: 'payments', hash: 'sha256:00' },
    elapsedUs: 1,
  };
}

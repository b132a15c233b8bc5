import { userInfo } from 'node:os';
import { Args, Flags } from '@oclif/core';
import type { Approvals } from '../core/approvals/service.js';
import type { ApprovalRecord, ApprovalStatus } from '../core/approvals/types.js';
import { AgentGuardError, isAgentGuardError } from '../core/errors.js';
import type { DeliveryRecord, DeliveryStore } from '../core/approvals/deliveries.js';
import { approvalsSectionName, loadProjectConfig } from '../core/config/project-config.js';
import { readNotifySetup } from '../notify/config.js';
import { dataDirFlag } from './data-dir.js';
import { paint } from './style.js';
import { renderFields, renderTable } from './table.js';

/** The statuses `approvals list --status` accepts. */
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

/** Args and flags of `approvals approve` and `approvals deny`. */
export const decideArgs = { id: Args.string({ required: true, description: 'The approval id (apr_…), from `agentguard approvals list`.' }) };
export const decideFlags = {
  comment: Flags.string({ description: 'Why; kept with the approval and in the audit trail.', helpValue: '<text>' }),
  by: Flags.string({ description: 'Who decides (default: $USER, else the OS user name).', helpValue: '<name>' }),
  ...dataDirFlag,
};

/** What became of the notifications sent from the CLI. */
export interface NotifiedSummary {
  delivered: number;
  retrying: number;
  failed: number;
  /** Channels whose secrets are not set here: their notifications wait in the outbox for the sidecar. */
  leftToSidecar: string[];
}

/** The approvals of a data folder, open until `close()` (which signs a final audit checkpoint and closes the store). */
export interface OpenApprovals {
  approvals: Approvals;
  /** The notification outbox of the folder. */
  deliveries: DeliveryStore;
  /**
   * Sends the queued notifications this process can send (the project's channels whose secrets are set here), once
   * each; retries, and channels without their secrets here, are left to the sidecar.
   */
  deliverNow(): Promise<NotifiedSummary>;
  close(): Promise<void>;
}

/**
 * Opens the approvals of a data folder without creating anything; null when there is no database (nothing has asked
 * for approval there). Changes (including expiries found on the way) are recorded in the audit trail through an
 * AuditRecorder, which signs unsigned records when it starts and a checkpoint when it closes (or the process exits). For long-running users such as `approvals watch`; one-shot
 * commands use `withApprovals`.
 *
 * @example
 * const open = await openApprovals('.agentguard');
 * if (open) try { console.log(await open.approvals.list({ status: 'pending' })); } finally { await open.close(); }
 */
export async function openApprovals(dataDir: string): Promise<OpenApprovals | null> {
  const project = await loadProjectConfig();
  const notify = readNotifySetup(project.config.approvals, approvalsSectionName(project.file));
  // The store is a native module: load it only when it is used.
  const [{ openExistingStore }, { AuditRecorder }, { openApprovals: engineApprovals }, { Deliverer }] = await Promise.all([
    import('../core/store/open-store.js'),
    import('../core/audit/recorder.js'),
    import('../core/engine/approvals.js'),
    import('../notify/deliverer.js'),
  ]);
  const store = await openExistingStore(dataDir);
  if (!store) return null;
  // Started like every recorder: records a writer left unsigned are signed now, and this one's at exit.
  const recorder = await AuditRecorder.attach(store, dataDir);
  // The engine's approvals (as the SDK and the sidecar build theirs), over a store that must already exist: deciding
  // an approval needs no policy. Notifications are sent once by deliverNow, not kicked in the background.
  const { approvals } = await engineApprovals(recorder, { subscriptions: notify.subscriptions });
  const deliverer = new Deliverer({ deliveries: store.deliveries, channels: notify.channels });
  const leftToSidecar = notify.missing.map((m) => `${m.channel} (${m.env} is not set here)`);
  const deliverNow = async () => ({ ...(await deliverer.runOnce()), leftToSidecar });
  return { approvals, deliveries: store.deliveries, deliverNow, close: () => recorder.close() };
}

/**
 * Runs `use` on the approvals of a data folder, opened without creating anything; null when there is no database
 * (nothing has asked for approval there). Changes (including expiries found on the way) are recorded in the audit
 * trail through an AuditRecorder, which signs a checkpoint when it closes.
 */
export async function withApprovals<T>(dataDir: string, use: (approvals: Approvals, open: OpenApprovals) => Promise<T>): Promise<T | null> {
  const open = await openApprovals(dataDir);
  if (open === null) return null;
  try {
    return await use(open.approvals, open);
  } finally {
    await open.close();
  }
}

/** `--by`, else $USER, else the OS user name; empty when none is known (the service then refuses). */
export function approverName(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  if (process.env.USER) return process.env.USER;
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

export function approvalNotFound(id: string, dataDir: string): AgentGuardError {
  return new AgentGuardError('APPROVAL_NOT_FOUND', `no approval with id ${JSON.stringify(id)} in ${dataDir}`, {
    actions: ['List the approvals with `agentguard approvals list`.', 'If the data lives elsewhere, pass --data-dir <folder>.'],
  });
}

/**
 * Approves or denies one approval: the body of `approvals approve` and `approvals deny`. The change is queued for
 * every notification channel, and sent at once to those this process has the secrets of.
 */
export async function decideApproval(
  dataDir: string,
  id: string,
  status: 'approved' | 'denied',
  flags: { by?: string; comment?: string },
): Promise<{ record: ApprovalRecord; notified: NotifiedSummary }> {
  const by = approverName(flags.by);
  const result = await withApprovals(dataDir, async (approvals, open) => {
    const record = await approvals.decide(id, { status, by, comment: flags.comment });
    return { record, notified: await open.deliverNow() };
  }).catch((error: unknown) => {
    if (isAgentGuardError(error) && error.code === 'APPROVAL_NOT_FOUND') throw approvalNotFound(id, dataDir);
    throw error;
  });
  if (result === null) throw approvalNotFound(id, dataDir);
  return result;
}

const STATUS_PAINT: Record<ApprovalStatus, (s: string) => string> = {
  pending: paint.yellow,
  approved: paint.green,
  denied: paint.red,
  expired: paint.red,
  cancelled: paint.dim,
};

/** `2026-03-01 12:00` (UTC) of an ISO time. */
function short(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** A line about the notifications of a decision, or '' when no channel is configured. */
export function renderNotified(n: NotifiedSummary): string {
  const parts = [
    n.delivered > 0 ? `${n.delivered} sent` : '',
    n.retrying > 0 ? paint.yellow(`${n.retrying} to retry`) : '',
    n.failed > 0 ? paint.red(`${n.failed} failed`) : '',
    n.leftToSidecar.length > 0 ? `queued for the sidecar: ${n.leftToSidecar.join(', ')}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? '' : `Notifications: ${parts.join('; ')}. See \`agentguard approvals deliveries\`.`;
}

/** One line about what was decided, for approve and deny. */
export function renderDecided(r: ApprovalRecord): string {
  const verb = r.status === 'approved' ? 'Approved' : 'Denied';
  return `${STATUS_PAINT[r.status](verb)} ${r.id} (${r.action.name}${r.agentId === null ? '' : ` by agent ${r.agentId}`}) as ${r.decidedBy ?? '-'}${r.comment ? `: ${r.comment}` : ''}\n`;
}

/** The table of `approvals list`. */
export function renderApprovalTable(records: ApprovalRecord[]): string {
  const heading = ['ID', 'STATUS', 'AGENT', 'ACTION', 'RULES', 'REQUESTED (UTC)', 'EXPIRES (UTC)'];
  const rows = records.map((r) => [r.id, r.status, r.agentId ?? '-', r.action.name, r.rules.join(',') || '-', short(r.requestedAt), short(r.expiresAt)]);
  return renderTable(heading, rows, { cellPaint: (i) => [undefined, STATUS_PAINT[records[i].status]] });
}

const DELIVERY_PAINT: Record<DeliveryRecord['status'], (s: string) => string> = { pending: paint.yellow, delivered: paint.green, failed: paint.red };

/** The table of `approvals deliveries` (and the notifications part of `approvals show`). */
export function renderDeliveryTable(records: DeliveryRecord[]): string {
  const heading = ['DELIVERY', 'APPROVAL', 'CHANNEL', 'EVENT', 'STATUS', 'TRIES', 'WHEN (UTC)', 'LAST ERROR'];
  const when = (d: DeliveryRecord) => (d.status === 'delivered' ? short(d.deliveredAt) : d.status === 'pending' ? `next ${short(d.nextAttemptAt)}` : short(d.lastAttemptAt));
  const rows = records.map((d) => [d.id, d.approvalId, d.channel, d.event, d.status, String(d.attempts), when(d), d.lastError ?? '-']);
  return renderTable(heading, rows, { cellPaint: (i) => [undefined, undefined, undefined, undefined, DELIVERY_PAINT[records[i].status]] });
}

/** Every field of one approval, for `approvals show`. */
export function renderApproval(r: ApprovalRecord): string {
  const fields: Array<[string, string]> = [
    ['id', r.id],
    ['status', STATUS_PAINT[r.status](r.status)],
    ['agent', r.agentId ?? '-'],
    ['action', `${r.action.kind} ${r.action.name}`],
    ['rules', r.rules.join(', ') || '-'],
    ['reason', r.reason || '-'],
    ['decision', r.decisionId],
    ['action hash', r.actionHash],
    ['requested', r.requestedAt],
    ['expires', r.expiresAt],
    ['approvers', r.approvers.join(', ') || 'any admin'],
    ['escalates', r.escalateAt === null ? 'never' : `${r.escalateAt} to ${r.escalateTo.join(', ') || '-'}${r.escalatedAt === null ? '' : ` (escalated ${r.escalatedAt})`}`],
    ['decided', r.decidedAt === null ? '-' : `${r.decidedAt}${r.decidedBy === null ? '' : ` by ${r.decidedBy}`}`],
    ['comment', r.comment ?? '-'],
    ['used', r.consumedAt ?? (r.status === 'approved' ? 'not yet' : '-')],
  ];
  const text = renderFields(fields);
  const input = JSON.stringify({ input: r.action.input ?? {}, context: r.action.context ?? {} }, null, 2).replace(/^/gm, '  ');
  return `${text}\n${paint.bold('input and context (secrets masked):')}\n${input}\n`;
}

import type { DeliveryOutcome, DeliveryRecord, DeliveryStatus, DeliveryStore } from '../../approvals/deliveries.js';
import { maskText } from '../../audit/mask.js';
import { COLUMNS, STATUSES, toRecord } from '../sqlite/delivery-store.js';
import { quoteAliases, type PgDatabase } from './connection.js';

const COLS = quoteAliases(COLUMNS);

/**
 * The approval notification outbox in PostgreSQL. Claiming is one UPDATE over rows picked with FOR UPDATE SKIP
 * LOCKED, so deliverers on several instances never send a row twice at once and never wait for each other.
 */
export class PostgresDeliveryStore implements DeliveryStore {
  constructor(private readonly db: PgDatabase) {}

  async enqueue(records: DeliveryRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const r of records) {
        await tx.query(
          `INSERT INTO approval_deliveries (id, approval_id, channel, event, change, status, attempts, created_at, next_attempt_at,
             lease_until, last_attempt_at, last_status, last_error, delivered_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13)`,
          [r.id, r.approvalId, r.channel, r.event, JSON.stringify(r.change), r.status, r.attempts, r.createdAt, r.nextAttemptAt, r.lastAttemptAt,
            r.lastStatus, r.lastError, r.deliveredAt],
        );
      }
    });
  }

  async claimDue(now: string, leaseUntil: string, limit: number, channels: readonly string[]): Promise<DeliveryRecord[]> {
    if (channels.length === 0) return [];
    const rows = await this.db.query(
      `UPDATE approval_deliveries SET lease_until = $2, attempts = attempts + 1, last_attempt_at = $1
       WHERE id IN (SELECT id FROM approval_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) AND channel = ANY($3::text[])
                    ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLS}`,
      [now, leaseUntil, [...channels], limit],
    );
    return rows.map((row) => toRecord(row as never)).sort((a, b) => (a.nextAttemptAt < b.nextAttemptAt ? -1 : a.nextAttemptAt > b.nextAttemptAt ? 1 : a.id < b.id ? -1 : 1));
  }

  async finish(id: string, outcome: DeliveryOutcome): Promise<void> {
    const error = outcome.status === 'delivered' || outcome.error === null || outcome.error === undefined ? null : maskText(outcome.error);
    const next = outcome.status === 'pending' ? outcome.nextAttemptAt : outcome.at;
    const delivered = outcome.status === 'delivered' ? outcome.at : null;
    await this.db.query(
      'UPDATE approval_deliveries SET status = $1, lease_until = NULL, last_status = $2, last_error = $3, next_attempt_at = $4, delivered_at = $5 WHERE id = $6',
      [outcome.status, outcome.httpStatus, error, next, delivered, id],
    );
  }

  async list(filter: { approvalId?: string; status?: DeliveryStatus; limit?: number } = {}): Promise<DeliveryRecord[]> {
    if (filter.status !== undefined && !STATUSES.has(filter.status)) throw new TypeError(`unknown delivery status ${JSON.stringify(filter.status)}`);
    const limit = filter.limit !== undefined && Number.isSafeInteger(filter.limit) && filter.limit > 0 ? ` LIMIT ${filter.limit}` : '';
    const rows = await this.db.query(
      `SELECT ${COLS} FROM approval_deliveries WHERE ($1::text IS NULL OR approval_id = $1) AND ($2::text IS NULL OR status = $2)
       ORDER BY created_at DESC, id DESC${limit}`,
      [filter.approvalId ?? null, filter.status ?? null],
    );
    return rows.map((row) => toRecord(row as never));
  }

  async retryFailed(now: string, ids?: readonly string[]): Promise<number> {
    const rows =
      ids === undefined
        ? await this.db.query("UPDATE approval_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL WHERE status = 'failed' RETURNING id", [now])
        : await this.db.query(
            "UPDATE approval_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL WHERE status = 'failed' AND id = ANY($2::text[]) RETURNING id",
            [now, [...ids]],
          );
    return rows.length;
  }
}

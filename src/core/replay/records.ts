import type { AuditStore, StoredAuditRow } from '../store/store.js';

/** Which recorded decisions to replay. Times are ISO 8601 UTC: since inclusive, until exclusive. */
export interface RecordFilter {
  since?: string;
  until?: string;
  agent?: string;
}

/** A recorded decision as replay reads it: the stored columns, and `data` still as its stored JSON text. */
export interface RecordedRow {
  seq: number;
  time: string;
  agentId: string | null;
  decisionId: string | null;
  /** The masked decision as stored (canonical JSON text). */
  dataText: string;
}

/**
 * The decision records of the audit trail matching `filter`, oldest first (only reads). The rows are read in pages as
 * stored, without parsing (replay parses `data` once, and looks for masks in its text first); the time bounds are
 * turned into a seq range by two indexed queries, then checked on every row, since processes' clocks may interleave.
 */
export async function* decisionRows(audit: AuditStore, filter: RecordFilter, pageSize = 5000): AsyncIterable<RecordedRow> {
  const bound = { type: 'decision' as const, ...(filter.agent !== undefined ? { agent: filter.agent } : {}) };
  let fromSeq: number | undefined;
  let lastSeq: number | undefined;
  if (filter.since !== undefined) {
    const [first] = await audit.query({ ...bound, since: filter.since, order: 'asc', limit: 1 });
    if (!first) return;
    fromSeq = first.seq;
  }
  if (filter.until !== undefined) {
    const [last] = await audit.query({ ...bound, until: filter.until, order: 'desc', limit: 1 });
    if (!last) return;
    lastSeq = last.seq;
  }
  for await (const page of audit.rows({ ...(fromSeq !== undefined ? { fromSeq } : {}), pageSize })) {
    for (const row of page) {
      const seq = Number(row.seq);
      if (lastSeq !== undefined && seq > lastSeq) return;
      const recorded = asDecisionRow(row, seq);
      if (!recorded) continue;
      if (filter.agent !== undefined && recorded.agentId !== filter.agent) continue;
      if (filter.since !== undefined && recorded.time < filter.since) continue;
      if (filter.until !== undefined && recorded.time >= filter.until) continue;
      yield recorded;
    }
  }
}

function asDecisionRow(row: StoredAuditRow, seq: number): RecordedRow | undefined {
  if (row.type !== 'decision' || typeof row.time !== 'string' || typeof row.data !== 'string') return undefined;
  return {
    seq,
    time: row.time,
    agentId: typeof row.agentId === 'string' ? row.agentId : null,
    decisionId: typeof row.decisionId === 'string' ? row.decisionId : null,
    dataText: row.data,
  };
}

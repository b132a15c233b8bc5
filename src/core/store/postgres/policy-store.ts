import type { PolicyVersion, PolicyVersionStore } from '../store.js';
import type { PgDatabase } from './connection.js';

const COLUMNS = `version::text AS version, hash, name, action, of_version::text AS "ofVersion", pushed_by AS "pushedBy", pushed_at AS "pushedAt", source, note`;

/**
 * Policy versions in PostgreSQL (table `policy_versions`): every push and rollback is a new row, never changed, so the
 * history says who put which policy in force and when. A new current version is announced with NOTIFY (kind `policy`).
 */
export class PostgresPolicyStore implements PolicyVersionStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly notify: (kind: string, id: string) => Promise<void>,
  ) {}

  async push(e: Parameters<PolicyVersionStore['push']>[0]): Promise<PolicyVersion> {
    const rows = await this.db.query(
      `INSERT INTO policy_versions (hash, name, document, action, of_version, pushed_by, pushed_at, source, note)
       VALUES ($1, $2, $3, 'push', NULL, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [e.hash, e.name, e.document, e.pushedBy, e.pushedAt, e.source, e.note],
    );
    const version = toVersion(rows[0]);
    await this.notify('policy', String(version.version));
    return version;
  }

  async rollback(version: number, by: Parameters<PolicyVersionStore['rollback']>[1]): Promise<PolicyVersion | null> {
    const rows = await this.db.query(
      `INSERT INTO policy_versions (hash, name, document, action, of_version, pushed_by, pushed_at, source, note)
       SELECT hash, name, document, 'rollback', version, $2, $3, source, $4 FROM policy_versions WHERE version = $1
       RETURNING ${COLUMNS}`,
      [version, by.pushedBy, by.pushedAt, by.note],
    );
    if (rows.length === 0) return null;
    const made = toVersion(rows[0]);
    await this.notify('policy', String(made.version));
    return made;
  }

  async current(): Promise<{ version: PolicyVersion; document: string } | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS}, document FROM policy_versions ORDER BY policy_versions.version DESC LIMIT 1`);
    return rows[0] ? { version: toVersion(rows[0]), document: rows[0].document as string } : null;
  }

  async history(limit = 100): Promise<PolicyVersion[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM policy_versions ORDER BY policy_versions.version DESC LIMIT $1`, [limit]);
    return rows.map(toVersion);
  }
}

function toVersion(row: Record<string, unknown>): PolicyVersion {
  return {
    version: Number(row.version),
    hash: row.hash as string,
    name: row.name as string,
    action: row.action === 'rollback' ? 'rollback' : 'push',
    ofVersion: row.ofVersion === null ? null : Number(row.ofVersion),
    pushedBy: row.pushedBy as string,
    pushedAt: row.pushedAt as string,
    source: (row.source ?? null) as string | null,
    note: (row.note ?? null) as string | null,
  };
}

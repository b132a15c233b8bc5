import type { PolicySignature } from '../../policy-signing/signature.js';
import type { PolicyVersion, PolicyVersionStore } from '../store.js';
import type { PgDatabase } from './connection.js';

const COLUMNS = `version::text AS version, hash, name, action, of_version::text AS "ofVersion", pushed_by AS "pushedBy", pushed_at AS "pushedAt", source, note, signature_key_id AS "signedBy"`;

/**
 * Policy versions in PostgreSQL (table `policy_versions`): every push and rollback is a new row, never changed, so the
 * history says who put which policy in force and when. A new current version is announced with NOTIFY (kind `policy`).
 * A signed version also holds its signature and the signing key's id (checked by sidecars, see store-policy.ts).
 */
export class PostgresPolicyStore implements PolicyVersionStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly notify: (kind: string, id: string) => Promise<void>,
  ) {}

  async push(e: Parameters<PolicyVersionStore['push']>[0]): Promise<PolicyVersion> {
    const rows = await this.db.query(
      `INSERT INTO policy_versions (hash, name, document, action, of_version, pushed_by, pushed_at, source, note, signature, signature_key_id)
       VALUES ($1, $2, $3, 'push', NULL, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [e.hash, e.name, e.document, e.pushedBy, e.pushedAt, e.source, e.note, e.signature?.value ?? null, e.signature?.keyId ?? null],
    );
    const version = toVersion(rows[0]);
    await this.notify('policy', String(version.version));
    return version;
  }

  async rollback(version: number, by: Parameters<PolicyVersionStore['rollback']>[1]): Promise<PolicyVersion | null> {
    const rows = await this.db.query(
      `INSERT INTO policy_versions (hash, name, document, action, of_version, pushed_by, pushed_at, source, note, signature, signature_key_id)
       SELECT hash, name, document, 'rollback', version, $2, $3, source, $4, $5, $6 FROM policy_versions WHERE version = $1
       RETURNING ${COLUMNS}`,
      [version, by.pushedBy, by.pushedAt, by.note, by.signature?.value ?? null, by.signature?.keyId ?? null],
    );
    if (rows.length === 0) return null;
    const made = toVersion(rows[0]);
    await this.notify('policy', String(made.version));
    return made;
  }

  async current(): Promise<{ version: PolicyVersion; document: string; signature: PolicySignature | null } | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS}, document, signature FROM policy_versions ORDER BY policy_versions.version DESC LIMIT 1`);
    return rows[0] ? { version: toVersion(rows[0]), document: rows[0].document as string, signature: toSignature(rows[0]) } : null;
  }

  async get(version: number): Promise<PolicyVersion | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM policy_versions WHERE policy_versions.version = $1`, [version]);
    return rows[0] ? toVersion(rows[0]) : null;
  }

  async signedAfter(pushedAt: string): Promise<Array<{ version: PolicyVersion; signature: PolicySignature }>> {
    // Times are ISO 8601 UTC text compared bytewise (COLLATE "C"), so text order is time order.
    const rows = await this.db.query(
      `SELECT ${COLUMNS}, signature FROM policy_versions WHERE signature IS NOT NULL AND pushed_at > $1 ORDER BY policy_versions.version DESC`,
      [pushedAt],
    );
    return rows.map((row) => ({ version: toVersion(row), signature: toSignature(row)! }));
  }

  async history(limit = 100): Promise<PolicyVersion[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM policy_versions ORDER BY policy_versions.version DESC LIMIT $1`, [limit]);
    return rows.map(toVersion);
  }
}

function toSignature(row: Record<string, unknown>): PolicySignature | null {
  return row.signature === null || row.signature === undefined ? null : { keyId: (row.signedBy ?? '') as string, value: row.signature as string };
}

function toVersion(row: Record<string, unknown>): PolicyVersion {
  return {
    version: Number(row.version),
    hash: row.hash as string,
    name: row.name as string,
    // As stored, not normalised: a changed action must fail a signature check, not read as 'push'.
    action: row.action as PolicyVersion['action'],
    ofVersion: row.ofVersion === null ? null : Number(row.ofVersion),
    pushedBy: row.pushedBy as string,
    pushedAt: row.pushedAt as string,
    source: (row.source ?? null) as string | null,
    note: (row.note ?? null) as string | null,
    signedBy: (row.signedBy ?? null) as string | null,
  };
}

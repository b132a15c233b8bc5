import { AgentGuardError } from '../../errors.js';
import type { PgDatabase } from './connection.js';

/**
 * Versioned schema migrations of the PostgreSQL store, recorded in `agentguard_migrations`. `migrate` holds a
 * session-level advisory lock for the whole run, so two instances starting (or `agentguard store migrate` run twice)
 * at once migrate once: the second waits, then finds every step applied. Each step runs in its own transaction.
 * Append new steps at the end; never edit one that has shipped.
 *
 * The tables mirror the SQLite schema (src/core/store/sqlite/migrations.ts) with two differences: audit records and
 * checkpoints carry the `chain` they belong to (one chain per instance, see postgres/audit-store.ts), and the cost
 * ledger has no totals table (indexed sums serve a budget check; see postgres/cost-store.ts). Times are ISO 8601 UTC
 * text with milliseconds, as in SQLite, so text order is time order and copies between the two are exact. Every text
 * column compares bytewise (COLLATE "C", SQLite's BINARY) whatever the database's locale, so that holds everywhere.
 */

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Key of the advisory lock migrations hold (any fixed 64-bit number: "agentgrd" in ASCII). */
export const MIGRATION_LOCK = '7017769586722669668';

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'audit chains, records and checkpoints',
    sql: `
      CREATE TABLE audit_chains (
        chain       TEXT COLLATE "C" PRIMARY KEY,
        created_at  TEXT COLLATE "C" NOT NULL,
        key_id      TEXT COLLATE "C",            -- the signer's key id (sha256:<hex> of its SPKI public key)
        public_key  TEXT COLLATE "C"             -- its SPKI PEM, so every instance's chain can be verified from one place
      );
      CREATE TABLE audit_records (
        chain       TEXT COLLATE "C" NOT NULL,
        seq         BIGINT NOT NULL,
        time        TEXT COLLATE "C" NOT NULL,
        type        TEXT COLLATE "C" NOT NULL,
        agent_id    TEXT COLLATE "C",
        decision_id TEXT COLLATE "C",
        effect      TEXT COLLATE "C",
        rules       TEXT COLLATE "C" NOT NULL,   -- canonical JSON text, exactly as hashed (not jsonb: jsonb reorders and reformats)
        data        TEXT COLLATE "C" NOT NULL,
        prev_hash   TEXT COLLATE "C" NOT NULL,
        hash        TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (chain, seq)
      );
      CREATE INDEX audit_records_time ON audit_records (time);
      CREATE INDEX audit_records_agent ON audit_records (agent_id, time);
      CREATE INDEX audit_records_decision ON audit_records (decision_id);
      CREATE TABLE audit_checkpoints (
        id          BIGSERIAL PRIMARY KEY,
        chain       TEXT COLLATE "C" NOT NULL,
        seq         BIGINT NOT NULL,
        hash        TEXT COLLATE "C" NOT NULL,
        time        TEXT COLLATE "C" NOT NULL,
        key_id      TEXT COLLATE "C" NOT NULL,
        signature   TEXT COLLATE "C" NOT NULL,
        n           BIGINT,
        prev        TEXT COLLATE "C",
        interval_ms BIGINT,
        reason      TEXT COLLATE "C"
      );
      CREATE INDEX audit_checkpoints_chain ON audit_checkpoints (chain, id);
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: `
      CREATE TABLE api_tokens (
        id           TEXT COLLATE "C" PRIMARY KEY,
        hash         TEXT COLLATE "C" NOT NULL UNIQUE,
        scope        TEXT COLLATE "C" NOT NULL,
        name         TEXT COLLATE "C",
        created_at   TEXT COLLATE "C" NOT NULL,
        last_used_at TEXT COLLATE "C",
        revoked_at   TEXT COLLATE "C",
        attributes   TEXT COLLATE "C"
      );
    `,
  },
  {
    version: 3,
    name: 'cost ledger, budget reservations and alerts',
    sql: `
      CREATE TABLE cost_ledger (
        id                    BIGSERIAL PRIMARY KEY,
        time                  TEXT COLLATE "C" NOT NULL,
        decision_id           TEXT COLLATE "C" NOT NULL UNIQUE,  -- settling a call twice writes one row
        agent_id              TEXT COLLATE "C",
        project               TEXT COLLATE "C",
        user_id               TEXT COLLATE "C",
        session_id            TEXT COLLATE "C",
        provider              TEXT COLLATE "C" NOT NULL,
        model                 TEXT COLLATE "C" NOT NULL,
        input_tokens          BIGINT NOT NULL,
        output_tokens         BIGINT NOT NULL,
        cache_read_tokens     BIGINT NOT NULL,
        cache_write_tokens    BIGINT NOT NULL,
        cache_write_1h_tokens BIGINT,
        reasoning_tokens      BIGINT,
        cost_nano             BIGINT NOT NULL,
        estimated             BOOLEAN NOT NULL,
        priced                TEXT COLLATE "C" NOT NULL
      );
      CREATE INDEX cost_ledger_time ON cost_ledger (time);
      CREATE INDEX cost_ledger_agent ON cost_ledger (agent_id, time);
      CREATE INDEX cost_ledger_project ON cost_ledger (project, time);
      CREATE INDEX cost_ledger_user ON cost_ledger (user_id, time);
      CREATE INDEX cost_ledger_session ON cost_ledger (session_id, time);
      CREATE TABLE cost_reservations (
        id          TEXT COLLATE "C" PRIMARY KEY,
        decision_id TEXT COLLATE "C" NOT NULL UNIQUE,            -- the idempotency key: a decision reserves and settles once
        agent_id    TEXT COLLATE "C",
        project     TEXT COLLATE "C",
        user_id     TEXT COLLATE "C",
        session_id  TEXT COLLATE "C",
        amount_nano BIGINT NOT NULL,
        created_at  TEXT COLLATE "C" NOT NULL,
        expires_at  TEXT COLLATE "C" NOT NULL
      );
      CREATE INDEX cost_reservations_expires ON cost_reservations (expires_at);
      CREATE TABLE cost_alerts (
        key          TEXT COLLATE "C" NOT NULL,
        period_start TEXT COLLATE "C" NOT NULL,
        threshold    DOUBLE PRECISION NOT NULL,
        time         TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (key, period_start, threshold)
      );
    `,
  },
  {
    version: 4,
    name: 'agent registry',
    sql: `
      CREATE TABLE agents (
        id                  TEXT COLLATE "C" PRIMARY KEY,
        kind                TEXT COLLATE "C" NOT NULL,
        name                TEXT COLLATE "C" NOT NULL,
        framework           TEXT COLLATE "C" NOT NULL,
        location            TEXT COLLATE "C",
        status              TEXT COLLATE "C" NOT NULL,
        risk                TEXT COLLATE "C" NOT NULL,
        source              TEXT COLLATE "C" NOT NULL,
        first_seen          TEXT COLLATE "C" NOT NULL,
        last_seen           TEXT COLLATE "C" NOT NULL,
        details             TEXT COLLATE "C" NOT NULL,
        notes               TEXT COLLATE "C" NOT NULL,
        registered_agent_id TEXT COLLATE "C",
        deregistered_at     TEXT COLLATE "C",
        gone_at             TEXT COLLATE "C"
      );
      CREATE INDEX agents_last_seen ON agents (last_seen);
    `,
  },
  {
    version: 5,
    name: 'approvals and their deliveries',
    sql: `
      CREATE TABLE approvals (
        id           TEXT COLLATE "C" PRIMARY KEY,
        decision_id  TEXT COLLATE "C" NOT NULL UNIQUE,
        action_hash  TEXT COLLATE "C" NOT NULL,
        agent_id     TEXT COLLATE "C",
        action       TEXT COLLATE "C" NOT NULL,
        rules        TEXT COLLATE "C" NOT NULL,
        reason       TEXT COLLATE "C" NOT NULL,
        requested_at TEXT COLLATE "C" NOT NULL,
        expires_at   TEXT COLLATE "C" NOT NULL,
        escalate_at  TEXT COLLATE "C",
        approvers    TEXT COLLATE "C" NOT NULL,
        escalate_to  TEXT COLLATE "C" NOT NULL,
        escalated_at TEXT COLLATE "C",
        status       TEXT COLLATE "C" NOT NULL,
        decided_at   TEXT COLLATE "C",
        decided_by   TEXT COLLATE "C",
        comment      TEXT COLLATE "C",
        consumed_at  TEXT COLLATE "C"
      );
      CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
      CREATE INDEX approvals_requested ON approvals (requested_at);
      CREATE TABLE approval_deliveries (
        id              TEXT COLLATE "C" PRIMARY KEY,
        approval_id     TEXT COLLATE "C" NOT NULL,
        channel         TEXT COLLATE "C" NOT NULL,
        event           TEXT COLLATE "C" NOT NULL,
        change          TEXT COLLATE "C" NOT NULL,
        status          TEXT COLLATE "C" NOT NULL,
        attempts        INTEGER NOT NULL,
        created_at      TEXT COLLATE "C" NOT NULL,
        next_attempt_at TEXT COLLATE "C" NOT NULL,
        lease_until     TEXT COLLATE "C",
        last_attempt_at TEXT COLLATE "C",
        last_status     INTEGER,
        last_error      TEXT COLLATE "C",
        delivered_at    TEXT COLLATE "C"
      );
      CREATE INDEX approval_deliveries_due ON approval_deliveries (status, next_attempt_at);
      CREATE INDEX approval_deliveries_approval ON approval_deliveries (approval_id, created_at);
    `,
  },
  {
    version: 6,
    name: 'mcp pins and session taint',
    sql: `
      CREATE TABLE mcp_servers (
        server          TEXT COLLATE "C" PRIMARY KEY,
        first_listed_at TEXT COLLATE "C" NOT NULL,
        first_session   TEXT COLLATE "C"
      );
      CREATE TABLE mcp_pins (
        server          TEXT COLLATE "C" NOT NULL,
        tool            TEXT COLLATE "C" NOT NULL,
        pinned_hash     TEXT COLLATE "C",
        pinned_at       TEXT COLLATE "C",
        pinned_by       TEXT COLLATE "C",
        seen_hash       TEXT COLLATE "C" NOT NULL,
        seen_at         TEXT COLLATE "C" NOT NULL,
        seen_definition TEXT COLLATE "C" NOT NULL,
        flags           TEXT COLLATE "C" NOT NULL DEFAULT '[]',
        PRIMARY KEY (server, tool)
      );
      CREATE TABLE session_taint (
        seq         BIGSERIAL PRIMARY KEY,
        session_id  TEXT COLLATE "C" NOT NULL,
        source      TEXT COLLATE "C" NOT NULL,
        kind        TEXT COLLATE "C" NOT NULL,
        reason      TEXT COLLATE "C" NOT NULL,
        at          TEXT COLLATE "C" NOT NULL,
        decision_id TEXT COLLATE "C"
      );
      CREATE INDEX session_taint_session ON session_taint (session_id, seq);
    `,
  },
  {
    version: 7,
    name: 'rate limits',
    sql: `
      -- One row per slot of a rule's rate limit that an allowed decision took (see SQLite migration 13).
      CREATE TABLE rate_slots (
        seq         BIGSERIAL PRIMARY KEY,
        counter     TEXT COLLATE "C" NOT NULL,
        at_ms       BIGINT NOT NULL,
        decision_id TEXT COLLATE "C" NOT NULL
      );
      CREATE INDEX rate_slots_counter ON rate_slots (counter, at_ms);
      CREATE INDEX rate_slots_decision ON rate_slots (decision_id);
    `,
  },
  {
    version: 8,
    name: 'policy versions',
    sql: `
      -- Policies pushed to the fleet (agentguard policy push / rollback): append-only; the newest row is in force.
      -- document is the composed policy as canonical JSON, hash its sha256 (the hash every decision records).
      CREATE TABLE policy_versions (
        version     BIGSERIAL PRIMARY KEY,
        hash        TEXT COLLATE "C" NOT NULL,
        name        TEXT COLLATE "C" NOT NULL,
        document    TEXT COLLATE "C" NOT NULL,
        action      TEXT COLLATE "C" NOT NULL,   -- push | rollback
        of_version  BIGINT,                      -- rollback: the version brought back
        pushed_by   TEXT COLLATE "C" NOT NULL,
        pushed_at   TEXT COLLATE "C" NOT NULL,
        source      TEXT COLLATE "C",            -- the file it was pushed from, for people
        note        TEXT COLLATE "C"
      );
    `,
  },
  {
    version: 9,
    name: 'audit append in one statement',
    // What PostgresAuditStore's append runs as one autocommit statement once it knows its chain's head (see there).
    // It takes the chain's advisory lock (the key of LOCK_CHAIN in postgres/audit-store.ts, so it serialises with the
    // transaction path and with checkpoint writers of every process), then reads the head and the latest checkpoint.
    // Those reads see every commit made before the lock was granted: under READ COMMITTED a VOLATILE function "obtains
    // a fresh snapshot at the start of each query" it runs (PostgreSQL 15-17 docs, "Function Volatility Categories",
    // https://www.postgresql.org/docs/current/xfunc-volatility.html), not the snapshot of the SELECT that called it.
    // The rows, hashed by the caller from the head and checkpoint it expects, go in only if both are still those;
    // otherwise nothing is written and the caller gets the current head and latest checkpoint to hash from again.
    sql: `
      CREATE FUNCTION agentguard_audit_append(
        p_chain TEXT, p_head_seq BIGINT, p_head_hash TEXT, p_checkpoint_id BIGINT,
        p_seqs BIGINT[], p_times TEXT[], p_types TEXT[], p_agent_ids TEXT[], p_decision_ids TEXT[], p_effects TEXT[],
        p_rules TEXT[], p_data TEXT[], p_prev_hashes TEXT[], p_hashes TEXT[]
      ) RETURNS TABLE (
        appended BOOLEAN, head_seq BIGINT, head_hash TEXT, cp_id BIGINT, cp_seq BIGINT, cp_hash TEXT, cp_time TEXT,
        cp_key_id TEXT, cp_signature TEXT, cp_n BIGINT, cp_prev TEXT, cp_interval_ms BIGINT, cp_reason TEXT
      ) LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtextextended('agentguard.audit.' || p_chain, 0));
        SELECT r.seq, r.hash INTO head_seq, head_hash
          FROM audit_records r WHERE r.chain = p_chain ORDER BY r.seq DESC LIMIT 1;
        SELECT c.id, c.seq, c.hash, c.time, c.key_id, c.signature, c.n, c.prev, c.interval_ms, c.reason
          INTO cp_id, cp_seq, cp_hash, cp_time, cp_key_id, cp_signature, cp_n, cp_prev, cp_interval_ms, cp_reason
          FROM audit_checkpoints c WHERE c.chain = p_chain ORDER BY c.id DESC LIMIT 1;
        appended := COALESCE(
          COALESCE(head_seq, 0) = p_head_seq AND COALESCE(head_hash, repeat('0', 64)) = p_head_hash
            AND COALESCE(cp_id, 0) = p_checkpoint_id AND p_seqs[1] = p_head_seq + 1 AND p_prev_hashes[1] = p_head_hash,
          false);
        IF appended THEN
          INSERT INTO audit_records (chain, seq, time, type, agent_id, decision_id, effect, rules, data, prev_hash, hash)
            SELECT p_chain, * FROM unnest(p_seqs, p_times, p_types, p_agent_ids, p_decision_ids, p_effects, p_rules, p_data, p_prev_hashes, p_hashes);
        END IF;
        RETURN NEXT;
      END
      $fn$;
    `,
  },
  {
    version: 10,
    name: 'signed policy versions',
    sql: `
      -- A push or rollback signed with a policy signing key (agentguard policy push --sign-key): the Ed25519 signature
      -- (base64) of the canonical JSON of {hash, name, action, ofVersion, pushedBy, pushedAt}, and the key's id
      -- (sha256:<hex of its DER public key>). Both NULL for an unsigned version.
      ALTER TABLE policy_versions ADD COLUMN signature TEXT COLLATE "C", ADD COLUMN signature_key_id TEXT COLLATE "C";
    `,
  },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** What a migration run did. */
export interface MigrateReport {
  from: number;
  to: number;
  applied: Array<{ version: number; name: string }>;
}

/** The schema version of the database (0 when it has none of agentguard's tables). */
export async function schemaVersion(db: PgDatabase): Promise<number> {
  const rows = await db.query<{ v: number | null }>(
    "SELECT CASE WHEN to_regclass('agentguard_migrations') IS NULL THEN 0 ELSE (SELECT COALESCE(max(version), 0) FROM agentguard_migrations) END AS v",
  );
  return Number(rows[0]?.v ?? 0);
}

/** Brings the database up to PG_SCHEMA_VERSION under an advisory lock; refuses a database written by a newer agentguard. */
export async function migratePostgres(db: PgDatabase, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<MigrateReport> {
  let client;
  try {
    client = await db.pool.connect();
  } catch (error) {
    throw db.wrap(error);
  }
  const latest = migrations[migrations.length - 1].version;
  let broken = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS agentguard_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const current = Number((await client.query<{ v: number }>('SELECT COALESCE(max(version), 0) AS v FROM agentguard_migrations')).rows[0].v);
      if (current > latest) {
        throw new AgentGuardError('STORE_TOO_NEW', `${db.location} was written by a newer agentguard (schema version ${current}; this version knows up to ${latest})`, {
          actions: ['Upgrade agentguard (`npm install agentguard@latest`) on every instance that uses this database.'],
        });
      }
      const applied: MigrateReport['applied'] = [];
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO agentguard_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, new Date().toISOString()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw new AgentGuardError('STORE_MIGRATION_FAILED', `${db.location}: migration ${m.version} (${m.name}) failed: ${db.redact((error as Error).message)}`);
        }
        applied.push({ version: m.version, name: m.name });
      }
      return { from: current, to: Math.max(current, latest), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK]).catch(() => {});
    }
  } catch (error) {
    broken = true;
    throw db.wrap(error);
  } finally {
    client.off('error', onError);
    // A connection that failed may still hold the session lock: destroy it rather than return it to the pool.
    client.release(broken ? true : undefined);
  }
}

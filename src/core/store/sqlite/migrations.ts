import type { Database } from 'better-sqlite3';
import { AgentGuardError } from '../../errors.js';

/**
 * Versioned schema migrations, tracked in `PRAGMA user_version`. Each migration runs in its own `BEGIN IMMEDIATE`
 * transaction that re-reads the version first, so two processes opening a new database at once migrate it once.
 * Append new migrations at the end; never edit one that has shipped.
 */

/** `PRAGMA application_id` of agentguard databases ("AGRD"), so a foreign SQLite file is refused, not altered. */
export const APPLICATION_ID = 0x41475244;

/** One schema step: `sql` takes the database from `version - 1` to `version`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The 15-minute UTC bucket of an ISO time column, as text: `2026-03-01T12:45:00.000Z`. */
const quarterOf = (t: string) => `substr(${t}, 1, 14) || printf('%02d', CAST(substr(${t}, 15, 2) AS INTEGER) / 15 * 15) || ':00.000Z'`;
/** The scope values a ledger row counts under ('' for global; NULL ones are skipped). */
const scopesOf = (row: string) =>
  `SELECT 'global' AS scope, '' AS value UNION ALL SELECT 'agent', ${row}.agent_id UNION ALL SELECT 'project', ${row}.project
   UNION ALL SELECT 'user', ${row}.user_id UNION ALL SELECT 'session', ${row}.session_id`;
const addTotals = (row: string) => `
        INSERT INTO cost_totals (scope, value, grain, bucket, cost_nano)
          SELECT s.scope, s.value, g.grain, CASE g.grain WHEN 'q' THEN ${quarterOf(`${row}.time`)} WHEN 'd' THEN substr(${row}.time, 1, 10) ELSE '' END, ${row}.cost_nano
          FROM (${scopesOf(row)}) AS s, (SELECT 'q' AS grain UNION ALL SELECT 'd' UNION ALL SELECT 't') AS g
          WHERE s.value IS NOT NULL
          ON CONFLICT (scope, value, grain, bucket) DO UPDATE SET cost_nano = cost_nano + excluded.cost_nano;`;
const subtractTotals = (row: string) => `
        UPDATE cost_totals SET cost_nano = cost_nano - ${row}.cost_nano
          WHERE ((grain = 'q' AND bucket = ${quarterOf(`${row}.time`)}) OR (grain = 'd' AND bucket = substr(${row}.time, 1, 10)) OR (grain = 't' AND bucket = ''))
            AND ((scope = 'global' AND value = '') OR (scope = 'agent' AND value = ${row}.agent_id) OR (scope = 'project' AND value = ${row}.project)
                 OR (scope = 'user' AND value = ${row}.user_id) OR (scope = 'session' AND value = ${row}.session_id));`;

/**
 * Committed spend per scope value in three grains, kept by triggers on cost_ledger so that a budget check reads a few
 * hundred rows at most instead of every call of the period: `q` 15-minute UTC buckets, `d` UTC days (`2026-03-01`),
 * `t` all time (bucket ''). Every current time zone's offset is a multiple of 15 minutes, so local midnights fall on
 * bucket edges; the store reads the ledger itself for any part of a period that does not. value is '' for global.
 */
const COST_TOTALS_SQL = `
      CREATE TABLE cost_totals (
        scope     TEXT NOT NULL,
        value     TEXT NOT NULL,
        grain     TEXT NOT NULL,
        bucket    TEXT NOT NULL,
        cost_nano INTEGER NOT NULL,
        PRIMARY KEY (scope, value, grain, bucket)
      ) WITHOUT ROWID;
      CREATE TRIGGER cost_ledger_totals_insert AFTER INSERT ON cost_ledger BEGIN${addTotals('NEW')}
      END;
      CREATE TRIGGER cost_ledger_totals_delete AFTER DELETE ON cost_ledger BEGIN${subtractTotals('OLD')}
      END;
      CREATE TRIGGER cost_ledger_totals_update AFTER UPDATE OF time, agent_id, project, user_id, session_id, cost_nano ON cost_ledger BEGIN${subtractTotals('OLD')}${addTotals('NEW')}
      END;`;

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit records and checkpoints',
    sql: `
      CREATE TABLE audit_records (
        seq         INTEGER PRIMARY KEY,
        time        TEXT NOT NULL,
        type        TEXT NOT NULL,
        agent_id    TEXT,
        decision_id TEXT,
        effect      TEXT,
        rules       TEXT NOT NULL,  -- canonical JSON array of rule ids
        data        TEXT NOT NULL,  -- canonical JSON object
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
      );
      -- Indexes for the query filters whose values arrive in order, so appends touch only the last pages of each.
      -- No index on decision_id: decision ids are random, and such an index halved append throughput (every
      -- insert dirties a random page); lookups by decision id scan, narrowed by time when given.
      CREATE INDEX audit_records_time ON audit_records (time);
      CREATE INDEX audit_records_agent ON audit_records (agent_id, seq);
      CREATE INDEX audit_records_effect ON audit_records (effect, seq);
      CREATE TABLE audit_checkpoints (
        id        INTEGER PRIMARY KEY,
        seq       INTEGER NOT NULL,
        hash      TEXT NOT NULL,
        time      TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        signature TEXT NOT NULL
      );
      CREATE INDEX audit_checkpoints_seq ON audit_checkpoints (seq);
    `,
  },
  {
    version: 2,
    name: 'api tokens',
    sql: `
      -- Bearer tokens of the sidecar. Only the SHA-256 of a token is stored, never the token itself.
      CREATE TABLE api_tokens (
        id           TEXT PRIMARY KEY,      -- public id, tok_<12 hex>
        hash         TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the token; UNIQUE is the lookup index
        scope        TEXT NOT NULL,         -- 'admin' or 'agent:<agent id>'
        name         TEXT,
        created_at   TEXT NOT NULL,
        last_used_at TEXT,                  -- updated at most once a minute per token
        revoked_at   TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'cost ledger, budget reservations and alerts',
    sql: `
      -- One row per priced call. Money is integer nano-dollars (1e-9 USD); times are ISO 8601 UTC with milliseconds
      -- (Date.toISOString), so text comparison is time order.
      CREATE TABLE cost_ledger (
        id                    INTEGER PRIMARY KEY,
        time                  TEXT NOT NULL,
        decision_id           TEXT NOT NULL UNIQUE,  -- settling a call twice writes one row
        agent_id              TEXT,
        project               TEXT,
        user_id               TEXT,
        session_id            TEXT,
        provider              TEXT NOT NULL,
        model                 TEXT NOT NULL,
        input_tokens          INTEGER NOT NULL,
        output_tokens         INTEGER NOT NULL,
        cache_read_tokens     INTEGER NOT NULL,
        cache_write_tokens    INTEGER NOT NULL,
        cache_write_1h_tokens INTEGER,
        reasoning_tokens      INTEGER,
        cost_nano             INTEGER NOT NULL,
        estimated             INTEGER NOT NULL,      -- 0 or 1
        priced                TEXT NOT NULL          -- override | exact | base | fallback | unpriced
      );
      CREATE INDEX cost_ledger_time ON cost_ledger (time);
      CREATE INDEX cost_ledger_agent ON cost_ledger (agent_id, time);
${COST_TOTALS_SQL}
      -- Budget reservations of calls in flight; replaced by a ledger row when the call settles, ignored once expired.
      CREATE TABLE cost_reservations (
        id          TEXT PRIMARY KEY,                -- res_<24 hex>
        decision_id TEXT NOT NULL UNIQUE,
        agent_id    TEXT,
        project     TEXT,
        user_id     TEXT,
        session_id  TEXT,
        amount_nano INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL
      );
      CREATE INDEX cost_reservations_expires ON cost_reservations (expires_at);
      -- Alert thresholds already crossed, so each is sent once per budget period.
      CREATE TABLE cost_alerts (
        key          TEXT NOT NULL,
        period_start TEXT NOT NULL,
        threshold    REAL NOT NULL,
        time         TEXT NOT NULL,
        PRIMARY KEY (key, period_start, threshold)
      );
    `,
  },
  {
    version: 4,
    name: 'agent registry',
    sql: `
      -- Agents found by \`agentguard scan\` (id = the finding id) and registered by hand (id = 'agent:<name>').
      -- Times are ISO 8601 UTC with milliseconds, so text comparison is time order.
      CREATE TABLE agents (
        id                  TEXT PRIMARY KEY,
        kind                TEXT NOT NULL,   -- a scan finding kind, or 'agent' for a registered one
        name                TEXT NOT NULL,
        framework           TEXT NOT NULL,   -- JSON array of {name, version}
        location            TEXT,
        status              TEXT NOT NULL,   -- secured | unsecured | unknown
        risk                TEXT NOT NULL,   -- high | medium | low | info
        source              TEXT NOT NULL,   -- scan | registered
        first_seen          TEXT NOT NULL,
        last_seen           TEXT NOT NULL,
        details             TEXT NOT NULL,   -- JSON object
        notes               TEXT NOT NULL,   -- JSON array of strings
        registered_agent_id TEXT,            -- the agentguard agent id it runs as
        deregistered_at     TEXT
      );
      CREATE INDEX agents_last_seen ON agents (last_seen);
    `,
  },
  {
    version: 5,
    name: 'approvals',
    sql: `
      -- Human approvals of require_approval decisions (src/core/approvals). Times are ISO 8601 UTC with milliseconds,
      -- so text comparison is time order. Status moves only from 'pending', in BEGIN IMMEDIATE transactions.
      CREATE TABLE approvals (
        id           TEXT PRIMARY KEY,      -- apr_<32 hex>
        decision_id  TEXT NOT NULL UNIQUE,  -- one approval per decision: a retry finds the earlier one
        action_hash  TEXT NOT NULL,         -- hex SHA-256 of the canonical action, agent included
        agent_id     TEXT,
        action       TEXT NOT NULL,         -- JSON, secrets masked
        rules        TEXT NOT NULL,         -- JSON array of rule ids
        reason       TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        escalate_at  TEXT,
        approvers    TEXT NOT NULL,         -- JSON array of strings
        escalate_to  TEXT NOT NULL,         -- JSON array of strings
        escalated_at TEXT,
        status       TEXT NOT NULL,         -- pending | approved | denied | expired | cancelled
        decided_at   TEXT,
        decided_by   TEXT,
        comment      TEXT,
        consumed_at  TEXT                   -- when the approved action ran (once)
      );
      CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
      CREATE INDEX approvals_requested ON approvals (requested_at);
    `,
  },
  {
    version: 6,
    name: 'approval-deliveries',
    sql: `
      -- The approval notification outbox (src/core/approvals/deliveries.ts): one row per change and channel, retried
      -- until delivered or failed, never deleted.
      CREATE TABLE approval_deliveries (
        id              TEXT PRIMARY KEY,      -- dlv_<32 hex>
        approval_id     TEXT NOT NULL,
        channel         TEXT NOT NULL,         -- the channel's name in the config
        event           TEXT NOT NULL,         -- requested | escalated | approved | denied | expired | cancelled | consumed
        change          TEXT NOT NULL,         -- JSON { event, approval } as it was, secrets masked
        status          TEXT NOT NULL,         -- pending | delivered | failed
        attempts        INTEGER NOT NULL,
        created_at      TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        lease_until     TEXT,                  -- a deliverer holds the row until then
        last_attempt_at TEXT,
        last_status     INTEGER,
        last_error      TEXT,
        delivered_at    TEXT
      );
      CREATE INDEX approval_deliveries_due ON approval_deliveries (status, next_attempt_at);
      CREATE INDEX approval_deliveries_approval ON approval_deliveries (approval_id, created_at);
    `,
  },
  {
    version: 7,
    name: 'linked audit checkpoints',
    sql: `
      -- Linked checkpoints (src/core/audit/checkpoint.ts): their number, the hash of the one before, the signer's
      -- interval and why each was signed, all covered by the signature. NULL in the rows of legacy checkpoints.
      ALTER TABLE audit_checkpoints ADD COLUMN n INTEGER;
      ALTER TABLE audit_checkpoints ADD COLUMN prev TEXT;
      ALTER TABLE audit_checkpoints ADD COLUMN interval_ms INTEGER;
      ALTER TABLE audit_checkpoints ADD COLUMN reason TEXT;
      CREATE INDEX audit_checkpoints_n ON audit_checkpoints (n);
    `,
  },
  {
    version: 8,
    name: 'token attributes',
    sql: `
      -- What an agent token vouches for (src/core/tokens/attributes.ts): a JSON object of agent.<name> / context.<name>
      -- strings the sidecar fills into that agent's actions and refuses to see changed. NULL: none.
      ALTER TABLE api_tokens ADD COLUMN attributes TEXT;
    `,
  },
  {
    version: 9,
    name: 'agents gone',
    sql: `
      -- When a scan that listed every process no longer found a process it had found (src/core/agents/registry.ts):
      -- gone entries are kept but neither listed nor counted. NULL: present.
      ALTER TABLE agents ADD COLUMN gone_at TEXT;
    `,
  },
  {
    version: 10,
    name: 'mcp pins',
    sql: `
      -- MCP servers whose tools were listed through the gateway (src/core/mcp-pins/types.ts): the first listing pins.
      CREATE TABLE mcp_servers (
        server TEXT PRIMARY KEY,
        first_listed_at TEXT NOT NULL
      );
      -- One row per tool: the pinned definition's hash (NULL: never pinned) and the definition seen last, with flags
      -- (a JSON list of {type, message}) found in it.
      CREATE TABLE mcp_pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        pinned_hash TEXT,
        pinned_at TEXT,
        pinned_by TEXT,
        seen_hash TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        seen_definition TEXT NOT NULL,
        flags TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (server, tool)
      );
    `,
  },
  {
    version: 11,
    name: 'mcp pins first session',
    sql: `
      -- The gateway session that made a server's first listing: every page of tools/list it gets (pagination) belongs to
      -- that first listing. NULL for servers first listed before this column existed.
      ALTER TABLE mcp_servers ADD COLUMN first_session TEXT;
    `,
  },
  {
    version: 12,
    name: 'session taint',
    sql: `
      -- What tainted each agent session (an injection in a result it read, an untrusted source). Append-only: taint is
      -- never cleared, so later actions of the session carry it.
      CREATE TABLE session_taint (
        seq         INTEGER PRIMARY KEY,
        session_id  TEXT NOT NULL,
        source      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        reason      TEXT NOT NULL,
        at          TEXT NOT NULL,
        decision_id TEXT
      );
      CREATE INDEX session_taint_session ON session_taint (session_id, seq);
    `,
  },
  {
    version: 13,
    name: 'rate limits',
    sql: `
      -- One row per slot of a rule's rate limit that an allowed decision took. counter is a hash of the rule id, its
      -- window and the key values (the values are not stored). Rows older than their window are deleted as it is read.
      CREATE TABLE rate_slots (
        seq         INTEGER PRIMARY KEY,
        counter     TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        decision_id TEXT NOT NULL
      );
      CREATE INDEX rate_slots_counter ON rate_slots (counter, at_ms);
      CREATE INDEX rate_slots_decision ON rate_slots (decision_id);
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Brings the database at `location` up to SCHEMA_VERSION; refuses databases that are foreign or newer. */
export function migrate(db: Database, location: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1].version;
  checkCompatible(db, location, latest);
  for (const migration of migrations) {
    if (userVersion(db) >= migration.version) continue;
    db.transaction(() => {
      const current = userVersion(db);
      if (current >= migration.version) return; // another process got here first
      if (current !== migration.version - 1) {
        throw new AgentGuardError('STORE_MIGRATION_FAILED', `${location}: schema version ${current} cannot be migrated to ${migration.version} (missing step)`);
      }
      db.exec(migration.sql);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

function checkCompatible(db: Database, location: string, latest: number): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = userVersion(db);
  const hasTables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n > 0;
  if ((appId !== 0 && appId !== APPLICATION_ID) || (appId === 0 && hasTables)) {
    throw new AgentGuardError('STORE_FOREIGN', `${location} is an SQLite database, but not an agentguard one; refusing to change it`, {
      actions: ['Point agentguard at another data folder (--data-dir, or "dataDir" in agentguard.config.json), or move the file away.'],
    });
  }
  if (version > latest) {
    throw new AgentGuardError('STORE_TOO_NEW', `${location} was written by a newer agentguard (schema version ${version}; this version knows up to ${latest})`, {
      actions: ['Upgrade agentguard (`npm install agentguard@latest`) everywhere that uses this data folder.'],
    });
  }
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

import type { Client } from 'pg';
import { AuditWriterThread } from '../audit-writer-thread.js';
import type { AuditQuery, AuditRecord } from '../../audit/types.js';
import type { Store, StoreChange } from '../store.js';
import { PostgresAgentStore } from './agent-store.js';
import { PostgresApprovalStore } from './approval-store.js';
import { listChains, PostgresAuditStore, queryRecords, recordPages, type ChainInfo } from './audit-store.js';
import { PgDatabase } from './connection.js';
import { PostgresCostStore } from './cost-store.js';
import { PostgresDeliveryStore } from './delivery-store.js';
import { PostgresMcpPinStore } from './mcp-pin-store.js';
import { migratePostgres, type MigrateReport } from './migrations.js';
import { PostgresPolicyStore } from './policy-store.js';
import { PostgresRateLimitStore } from './rate-limit-store.js';
import { PostgresSessionTaintStore } from './session-taint-store.js';
import { PostgresTokenStore } from './token-store.js';

/** The NOTIFY channel on which instances tell each other what changed (payload `<kind>:<id>`). */
export const CHANGE_CHANNEL = 'agentguard_changes';

export interface PostgresStoreOptions {
  /** This instance's audit chain (see PostgresAuditStore). */
  chain: string;
  /** Bring the schema up to date on open (default true; `store migrate` does it explicitly). */
  migrate?: boolean;
  /** Most connections in the pool (default 10). */
  maxConnections?: number;
  /** Append audit entries from a worker thread with its own connection (default false; see AuditWriterThread). */
  auditWriterThread?: boolean;
}

/**
 * The PostgreSQL implementation of Store, for fleets: every instance (sidecar, CLI, SDK) pointed at the same database
 * shares tokens, approvals, budgets, pins and session taint; each appends to its own audit chain.
 *
 * What is shared live: changes commit in PostgreSQL and every instance reads them there (nothing is cached beyond the
 * sidecar's 1 s token cache); revocations, approval decisions and pushed policies are also announced with NOTIFY on
 * CHANGE_CHANNEL, so listeners (onChange) act on them at once instead of at their next read.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly audit: PostgresAuditStore;
  readonly tokens: PostgresTokenStore;
  readonly cost: PostgresCostStore;
  readonly agents: PostgresAgentStore;
  readonly approvals: PostgresApprovalStore;
  readonly deliveries: PostgresDeliveryStore;
  readonly mcpPins: PostgresMcpPinStore;
  readonly sessionTaint: PostgresSessionTaintStore;
  readonly rateLimits: PostgresRateLimitStore;
  readonly policies: PostgresPolicyStore;
  readonly location: string;
  /** The database without the chain, for messages. */
  readonly database: string;
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private listener: Client | null = null;
  private listening: Promise<void> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    readonly db: PgDatabase,
    readonly chain: string,
    private readonly writer: AuditWriterThread | null = null,
  ) {
    this.database = db.location;
    this.location = `${db.location}#${chain}`;
    const notify = (kind: string, id: string) => this.notify(kind, id);
    this.audit = new PostgresAuditStore(db, chain, () => this.writer);
    this.tokens = new PostgresTokenStore(db, notify);
    this.cost = new PostgresCostStore(db);
    this.agents = new PostgresAgentStore(db);
    this.approvals = new PostgresApprovalStore(db, notify);
    this.deliveries = new PostgresDeliveryStore(db);
    this.mcpPins = new PostgresMcpPinStore(db);
    this.sessionTaint = new PostgresSessionTaintStore(db);
    this.rateLimits = new PostgresRateLimitStore(db);
    this.policies = new PostgresPolicyStore(db, notify);
  }

  /** Connects (pg is imported here, on first use) and, by default, migrates. */
  static async open(url: string, options: PostgresStoreOptions): Promise<PostgresStore> {
    const db = await PgDatabase.connect(url, { max: options.maxConnections });
    try {
      if (options.migrate ?? true) await migratePostgres(db);
      const writer = options.auditWriterThread ? AuditWriterThread.start({ store: 'postgres', url, chain: options.chain }) : null;
      return new PostgresStore(db, options.chain, writer);
    } catch (error) {
      await db.end().catch(() => {});
      throw error;
    }
  }

  /** Applies pending migrations (what `agentguard store migrate` runs). */
  migrate(): Promise<MigrateReport> {
    return migratePostgres(this.db);
  }

  /** Resolves when the database answers; rejects with STORE_UNAVAILABLE when it does not (the sidecar's /readyz). */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Every audit chain in the database (one per instance that wrote), with its signer. */
  auditChains(): Promise<ChainInfo[]> {
    return listChains(this.db);
  }

  /** The audit log of one chain (to verify it or read it). */
  auditChain(chain: string): PostgresAuditStore {
    return chain === this.chain ? this.audit : new PostgresAuditStore(this.db, chain);
  }

  /** Records of every chain matching a filter, merged by time (`audit query` / `audit export` on a fleet). */
  queryAllChains(filter: AuditQuery): Promise<AuditRecord[]> {
    return queryRecords(this.db, filter, null);
  }

  /** The same, every matching record one page at a time (no limit): `audit export` of a fleet of any size. */
  async *scanAllChains(filter: AuditQuery): AsyncIterable<AuditRecord> {
    for await (const page of recordPages(this.db, filter, null)) yield* page;
  }

  /**
   * Calls `listener` for every change another instance (or this one) announces. Returns a function that stops. The
   * LISTEN connection is opened on first use and reopened after the database comes back.
   */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    void this.listen();
    return () => this.listeners.delete(listener);
  }

  /** Announces a change to every instance listening (best effort: readers see the committed row regardless). */
  async notify(kind: string, id: string): Promise<void> {
    await this.db.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, `${kind}:${id}`]).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.listeners.clear();
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
    try {
      await this.writer?.stop();
    } finally {
      await this.db.end();
    }
  }

  private listen(): Promise<void> {
    if (this.closed || this.listener || this.listening) return this.listening ?? Promise.resolve();
    this.listening = (async () => {
      try {
        const client = await this.db.dedicatedClient();
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        client.on('notification', (message) => {
          if (message.channel !== CHANGE_CHANNEL || !message.payload) return;
          const at = message.payload.indexOf(':');
          const change: StoreChange = { kind: message.payload.slice(0, at), id: message.payload.slice(at + 1) };
          for (const l of this.listeners) l(change);
        });
        const reconnect = () => {
          if (this.listener !== client) return;
          this.listener = null;
          // Changes announced while disconnected were missed: listeners re-read everything they cache.
          for (const l of this.listeners) l({ kind: 'reconnected', id: '' });
          this.scheduleListen();
        };
        client.on('error', reconnect);
        client.on('end', reconnect);
        await client.query(`LISTEN ${CHANGE_CHANNEL}`);
        this.listener = client;
      } catch {
        this.scheduleListen();
      } finally {
        this.listening = null;
      }
    })();
    return this.listening;
  }

  private scheduleListen(): void {
    if (this.closed || this.retry || this.listeners.size === 0) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.listen();
    }, 500);
    this.retry.unref();
  }
}

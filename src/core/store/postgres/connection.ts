import type { Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';
import { AgentGuardError } from '../../errors.js';

/** URL schemes that select the PostgreSQL store. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * A connection URL as messages, logs and the audit trail may show it: user, host, port and database, never the
 * password or query parameters (which can carry one too, e.g. `?password=`).
 */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? u.hostname;
    const port = u.port ? `:${u.port}` : '';
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `postgresql://${user}${host.startsWith('/') ? `[${host}]` : host}${port}${u.pathname}`;
  } catch {
    return 'postgresql://(unparseable URL)';
  }
}

/** Removes a URL's password (and any other copy of the URL) from an error text from pg or the network. */
export function redactUrl(text: string, url: string): string {
  let out = text.split(url).join(describePostgresUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) out = out.split(password).join('***');
  } catch {
    // an unparseable URL has no password we could find; it was replaced whole above
  }
  return out.replace(/(postgres(?:ql)?:\/\/[^:@/\s]*:)[^@\s]*@/gi, '$1***@');
}

/** Error codes of pg and Node that mean the database cannot be reached (as opposed to a bad query). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EPIPE', 'EAI_AGAIN']);

/** True when an error from pg means the store cannot be reached or is shutting down, not that a statement failed. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNREACHABLE.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  const message = (error as Error)?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end/i.test(message);
}

/** The error every store call rejects with while PostgreSQL cannot be reached: code STORE_UNAVAILABLE, no credentials. */
export function unavailableError(location: string, error: unknown, url: string): AgentGuardError {
  const detail = redactUrl((error as Error)?.message ?? String(error), url);
  return new AgentGuardError('STORE_UNAVAILABLE', `the agentguard store ${location} cannot be reached (${detail})`, {
    actions: ['Check that PostgreSQL runs and that the URL (--store, AGENTGUARD_STORE_URL or "store.url" in agentguard.config.json) points at it.'],
  });
}

type PgModule = typeof import('pg');
let pgModule: Promise<PgModule> | undefined;
/** pg is imported only when a postgres URL is configured: SQLite users never load it. */
export function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg').then((m) => ((m as unknown as { default?: PgModule }).default ?? m) as PgModule);
  return pgModule;
}

/**
 * A small wrapper over a pg Pool: every failure to reach the database becomes STORE_UNAVAILABLE with the URL's secrets
 * removed, and every other pg error has them removed too.
 */
export class PgDatabase {
  readonly location: string;
  private constructor(
    readonly pool: Pool,
    private readonly url: string,
  ) {
    this.location = describePostgresUrl(url);
  }

  static async connect(url: string, options: { max?: number } = {}): Promise<PgDatabase> {
    const pg = await loadPg();
    const config: PoolConfig = {
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // int8 (seq, sums of nano-dollars) as text: converted exactly where they are read.
      application_name: 'agentguard',
    };
    const pool = new pg.Pool(config);
    const db = new PgDatabase(pool, url);
    // An idle client losing its connection (the server restarting) must not crash the process.
    pool.on('error', () => {});
    return db;
  }

  /** Runs one statement. */
  async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /** Runs `work` in one transaction on one connection (READ COMMITTED); rolled back when it throws. */
  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.wrap(error);
    }
    let broken = false;
    // A checked-out client whose connection drops emits 'error'; without a listener that would end the process.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const tx: Tx = {
        query: async <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => (await client.query<R>(text, values)).rows,
      };
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw this.wrap(error);
    } finally {
      client.off('error', onError);
      client.release(broken ? true : undefined);
    }
  }

  /** An AgentGuardError as it is, STORE_UNAVAILABLE for a lost connection, anything else with credentials removed. */
  wrap(error: unknown): Error {
    if (error instanceof AgentGuardError) return error;
    if (isUnreachable(error)) return unavailableError(this.location, error, this.url);
    const wrapped = new Error(redactUrl((error as Error)?.message ?? String(error), this.url));
    (wrapped as { code?: unknown }).code = (error as { code?: unknown })?.code;
    return wrapped;
  }

  /** The URL's secrets removed from a text. */
  redact(text: string): string {
    return redactUrl(text, this.url);
  }

  /** A dedicated client (for LISTEN), not from the pool. */
  async dedicatedClient(): Promise<import('pg').Client> {
    const pg = await loadPg();
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, application_name: 'agentguard-listen' });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      throw this.wrap(error);
    }
    return client;
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}

/** The part of a transaction's client the stores use. */
export interface Tx {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
}

/** An int8 column (text from pg) as a number, or a bigint when it is outside the safe integer range. */
export function int8(value: unknown): number | bigint {
  if (typeof value === 'number') return value;
  const big = BigInt(value as string);
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** A column list written for SQLite (`decision_id AS decisionId`) with its aliases quoted, as PostgreSQL keeps their case. */
export function quoteAliases(columns: string): string {
  return columns.replace(/ AS (\w+)/g, ' AS "$1"');
}

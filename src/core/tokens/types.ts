import type { TokenAttributes } from './attributes.js';
import type { TokenScope } from './scope.js';

/** A token as listed: everything except the token itself and its hash. Times are ISO 8601 UTC. */
export interface TokenInfo {
  id: string;
  scope: TokenScope;
  name: string | null;
  createdAt: string;
  /** When the token last authenticated a request, to the minute (updated at most once a minute); null if never. */
  lastUsedAt: string | null;
  /** When the token was revoked; null while it is valid. */
  revokedAt: string | null;
  /** The Action fields the token vouches for (`agent.role`, `context.env`); empty for most tokens. See bindAttributes. */
  attributes: TokenAttributes;
}

/** A token as stored: its info and the SHA-256 of the token text (see hashToken). */
export interface StoredToken extends TokenInfo {
  hash: string;
}

/** What revoking an id found. */
export type RevokeOutcome =
  | { status: 'revoked'; token: TokenInfo }
  | { status: 'already_revoked'; token: TokenInfo }
  | { status: 'not_found' };

/**
 * The API-token part of the store. Only hashes are stored. Async so a PostgreSQL implementation can follow.
 */
export interface TokenStore {
  /** Stores a new token; fails with a constraint error when the id or hash already exists. */
  insert(token: StoredToken): Promise<void>;
  /** The token with this hash (revoked or not), or null. */
  findByHash(hash: string): Promise<StoredToken | null>;
  /** The token with this id, or null. */
  get(id: string): Promise<TokenInfo | null>;
  /** Every token, oldest first. */
  list(): Promise<TokenInfo[]>;
  /** Marks the token revoked at `time` unless it already is (the first revocation time is kept). */
  revoke(id: string, time: string): Promise<RevokeOutcome>;
  /** Sets last-used to `time` only when it is unset or older than `olderThan`; true when it wrote. */
  touch(id: string, time: string, olderThan: string): Promise<boolean>;
}

import type { AgentRegistry } from '../agents/registry.js';
import type { DeliveryStore } from '../approvals/deliveries.js';
import type { ApprovalStore } from '../approvals/types.js';
import type { AuditEntry, AuditQuery, AuditRecord, Checkpoint } from '../audit/types.js';
import type { CostStore } from '../cost/types.js';
import type { McpPinStore } from '../mcp-pins/types.js';
import type { PolicySignature } from '../policy-signing/signature.js';
import type { RateLimitStore } from '../rate/types.js';
import type { SessionTaintStore } from '../sessions/types.js';
import type { TokenStore } from '../tokens/types.js';

/**
 * The audit part of the store. Implementations chain records atomically: two processes appending at once
 * still produce one valid chain. Async so a PostgreSQL implementation can follow for fleets.
 */
export interface AuditStore {
  /**
   * Appends entries in order, chained to the current head, in one transaction; returns them as stored. Durable when it
   * resolves. `alongside` runs inside that transaction after the entries are written, for other writes to this store
   * that must commit with them (a call's ledger row with its outcome); if it throws, nothing is written.
   */
  append(entries: AuditEntry[], alongside?: () => void): Promise<AuditRecord[]>;
  /**
   * True while appends made before earlier ones resolved are still committed one after the other in the order they were
   * made (an audit writer thread, which takes its batches in turn): a recorder may then send a batch without waiting
   * for the one before it. Absent or false: the recorder waits for each append.
   */
  readonly pipelined?: boolean;
  /** The last record's seq and hash, or null for an empty log. */
  head(): Promise<{ seq: number; hash: string } | null>;
  /** Records matching a filter. */
  query(filter: AuditQuery): Promise<AuditRecord[]>;
  /** Every stored row in seq order, as stored (for verification); rows that cannot be parsed are yielded with `raw`. */
  scan(fromSeq?: number): AsyncIterable<AuditRecord | { seq: number; raw: string; error: string }>;
  /**
   * Every stored row in seq order, exactly as stored and unparsed, in pages (for verification, which rebuilds the
   * hashed text from these columns). No column is trusted to have its declared type. Holds no lock or cursor between
   * pages, so the store may be used while iterating.
   */
  rows(options?: { fromSeq?: number | bigint; pageSize?: number }): AsyncIterable<StoredAuditRow[]>;
  /**
   * Verification's fast path, optional: every row in seq order, in pages, as its seq, prevHash and hash columns and the
   * text its hash covers, built by the store. Returns null when this store cannot build that text exactly.
   */
  hashedRows?(options?: { pageSize?: number }): AsyncIterable<HashedAuditRow[]> | null;
  count(): Promise<number>;
  /** Stores a checkpoint as given (a legacy one, or one signed elsewhere). Signers use signHead. */
  addCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /**
   * Signs and stores a checkpoint of the head atomically: no record or checkpoint is written between reading the head
   * and the latest checkpoint and storing the new one. The next append first writes the checkpoint into the chain.
   */
  signHead(sign: SignHead): Promise<Checkpoint | null>;
  /**
   * signHead, synchronously: how a recorder signs its last records when the process exits without closing it (an
   * 'exit' listener cannot wait for a promise). Only stores that write synchronously have it; returns null when the
   * store is closed.
   */
  signHeadSync?(sign: SignHead): Checkpoint | null;
  /** Every stored checkpoint, in seq order. */
  checkpoints(): Promise<Checkpoint[]>;
  /**
   * Records the public key that signs this log's checkpoints, in stores that keep several instances' logs (PostgreSQL:
   * one chain per instance), so every chain can be verified from one place. Stores of one log leave it out.
   */
  registerSigner?(signer: { keyId: string; publicKeyPem: string }): Promise<void>;
}

/** A change announced by an instance sharing the store (PostgreSQL NOTIFY): `tokens`, `approvals`, `policy`, or `reconnected`. */
export interface StoreChange {
  kind: string;
  /** The changed thing's id (a token id, an approval id, a policy version); empty for `reconnected`. */
  id: string;
}

/**
 * Builds the checkpoint of `head` (null for an empty log) linked to `latest`, the latest stored checkpoint; null to
 * store nothing.
 */
export type SignHead = (head: { seq: number; hash: string } | null, latest: Checkpoint | null) => Checkpoint | null;

/**
 * One audit row as stored. `rules` and `data` are the stored canonical JSON text. Values are `unknown` because anyone
 * with write access to the database can put anything in any column; verification checks every one. `seq` is a bigint
 * only when it is outside the safe integer range (which a genuine log never reaches).
 */
export interface StoredAuditRow {
  seq: number | bigint;
  time: unknown;
  type: unknown;
  agentId: unknown;
  decisionId: unknown;
  effect: unknown;
  rules: unknown;
  data: unknown;
  prevHash: unknown;
  hash: unknown;
}

/**
 * One row as verification's fast path reads it: `text` is exactly `canonicalRecordText` of the row's columns as `rows()`
 * returns them, or null when the row needs a closer look: a column without its declared type, a seq outside the safe
 * integer range, text that is not well-formed UTF-8, or a `rules` column that fails `columnsAligned`. Such rows, and
 * rows whose hash or link does not check out, are read again with `rows()`.
 */
export type HashedAuditRow = readonly [seq: number | bigint, prevHash: unknown, hash: unknown, text: string | null];

/** One version of a policy pushed to a fleet's store (see PolicyVersionStore). */
export interface PolicyVersion {
  version: number;
  /** `sha256:…` of the policy document, as every decision made with it records. */
  hash: string;
  name: string;
  /** `push`, or `rollback` to `ofVersion`. */
  action: 'push' | 'rollback';
  ofVersion: number | null;
  pushedBy: string;
  pushedAt: string;
  /** The file it was pushed from, for people. */
  source: string | null;
  note: string | null;
  /** The id (`sha256:…`) of the key that signed this version (`--sign-key`), or null when it is unsigned. */
  signedBy: string | null;
}

/**
 * Policies pushed to a fleet (`agentguard policy push`, `policy rollback`): append-only versions, the newest in force.
 * Instances started with `--policy-from-store` load the current one and switch when another is pushed.
 */
export interface PolicyVersionStore {
  /** Stores a new version (document as canonical JSON, and its hash) and makes it current; announces it to every instance. */
  push(entry: { document: string; hash: string; name: string; pushedBy: string; pushedAt: string; source: string | null; note: string | null; signature?: PolicySignature | null }): Promise<PolicyVersion>;
  /** Makes an earlier version current again, as a new version that says so; null when there is no such version. */
  rollback(version: number, by: { pushedBy: string; pushedAt: string; note: string | null; signature?: PolicySignature | null }): Promise<PolicyVersion | null>;
  /** The version in force, its document and signature, or null when nothing was pushed. */
  current(): Promise<{ version: PolicyVersion; document: string; signature: PolicySignature | null } | null>;
  /** One version, or null when there is none with that number. */
  get(version: number): Promise<PolicyVersion | null>;
  /** Signed versions whose pushedAt is later than `pushedAt`, with their signatures (to refuse a replayed older one). */
  signedAfter(pushedAt: string): Promise<Array<{ version: PolicyVersion; signature: PolicySignature }>>;
  /** Every version, newest first. */
  history(limit?: number): Promise<PolicyVersion[]>;
}

/** One database holding everything agentguard stores. */
export interface Store {
  readonly audit: AuditStore;
  /** The sidecar's API tokens (hashes only). */
  readonly tokens: TokenStore;
  /** The cost ledger, budget reservations and sent alerts. */
  readonly cost: CostStore;
  /** The agent registry: agents found by `agentguard scan` and registered by hand. */
  readonly agents: AgentRegistry;
  /** Human approvals of require_approval decisions. */
  readonly approvals: ApprovalStore;
  /** The outbox of approval notifications (webhook, Slack), with every attempt visible. */
  readonly deliveries: DeliveryStore;
  /** Pins of MCP tool definitions (the gateway's tool-poisoning and rug-pull checks). */
  readonly mcpPins: McpPinStore;
  /** What tainted each agent session (see core/sessions): append-only. */
  readonly sessionTaint: SessionTaintStore;
  /**
   * Slots of the policy's rate limits (`rate` on a rule): `take` must be atomic across every process and host on the
   * store (see core/rate/types.ts and the SQLite implementation, sqlite/rate-limit-store.ts).
   */
  readonly rateLimits: RateLimitStore;
  /** Where the data lives, for messages (a file path, or a connection description without secrets). */
  readonly location: string;
  /** `sqlite` (embedded, the default) or `postgres` (shared by a fleet). */
  readonly kind?: 'sqlite' | 'postgres';
  /** Resolves when the store can be used; rejects (STORE_UNAVAILABLE) when it cannot be reached. Embedded stores leave it out. */
  ping?(): Promise<void>;
  /**
   * Records of every instance's audit chain matching a filter, merged by time (then chain and seq), each with its
   * `chain`: what `audit query` and `audit export` read on a fleet. Stores of one log leave it out.
   */
  queryAllChains?(filter: AuditQuery): Promise<AuditRecord[]>;
  /** The same without a limit, one page at a time (exports of any size). */
  scanAllChains?(filter: AuditQuery): AsyncIterable<AuditRecord>;
  /** Policy versions pushed to a fleet; only stores shared by several instances (PostgreSQL) have them. */
  readonly policies?: PolicyVersionStore;
  /** Every instance's audit chain in a store of several (PostgreSQL), with the key registered for it. Stores of one log leave it out. */
  auditChains?(): Promise<Array<{ chain: string; keyId: string | null; publicKeyPem: string | null; records: number }>>;
  /** The audit log of one of those chains (to verify it). */
  auditChain?(chain: string): AuditStore;
  /** Changes other instances announce, for stores shared by several (see StoreChange); returns a function that stops. */
  onChange?(listener: (change: StoreChange) => void): () => void;
  close(): Promise<void>;
}

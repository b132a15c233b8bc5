import type { Coverage, FindingKind, Risk, ScanFinding } from './finding-types.js';

/** Prefix of the ids of agents registered by hand: `agent:<name>`. */
export const REGISTERED_PREFIX = 'agent:';

/** How an entry got into the registry. */
export type AgentSource = 'scan' | 'registered';

/** A scan finding kind, or `agent` for an agent registered by hand. */
export type AgentKind = FindingKind | 'agent';

export interface AgentFramework {
  name: string;
  version?: string;
}

/** One agent the registry knows about. Times are ISO 8601 UTC. */
export interface AgentEntry {
  /** A scan finding id (stable across scans), or `agent:<name>` for a registered agent. */
  id: string;
  kind: AgentKind;
  name: string;
  frameworks: AgentFramework[];
  location: string | null;
  status: Coverage;
  risk: Risk;
  source: AgentSource;
  firstSeen: string;
  lastSeen: string;
  details: Record<string, unknown>;
  notes: string[];
  /** The agentguard agent id it runs as (`action.agent.id`), when registered with one. */
  registeredAgentId: string | null;
  /** When it was deregistered; deregistered entries are hidden from list and summary but kept. */
  deregisteredAt: string | null;
  /**
   * When a scan that listed every process no longer found it (a process that exited): gone entries are hidden from
   * list and summary but kept. Cleared when a scan finds it again.
   */
  goneAt: string | null;
}

/** Which findings a scan looked for everywhere, so that an entry of these kinds it did not find is gone. */
export interface ScanCoverage {
  /** Kinds whose every instance on this machine the scan would have found (e.g. processes, when all were listed). */
  completeKinds: AgentKind[];
  /** Id prefixes of what the scan could not read (`process:1234:`): not marked gone, since it may still be there. */
  notInspected?: string[];
}

/** What a scan hands to the registry: a finding without its evidence. */
export type ScannedAgent = Pick<ScanFinding, 'id' | 'kind' | 'name' | 'frameworks' | 'location' | 'status' | 'risk' | 'details' | 'notes'>;

/** An agent registered by hand. `framework` may carry a version: `langchain@0.3.1`. */
export interface AgentRegistration {
  name: string;
  agentId?: string;
  framework?: string;
  location?: string;
  status?: Coverage;
}

export interface AgentFilter {
  status?: Coverage;
  /** Include deregistered entries (default false). */
  includeDeregistered?: boolean;
  /** Include entries that are gone, such as processes that exited (default false). */
  includeGone?: boolean;
}

/** Counts over the entries that are neither deregistered nor gone. */
export interface AgentSummary {
  total: number;
  secured: number;
  unsecured: number;
  unknown: number;
  /** secured / (secured + unsecured), between 0 and 1; null when no entry has a known status. */
  coverage: number | null;
}

/**
 * The agent registry part of the store: what `agentguard scan` found and what was registered by hand. Async so a
 * PostgreSQL implementation can follow.
 */
export interface AgentRegistry {
  /**
   * Records one scan's findings in one transaction. New ids are added with first and last seen `seenAt`; known ids
   * keep their first seen, source, registration and deregistration, and take everything else from the finding.
   * Each id is reported once, in input order. With `coverage`, scanned entries of a complete kind that this scan did
   * not find are marked gone (reported in `gone`); an entry found again is no longer gone.
   */
  upsertFromScan(findings: ScannedAgent[], seenAt: string, coverage?: ScanCoverage): Promise<{ added: string[]; updated: string[]; gone: string[] }>;
  /**
   * Registers (or updates) `agent:<name>`. An agentId marks it secured; otherwise `status` when given, else the
   * current status (`unknown` for a new one). Fields not given keep their values. Registering again clears a
   * deregistration.
   */
  register(entry: AgentRegistration, at: string): Promise<AgentEntry>;
  /** Marks an entry deregistered (the first time is kept); false when there is no such entry. */
  deregister(id: string, at: string): Promise<boolean>;
  /** Entries, most recently seen first. */
  list(filter?: AgentFilter): Promise<AgentEntry[]>;
  /** The entry with this id (deregistered or not), or null. */
  get(id: string): Promise<AgentEntry | null>;
  summary(): Promise<AgentSummary>;
}

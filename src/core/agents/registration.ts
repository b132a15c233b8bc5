import { AgentGuardError } from '../errors.js';
import { agentIdProblem } from '../tokens/scope.js';
import { maskText } from './report-mask.js';
import { REGISTERED_PREFIX, type AgentEntry, type AgentFramework, type AgentRegistration, type AgentRegistry, type AgentSummary, type ScannedAgent } from './registry.js';

/** The registry id of an agent registered by hand. */
export function registeredId(name: string): string {
  return `${REGISTERED_PREFIX}${name}`;
}

/**
 * Checks a name or agent id a user typed; a usage error (exit 2) naming the problem. Names follow the rules of agent
 * ids (no surrounding whitespace, no control characters, at most 256 characters) so one can serve as the other.
 */
export function checkAgentName(value: string, what: 'name' | 'agent id'): string {
  const problem = agentIdProblem(value);
  if (problem !== null) {
    throw new AgentGuardError('AGENT_NAME_INVALID', `the ${what} ${JSON.stringify(value.slice(0, 80))} cannot be used: ${problem}`, {
      actions: [what === 'name' ? 'Pick a short name such as support-bot.' : 'Pass the agent id exactly as the agent sends it in `action.agent.id`.'],
    });
  }
  return value;
}

/**
 * `name` or `name@version` as a framework; the `@` of a scoped npm name is not a version separator.
 *
 * @example
 * parseFramework('@mastra/core@0.10.1'); // { name: '@mastra/core', version: '0.10.1' }
 */
export function parseFramework(text: string): AgentFramework {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { name: text };
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

/**
 * The entry a registration leaves at `at`, over the entry of that name already stored (`current`, or null): what the
 * registration names replaces, the rest is kept; an agent id makes it secured. Every store writes this entry.
 */
export function registeredEntry(registration: AgentRegistration, current: AgentEntry | null, at: string): AgentEntry {
  return {
    id: registeredId(registration.name),
    kind: current?.kind ?? 'agent',
    name: registration.name,
    frameworks: registration.framework === undefined ? (current?.frameworks ?? []) : [parseFramework(registration.framework)],
    location: registration.location !== undefined ? maskText(registration.location) : (current?.location ?? null),
    status: registration.agentId !== undefined ? 'secured' : (registration.status ?? current?.status ?? 'unknown'),
    risk: current?.risk ?? 'info',
    source: 'registered',
    firstSeen: current?.firstSeen ?? at,
    lastSeen: at,
    details: current?.details ?? {},
    notes: current?.notes ?? [],
    registeredAgentId: registration.agentId ?? current?.registeredAgentId ?? null,
    deregisteredAt: null,
    goneAt: current?.goneAt ?? null,
  };
}

/**
 * The entry a scan's finding (already masked) leaves at `seenAt`, over the stored one: the scan's view replaces what it
 * saw; where it came from, when it was first seen and a registration's links are kept; it is no longer gone.
 */
export function scannedEntry(finding: ScannedAgent, current: AgentEntry | null, seenAt: string): AgentEntry {
  return {
    id: finding.id,
    kind: finding.kind,
    name: finding.name,
    frameworks: finding.frameworks,
    location: finding.location,
    status: finding.status,
    risk: finding.risk,
    source: current?.source ?? 'scan',
    firstSeen: current?.firstSeen ?? seenAt,
    lastSeen: seenAt,
    details: finding.details,
    notes: finding.notes,
    registeredAgentId: current?.registeredAgentId ?? null,
    deregisteredAt: current?.deregisteredAt ?? null,
    goneAt: null,
  };
}

/** The entry with this id, else the one registered under this name (`agent:<name>`), else null. */
export async function findAgent(registry: AgentRegistry, idOrName: string): Promise<AgentEntry | null> {
  const entry = await registry.get(idOrName);
  if (entry !== null || idOrName.startsWith(REGISTERED_PREFIX)) return entry;
  return registry.get(registeredId(idOrName));
}

/**
 * The coverage sentence: `7 of 9 known agents secured (78%)`. Known means secured or unsecured; entries with an
 * unknown status are counted separately.
 */
export function describeCoverage(summary: AgentSummary): string {
  const known = summary.secured + summary.unsecured;
  if (summary.coverage === null) return summary.total === 0 ? 'no agents known yet' : `no agent with a known status (${summary.unknown} unknown)`;
  const noun = known === 1 ? 'agent' : 'agents';
  // Rounded, but never to 100% while one is unsecured, nor to 0% while one is secured.
  const percent = Math.min(Math.max(Math.round(summary.coverage * 100), summary.secured > 0 ? 1 : 0), summary.unsecured > 0 ? 99 : 100);
  return `${summary.secured} of ${known} known ${noun} secured (${percent}%)`;
}

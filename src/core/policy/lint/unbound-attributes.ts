import type { PathSegment } from '../problem.js';
import { RESERVED_CONDITION_KEYS, type Condition, type PolicyDocument } from '../types.js';
import { lintProblem, type LintProblem } from './lint-problem.js';

/** The agent tokens an agent can hold, and what each vouches for (see core/tokens/attributes.ts). */
export interface AttributeBindings {
  /** Where the tokens were read, for messages (the data folder). */
  source: string;
  /** Every agent token that is not revoked. Admin tokens act for people and approver tokens decide nothing here. */
  agentTokens: ReadonlyArray<{ id: string; agentId: string; attributes: Readonly<Record<string, string>> }>;
}

const RESERVED = new Set<string>(RESERVED_CONDITION_KEYS);

/** True for a condition path an agent sends itself: under `agent` (but `agent.id`, which the token binds) or `context`. */
function agentChosen(path: string): boolean {
  if (path === 'agent.id') return false;
  return path === 'agent' || path === 'context' || path.startsWith('agent.') || path.startsWith('context.');
}

/** True when the attribute `bound` fixes the value at `path` (the path itself or a field inside it). */
function binds(bound: string, path: string): boolean {
  return path === bound || path.startsWith(`${bound}.`);
}

/**
 * Warns (`unbound-attribute`) at every condition on `agent.*` or `context.*` that some agent token does not bind:
 * through such a token the agent sends that field itself, so a rule that allows `agent.role: admin` is one the agent
 * can satisfy, and a deny on `context.env: prod` is one it can avoid. A field is safe only when every agent token
 * binds it (`agentguard token create --attr`): the sidecar then fills it in and refuses requests that change it.
 */
export function checkUnboundAttributes(doc: PolicyDocument, bindings: AttributeBindings): LintProblem[] {
  const problems: LintProblem[] = [];
  doc.rules.forEach((rule, index) => visit(rule.when, ['rules', index, 'when'], bindings, problems));
  return problems;
}

function visit(when: Condition | undefined, at: PathSegment[], bindings: AttributeBindings, problems: LintProblem[]): void {
  if (when === undefined || when === null || typeof when !== 'object' || Array.isArray(when)) return;
  for (const [key, spec] of Object.entries(when)) {
    if (key === 'all' || key === 'any') {
      if (Array.isArray(spec)) spec.forEach((c, i) => visit(c as Condition, [...at, key, i], bindings, problems));
      continue;
    }
    if (key === 'not') {
      visit(spec as Condition, [...at, key], bindings, problems);
      continue;
    }
    if (RESERVED.has(key) || !agentChosen(key)) continue;
    const unbound = bindings.agentTokens.filter((t) => !Object.keys(t.attributes).some((bound) => binds(bound, key)));
    if (unbound.length === 0 && bindings.agentTokens.length > 0) continue;
    problems.push(lintProblem('warning', 'unbound-attribute', [...at, key], message(key, unbound, bindings), hint(key), 'key'));
  }
}

function message(path: string, unbound: AttributeBindings['agentTokens'], bindings: AttributeBindings): string {
  const total = bindings.agentTokens.length;
  if (total === 0) return `${path} is chosen by the agent: no agent token in ${bindings.source} binds it, so an agent can send any value and match or avoid this condition`;
  const names = unbound.slice(0, 5).map((t) => `${t.id} (${t.agentId})`).join(', ') + (unbound.length > 5 ? `, and ${unbound.length - 5} more` : '');
  return `${path} is chosen by the agent for ${unbound.length} of ${total} agent tokens in ${bindings.source} (${names}): their agents can send any value and match or avoid this condition`;
}

function hint(path: string): string {
  const dot = path.indexOf('.');
  if (dot < 0) return `Test fields inside ${path} (${path}.<name>) and bind each with \`agentguard token create --attr\`; the whole ${path} object is always the agent's to fill.`;
  const namespace = path.slice(0, dot);
  const name = path.slice(dot + 1).split('.')[0];
  const flag = namespace === 'agent' ? `${name}=<value>` : `context.${name}=<value>`;
  return `Bind it in every agent's token: \`agentguard token create --agent <id> --attr ${flag}\` (revoke the old ones); the sidecar then fills it in and refuses (403) a request that sets another value.`;
}

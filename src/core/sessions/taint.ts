import type { Action, Decision } from '../action.js';
import { compileGlob, type GlobMatcher } from '../policy/glob.js';
import { isPlainObject } from '../plain-object.js';
import type { SessionTaintStore, TaintSource } from './types.js';

/** Kinds whose action is content an agent reads (a tool's result, a model's answer), so an injection in it taints. */
export const OUTPUT_KINDS: ReadonlySet<string> = new Set(['mcp_output', 'llm_output', 'tool_output']);

/**
 * At most this many sources are put into an action (the first ones): a long session that keeps reading injected pages
 * must not make every later action, and its audit record, grow without bound. `tainted` does not depend on it.
 */
export const MAX_TAINT_SOURCES = 16;

/** The session id an action names in `context.session.id`, if any. */
export function sessionIdOf(action: Action): string | undefined {
  const session = action.context?.session;
  if (!isPlainObject(session)) return undefined;
  const id = session.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The engine's session taint: puts the store's truth into each action's `context.session` before the policy decides,
 * and records what taints a session after. A caller may claim `tainted: true` (kept: it only makes the policy
 * stricter); a claim of `false` or sources of its own never hide what the store holds.
 */
export class SessionTaint {
  private readonly untrusted: GlobMatcher[];
  private readonly now: () => Date;

  constructor(
    private readonly store: SessionTaintStore,
    options: { untrusted?: readonly string[]; now?: () => Date } = {},
  ) {
    this.untrusted = (options.untrusted ?? []).map((g) => compileGlob(g));
    this.now = options.now ?? (() => new Date());
  }

  /** The action with `context.session.tainted` and `taintSources` as the store has them (unchanged when clean). */
  async apply(action: Action): Promise<Action> {
    const id = sessionIdOf(action);
    if (id === undefined) return action;
    const stored = await this.store.sources(id, MAX_TAINT_SOURCES);
    const session = action.context!.session as Record<string, unknown>;
    const claimed = session.tainted === true;
    if (stored.length === 0 && !claimed) {
      if (session.tainted === undefined && session.taintSources === undefined) return action;
      // A clean session: whatever the caller said about its taint is replaced by the truth.
      const { tainted: _t, taintSources: _s, ...rest } = session;
      return { ...action, context: { ...action.context, session: rest } };
    }
    // Claimed but not stored (`policy simulate` of a tainted session): the caller's sources are shown as given.
    const given = stored.length === 0 && Array.isArray(session.taintSources) ? session.taintSources.slice(0, MAX_TAINT_SOURCES) : [];
    return { ...action, context: { ...action.context, session: { ...session, tainted: true, taintSources: [...stored, ...given] } } };
  }

  /** What taints the session of this decided action, if anything: an injection found in an output, or an untrusted source. */
  sourceOf(action: Action, decision: Decision): TaintSource | undefined {
    if (sessionIdOf(action) === undefined || !OUTPUT_KINDS.has(action.kind)) return undefined;
    const injected = decision.findings.some((f) => f.type === 'injection' || f.guardrail === 'injection');
    if (!injected && !this.isUntrusted(action.name)) return undefined;
    return { source: action.name, kind: action.kind, reason: injected ? 'injection' : 'untrusted', at: this.now().toISOString(), decisionId: decision.id };
  }

  /** Records what a decided action's result did to its session (see sourceOf). Rejects when the store cannot record it. */
  async observe(action: Action, decision: Decision): Promise<void> {
    const source = this.sourceOf(action, decision);
    if (source) await this.store.add(sessionIdOf(action)!, source);
  }

  /**
   * A protected function from an untrusted source ran and returned: its result is in the agent's hands now, so the
   * session is tainted (the SDK's `protect()` outcomes; MCP results are decided as `mcp_output` instead).
   */
  async observeOutcome(decision: Decision, outcome: { status: 'ok' | 'error' }): Promise<void> {
    const action = decision.action;
    const id = sessionIdOf(action);
    if (id === undefined || outcome.status !== 'ok' || OUTPUT_KINDS.has(action.kind) || !this.isUntrusted(action.name)) return;
    await this.store.add(id, { source: action.name, kind: action.kind, reason: 'untrusted', at: this.now().toISOString(), decisionId: decision.id });
  }

  private isUntrusted(name: string): boolean {
    return this.untrusted.some((g) => g.test(name));
  }
}

import { AgentGuardError } from '../errors.js';
import { compileGlob } from '../policy/glob.js';
import { isPlainObject } from '../plain-object.js';

/** The `sessions` section of agentguard.config.json. */
export interface SessionsConfig {
  /**
   * Globs of action names whose results are untrusted content (`github.*` for every tool of the MCP server wrapped as
   * `github`, `web.fetch` for one protected function): a session that reads one is tainted.
   */
  untrusted?: string[];
}

/** Checks the `sessions` section (`where` names it in messages); absent → no untrusted sources. */
export function checkSessionsConfig(value: unknown, where: string): SessionsConfig {
  if (value === undefined) return {};
  const example = 'Write "sessions": { "untrusted": ["github.*", "web.fetch"] }, or remove it.';
  if (!isPlainObject(value)) throw new AgentGuardError('CONFIG_INVALID', `${where} must be an object`, { actions: [example] });
  for (const key of Object.keys(value)) {
    if (key !== 'untrusted') throw new AgentGuardError('CONFIG_INVALID', `${where}: unknown field "${key}"`, { actions: ['Allowed fields: untrusted.'] });
  }
  const untrusted = value.untrusted;
  if (untrusted === undefined) return {};
  if (!Array.isArray(untrusted) || untrusted.some((g) => typeof g !== 'string' || g === '')) {
    throw new AgentGuardError('CONFIG_INVALID', `${where}.untrusted must be a list of action-name globs`, { actions: [example] });
  }
  for (const glob of untrusted as string[]) {
    try {
      compileGlob(glob);
    } catch (error) {
      throw new AgentGuardError('CONFIG_INVALID', `${where}.untrusted: "${glob}" is not a valid glob (${(error as Error).message})`, { actions: [example] });
    }
  }
  return { untrusted: [...(untrusted as string[])] };
}

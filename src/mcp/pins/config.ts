import { resolve } from 'node:path';
import { AgentGuardError } from '../../core/errors.js';
import { isPlainObject } from '../../core/plain-object.js';

/**
 * What the gateway does with a tool that is not pinned as listed (changed since pinned, new after the server's first
 * listing, or flagged by the description policy):
 * - `hide`: left out of the `tools/list` result the client sees, and a call to it is refused;
 * - `block`: listed, but a call to it is refused until approved (the default);
 * - `flag`: only reported (on stderr and in the audit trail); calls go on to the policy.
 */
export type OnChange = 'hide' | 'block' | 'flag';

export const ON_CHANGE: readonly OnChange[] = ['hide', 'block', 'flag'];

export interface PinsConfig {
  onChange: OnChange;
  /** A policy file that decides tool definitions instead of the built-in one (absolute). */
  descriptionPolicy?: string;
}

/**
 * The pin settings of the `mcp` section of agentguard.config.json: `onChange` and `descriptionPolicy` (relative to
 * the config file's folder). Other keys of the section belong to the gateway and are left to it.
 */
export function readPinsConfig(section: unknown, where: string, root: string): PinsConfig {
  if (section === undefined) return { onChange: 'block' };
  if (!isPlainObject(section)) throw invalid(`${where} must be an object`);
  const onChange = section.onChange ?? 'block';
  if (typeof onChange !== 'string' || !ON_CHANGE.includes(onChange as OnChange)) {
    throw invalid(`${where}.onChange must be one of ${ON_CHANGE.join(', ')} (got ${JSON.stringify(onChange)})`);
  }
  const policy = section.descriptionPolicy;
  if (policy !== undefined && (typeof policy !== 'string' || policy.trim() === '')) {
    throw invalid(`${where}.descriptionPolicy must be the path of a policy file`);
  }
  return { onChange: onChange as OnChange, ...(policy === undefined ? {} : { descriptionPolicy: resolve(root, policy) }) };
}

function invalid(message: string): AgentGuardError {
  return new AgentGuardError('MCP_CONFIG_INVALID', message, {
    actions: ['Write "mcp": { "onChange": "block" } (hide, block or flag; "descriptionPolicy": "<policy file>" is optional), or remove the section.'],
  });
}

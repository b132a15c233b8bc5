import { APPROVAL_ERRORS } from './codes/approvals.js';
import { AUDIT_ERRORS } from './codes/audit.js';
import { CLI_ERRORS } from './codes/cli.js';
import { CONFIG_ERRORS } from './codes/config.js';
import { COST_ERRORS } from './codes/cost.js';
import { GUARDRAIL_ERRORS } from './codes/guardrails.js';
import { INIT_ERRORS } from './codes/init.js';
import { HOOKS_INSTALL_ERRORS } from './codes/hooks-install.js';
import { MCP_INSTALL_ERRORS } from './codes/mcp-install.js';
import { MCP_PIN_ERRORS } from './codes/mcp-pins.js';
import { POLICY_ERRORS } from './codes/policy.js';
import { SDK_ERRORS } from './codes/sdk.js';
import { SIDECAR_ERRORS } from './codes/sidecar.js';
import { STORE_ERRORS } from './codes/store.js';
import { TOKEN_ERRORS } from './codes/tokens.js';
import type { ErrorSpec } from './spec.js';

export type { ErrorSpec } from './spec.js';

/** The areas of the registry, in the order docs/errors.md lists them. */
export const ERROR_AREAS = {
  'Command line': CLI_ERRORS,
  Policies: POLICY_ERRORS,
  'Audit trail': AUDIT_ERRORS,
  'Data folder': STORE_ERRORS,
  Configuration: CONFIG_ERRORS,
  Guardrails: GUARDRAIL_ERRORS,
  Costs: COST_ERRORS,
  Approvals: APPROVAL_ERRORS,
  'Tokens and agents': TOKEN_ERRORS,
  'agentguard init': INIT_ERRORS,
  Sidecar: SIDECAR_ERRORS,
  SDK: SDK_ERRORS,
  'MCP tool pins': MCP_PIN_ERRORS,
  'MCP client configs': MCP_INSTALL_ERRORS,
  'Coding-agent hooks': HOOKS_INSTALL_ERRORS,
} as const;

/**
 * Every error code agentguard can show, with its HTTP status, exit code, meaning and fix. CLI output, sidecar answers
 * and SDK errors are built from it; docs/errors.md is generated from it (`npm run docs:errors`).
 */
export const ERRORS = {
  ...CLI_ERRORS,
  ...POLICY_ERRORS,
  ...AUDIT_ERRORS,
  ...STORE_ERRORS,
  ...CONFIG_ERRORS,
  ...GUARDRAIL_ERRORS,
  ...COST_ERRORS,
  ...APPROVAL_ERRORS,
  ...TOKEN_ERRORS,
  ...INIT_ERRORS,
  ...SIDECAR_ERRORS,
  ...SDK_ERRORS,
  ...MCP_PIN_ERRORS,
  ...MCP_INSTALL_ERRORS,
  ...HOOKS_INSTALL_ERRORS,
} as const;

/** A registered error code. */
export type ErrorCode = keyof typeof ERRORS;

/** True when `value` is a registered code (for codes that arrive as text: another process's output, an HTTP body). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
}

/** The registry's entry for a code. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

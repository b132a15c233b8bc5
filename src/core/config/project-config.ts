import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { AgentGuardError } from '../errors.js';
import { checkGuardrailsConfig, type GuardrailsConfig } from './guardrails-config.js';
import { checkSessionsConfig } from '../sessions/config.js';
import { checkStoreConfig } from '../store/store-url.js';
import { checkTelemetryConfig, type TelemetryConfig } from './telemetry-config.js';

export const CONFIG_FILE = 'agentguard.config.json';
/** Committed folder holding the project's policies and their tests. */
export const DEFAULT_POLICY_DIR = 'agentguard';
/** Git-ignored folder holding the database, keys and other runtime data. */
export const DEFAULT_DATA_DIR = '.agentguard';

export interface ProjectConfig {
  $schema?: string;
  /** Policy file used by default, relative to the config file. */
  policy: string;
  /** Folder of policies and policy tests, relative to the config file. */
  policyDir: string;
  /** Runtime data folder (database, keys), relative to the config file. */
  dataDir: string;
  /** Agent id recorded when an action names none. */
  agentId?: string;
  /** Prices and budgets of LLM calls, checked by checkCostConfig (core/cost/config.ts) where they are used. */
  cost?: Record<string, unknown>;
  /** Approval notifications (webhook, Slack), checked by notifyChannels (notify/config.ts) where they are used. */
  approvals?: Record<string, unknown>;
  /** Guardrail budget per decision and the sidecar's guardrail workers (see guardrails-config.ts), checked on read. */
  guardrails?: GuardrailsConfig;
  /** The MCP gateway's settings (tool pins: src/mcp/pins/config.ts), checked where they are used. */
  mcp?: Record<string, unknown>;
  /** Session taint: `untrusted` globs of action names whose results taint a session (core/sessions/config.ts). */
  sessions?: Record<string, unknown>;
  /** The shared PostgreSQL store of a fleet (`{ url, chain }`, see core/store/store-url.ts); SQLite in dataDir when absent. */
  store?: { url?: string; chain?: string };
  /** OpenTelemetry trace export (`{ otlp: { endpoint, headers, serviceName }, payloads }`, see telemetry-config.ts), checked on read; off when absent. */
  telemetry?: TelemetryConfig;
}

export interface LoadedProjectConfig {
  /** Folder containing the config file (or the folder searched, when there is none). */
  root: string;
  /** Path of the config file, undefined when none was found. */
  file?: string;
  config: ProjectConfig;
  /** Absolute paths resolved from the config. */
  paths: { policy: string; policyDir: string; dataDir: string };
}

/** How messages name the `cost` section of a project's config. */
export function costSectionName(file: string | undefined): string {
  return `${file ?? CONFIG_FILE}: cost`;
}

/** How messages name the `approvals` section of a project's config. */
export function approvalsSectionName(file: string | undefined): string {
  return `${file ?? CONFIG_FILE}: approvals`;
}

export function defaultProjectConfig(): ProjectConfig {
  return { policy: `${DEFAULT_POLICY_DIR}/policy.yaml`, policyDir: DEFAULT_POLICY_DIR, dataDir: DEFAULT_DATA_DIR };
}

/** Walks up from `cwd` to find agentguard.config.json; returns defaults rooted at `cwd` when there is none. */
export async function loadProjectConfig(cwd = process.cwd()): Promise<LoadedProjectConfig> {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return readProjectConfig(candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return withPaths(resolve(cwd), undefined, defaultProjectConfig());
}

export async function readProjectConfig(file: string): Promise<LoadedProjectConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AgentGuardError('CONFIG_INVALID', `${file}: cannot be read as JSON (${(error as Error).message})`, {
      actions: ['Fix the JSON syntax, or delete the file and run `agentguard init` again.'],
      cause: error,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AgentGuardError('CONFIG_INVALID', `${file}: must be a JSON object`);
  }
  const allowed = new Set(['$schema', 'policy', 'policyDir', 'dataDir', 'agentId', 'cost', 'approvals', 'guardrails', 'mcp', 'sessions', 'store', 'telemetry']);
  const config = { ...defaultProjectConfig(), ...(raw as Partial<ProjectConfig>) };
  for (const [key, value] of Object.entries(raw)) {
    if (!allowed.has(key)) {
      throw new AgentGuardError('CONFIG_INVALID', `${file}: unknown field "${key}"`, { actions: [`Allowed fields: ${[...allowed].join(', ')}.`] });
    }
    if (key === 'guardrails') config.guardrails = checkGuardrailsConfig(value, `${file}: guardrails`);
    else if (key === 'sessions') checkSessionsConfig(value, `${file}: sessions`);
    else if (key === 'store') config.store = checkStoreConfig(value, `${file}: store`);
    else if (key === 'telemetry') config.telemetry = checkTelemetryConfig(value, `${file}: telemetry`);
    else if (key === 'cost' || key === 'approvals' || key === 'mcp') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const example = key === 'cost' ? '"cost": { "budgets": [...] }' : key === 'mcp' ? '"mcp": { "onChange": "block" }' : '"approvals": { "notify": [...] }';
        throw new AgentGuardError('CONFIG_INVALID', `${file}: "${key}" must be an object`, { actions: [`Write ${example}, or remove it.`] });
      }
    } else if (key !== '$schema' && typeof value !== 'string') {
      throw new AgentGuardError('CONFIG_INVALID', `${file}: "${key}" must be a string`);
    }
  }
  return withPaths(dirname(resolve(file)), resolve(file), config);
}

function withPaths(root: string, file: string | undefined, config: ProjectConfig): LoadedProjectConfig {
  return {
    root,
    file,
    config,
    paths: {
      policy: resolve(root, config.policy),
      policyDir: resolve(root, config.policyDir),
      dataDir: resolve(root, process.env.AGENTGUARD_DATA_DIR ?? config.dataDir),
    },
  };
}

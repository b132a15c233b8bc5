import type { AuditRecorder } from '../../core/audit/recorder.js';
import { CONFIG_FILE, type LoadedProjectConfig } from '../../core/config/project-config.js';
import type { Engine } from '../../core/engine/types.js';
import type { McpPinStore } from '../../core/mcp-pins/types.js';
import type { Policy } from '../../core/policy/policy.js';
import type { Store } from '../../core/store/store.js';
import { readPinsConfig, type PinsConfig } from './config.js';
import { PinGuard } from './guard.js';

export interface OpenPinGuardOptions {
  /** The data folder whose store keeps the pins (and whose audit trail records the definition decisions). */
  dataDir: string;
  config: PinsConfig;
  /** An open recorder of `dataDir` (the gateway's engine's) to record with; default: one opened for the guard. */
  recorder?: AuditRecorder;
  /** Record every definition decision in the audit trail (default true). */
  record?: boolean;
  /** The agent id put on the definition actions. */
  agentId?: string;
  now?: () => Date;
}

export interface OpenedPinGuard {
  guard: PinGuard;
  /** The pins of the data folder (open until close). */
  pins: McpPinStore;
  /** The engine deciding tool definitions with the description policy. */
  engine: Engine;
  close(): Promise<void>;
}

/**
 * Opens what the gateway needs to check tool lists: the data folder's store (pins) and an engine deciding each tool
 * definition with the description policy (`config.descriptionPolicy`, else the built-in one), recorded in the audit
 * trail. The policy loads before anything opens: a policy that cannot load is an error, never an unchecked list.
 */
export async function openPinGuard(options: OpenPinGuardOptions): Promise<OpenedPinGuard> {
  const policy = await descriptionPolicy(options.config);
  const [{ openStore }, { openEngine }] = await Promise.all([import('../../core/store/open-store.js'), import('../../core/engine/open-engine.js')]);
  const store: Store = await openStore({ dataDir: options.dataDir });
  let engine: Engine;
  try {
    engine = await openEngine({
      policy,
      record: options.record ?? true,
      dataDir: options.dataDir,
      ...(options.recorder ? { recorder: options.recorder } : {}),
      ...(options.agentId ? { agentId: options.agentId } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const guard = new PinGuard({ store: store.mcpPins, decide: (action) => engine.decide(action), onChange: options.config.onChange, now: options.now });
  return {
    guard,
    pins: store.mcpPins,
    engine,
    async close() {
      try {
        await engine.close();
      } finally {
        await store.close();
      }
    },
  };
}

async function descriptionPolicy(config: PinsConfig): Promise<Policy> {
  if (config.descriptionPolicy === undefined) {
    const { builtInDescriptionPolicy } = await import('./description-policy.js');
    return builtInDescriptionPolicy();
  }
  const { Policy } = await import('../../core/policy/policy.js');
  return Policy.fromFile(config.descriptionPolicy);
}

/**
 * openPinGuard with the project's settings: `mcp.onChange` and `mcp.descriptionPolicy` of agentguard.config.json, its
 * data folder (unless `dataDir` is given) and agent id. Throws MCP_CONFIG_INVALID for a bad `mcp` section.
 */
export async function openProjectPinGuard(
  project: LoadedProjectConfig,
  options: Omit<OpenPinGuardOptions, 'config' | 'dataDir'> & { dataDir?: string } = {},
): Promise<OpenedPinGuard> {
  const config = readPinsConfig(project.config.mcp, `${project.file ?? CONFIG_FILE}: mcp`, project.root);
  return openPinGuard({
    ...options,
    dataDir: options.dataDir ?? project.paths.dataDir,
    config,
    ...(options.agentId === undefined && project.config.agentId !== undefined ? { agentId: project.config.agentId } : {}),
  });
}

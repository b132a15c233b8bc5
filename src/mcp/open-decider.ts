import type { AuditRecorder } from '../core/audit/recorder.js';
import { loadProjectConfig, type LoadedProjectConfig } from '../core/config/project-config.js';
import { Policy } from '../core/policy/policy.js';
import { failedDecider, type McpDecider } from './decider.js';

export interface DeciderSetup {
  /** Policy file for local mode (default: the project's policy). */
  policy?: string;
  /** Sidecar mode: the sidecar's URL and token. */
  sidecar?: { url: string; token: string };
  /** Agent id for sidecar mode (with an agent token the sidecar fills it in anyway). */
  agentId?: string;
  /** Folder to look for agentguard.config.json from (default: the working folder, which the MCP client chooses). */
  projectDir?: string;
  log: (message: string) => void;
}

/**
 * The decider the gateway runs with. Local mode loads the project's config and the policy and opens the one engine
 * recording every decision; when that fails the gateway still starts and denies every tools/call naming the problem
 * (see failedDecider), so a client shows the reason instead of a server that would not start. Invalid sidecar
 * options are a usage error and throw.
 */
export interface OpenedDecider {
  decider: McpDecider;
  /** The project's config, when it could be read. */
  project?: LoadedProjectConfig;
  /** Local mode: the engine's recorder, for the tool pins to record in the same trail. */
  recorder?: AuditRecorder;
  /** Local mode: the policy the engine was opened with (the hook daemon watches the files it was read from). */
  policy?: Policy;
}

export async function openDecider(setup: DeciderSetup): Promise<OpenedDecider> {
  if (setup.sidecar) {
    const [{ SidecarDecider, checkSidecarOptions }, { sidecarDecider }] = await Promise.all([import('../sdk/sidecar-client.js'), import('./decider.js')]);
    const options = checkSidecarOptions({ sidecar: setup.sidecar, ...(setup.agentId ? { agentId: setup.agentId } : {}) });
    const decider = sidecarDecider(new SidecarDecider(options), setup.log);
    try {
      return { decider, project: await loadProjectConfig(setup.projectDir) };
    } catch {
      return { decider };
    }
  }
  let project: LoadedProjectConfig | undefined;
  try {
    project = await loadProjectConfig(setup.projectDir);
    const policy = await Policy.fromFile(setup.policy ?? project.paths.policy);
    const [{ openProjectEngine }, { engineDecider }] = await Promise.all([import('../cli/project-engine.js'), import('./decider.js')]);
    // Trace export when the project's `telemetry` section turns it on (docs/observability.md); its last spans go on close.
    const { startTelemetry } = await import('../telemetry/start.js');
    const telemetry = await startTelemetry(project.config.telemetry, { defaultServiceName: 'agentguard-mcp', kind: 'internal', onExportError: (message) => setup.log(`agentguard mcp: ${message}`) });
    const engine = await openProjectEngine(project, { policy, record: true, ...(telemetry ? { tracer: telemetry.tracer } : {}) }).catch(async (error: unknown) => {
      await telemetry?.shutdown();
      throw error;
    });
    const decider = engineDecider(engine, setup.log);
    const closing = telemetry ? { close: async () => decider.close().finally(() => telemetry.shutdown()) } : {};
    return { decider: { ...decider, ...closing }, project, policy, ...(engine.recorder ? { recorder: engine.recorder } : {}) };
  } catch (error) {
    const problem = `agentguard could not load its policy, so every tool call is denied: ${(error as Error)?.message ?? String(error)}`;
    setup.log(`agentguard mcp: ${problem}`);
    return { decider: failedDecider('policy_unavailable', problem), ...(project ? { project } : {}) };
  }
}

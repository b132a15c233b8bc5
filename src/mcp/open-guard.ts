import type { AuditRecorder } from '../core/audit/recorder.js';
import type { LoadedProjectConfig } from '../core/config/project-config.js';
import type { ToolListGuard } from './hooks.js';

export interface OpenedGuard {
  guard: ToolListGuard;
  close(): Promise<void>;
}

/** When the tool check cannot run: no tool list reaches the client and every call is blocked, naming the problem. */
export function failedGuard(problem: string): ToolListGuard {
  return {
    checkToolList: async () => {
      throw new Error(problem);
    },
    blockedTool: async () => problem,
  };
}

/**
 * The tool pins (src/mcp/pins) with the project's `mcp` settings, recording in the engine's trail in local mode.
 * Fails closed: when they cannot open (a bad `mcp` section, a description policy that does not load, the store), the
 * gateway still runs but lists no tools and blocks every call with the problem named.
 */
export async function openGuard(project: LoadedProjectConfig | undefined, recorder: AuditRecorder | undefined, log: (message: string) => void): Promise<OpenedGuard> {
  try {
    if (!project) throw new Error('the project config (agentguard.config.json) could not be read');
    const { openProjectPinGuard } = await import('./pins/open.js');
    const opened = await openProjectPinGuard(project, recorder ? { recorder } : {});
    return { guard: opened.guard, close: () => opened.close() };
  } catch (error) {
    const problem = `agentguard could not open its MCP tool pins, so no tool is listed or called: ${(error as Error)?.message ?? String(error)}`;
    log(`agentguard mcp: ${problem}`);
    return { guard: failedGuard(problem), close: async () => {} };
  }
}

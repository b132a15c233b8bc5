import { approvalsSectionName, costSectionName, type LoadedProjectConfig } from '../core/config/project-config.js';
import type { Engine } from '../core/engine/types.js';
import type { Policy } from '../core/policy/policy.js';
import { checkSessionsConfig } from '../core/sessions/config.js';
import type { DecisionTracer } from '../core/telemetry/decision-trace.js';

/**
 * The engine a CLI command decides with, set up from the project's config as the SDK and the sidecar set theirs up:
 * the project's agent id on actions that name none, its guardrail budget, and, when recording, its cost section and
 * approval channels (notifications are queued; the sidecar sends those this process cannot).
 */
export async function openProjectEngine(
  project: LoadedProjectConfig,
  options: { policy: Policy; record: boolean; dataDir?: string; now?: () => Date; tracer?: DecisionTracer },
): Promise<Engine> {
  const { openEngine } = await import('../core/engine/open-engine.js');
  const base = {
    policy: options.policy,
    dataDir: options.dataDir ?? project.paths.dataDir,
    agentId: project.config.agentId,
    guardrails: { budgetMs: project.config.guardrails?.budgetMs },
    sessions: checkSessionsConfig(project.config.sessions, `${project.file ?? 'agentguard.config.json'}: sessions`),
    ...(options.now ? { now: options.now } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  };
  if (!options.record) return openEngine({ ...base, record: false });
  const [{ readNotifySetup }, { postAlert }] = await Promise.all([import('../notify/config.js'), import('../alerts/webhook.js')]);
  const notify = readNotifySetup(project.config.approvals, approvalsSectionName(project.file));
  return openEngine({
    ...base,
    record: true,
    cost: { config: project.config.cost, where: costSectionName(project.file) },
    onAlert: (alert) => void postAlert(alert),
    notifications: { subscriptions: notify.subscriptions },
  });
}

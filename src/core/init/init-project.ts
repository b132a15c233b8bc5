import { AgentGuardError } from '../errors.js';
import { applyInitPlan } from './apply.js';
import { planInit, type InitFile, type InitOptions, type InitPlan } from './plan.js';
import type { TemplateId } from './templates.js';

/** The outcome of `agentguard init` (also its --json output). */
export interface InitResult {
  /** Absolute project folder. */
  dir: string;
  template: TemplateId;
  /** Policy name written into agentguard/policy.yaml. */
  name: string;
  /** Agent id written into agentguard.config.json. */
  agentId: string;
  files: InitFile[];
}

/**
 * Writes a starter project: agentguard.config.json, agentguard/policy.yaml and its tests from a template,
 * the .agentguard/ data folder (mode 0700) and a .gitignore line for it. Checks everything before writing
 * anything: if a file exists and `force` is not set, it throws INIT_FILES_EXIST (exit 2) and writes nothing.
 *
 * @example
 * const result = await initProject({ dir: '.', template: 'data-sql', name: 'analytics', agentId: 'analytics' });
 * result.files; // [{ path: 'agentguard.config.json', action: 'created' }, …]
 */
export async function initProject(options: InitOptions & { force?: boolean }): Promise<InitResult> {
  const plan = await planInit(options);
  assertNoConflicts(plan, options.force ?? false);
  const files = await applyInitPlan(plan);
  return { dir: plan.dir, template: plan.template, name: plan.name, agentId: plan.agentId, files };
}

/** Throws INIT_FILES_EXIST when the plan would overwrite files and `force` is not set. */
export function assertNoConflicts(plan: InitPlan, force: boolean): void {
  if (force || plan.conflicts.length === 0) return;
  const list = plan.conflicts.join(', ');
  throw new AgentGuardError('INIT_FILES_EXIST', `${plan.dir} already has ${plan.conflicts.length === 1 ? 'this file' : 'these files'}: ${list}. Nothing was written.`, {
    actions: ['Pass --force to overwrite them with the template (a .gitignore is only ever appended to).', 'Or run init in another folder with --dir.'],
  });
}

import { AgentGuardError } from '../../core/errors.js';

/**
 * Replaces the methods that send prompts to a model by paths the guarded client does not check (legacy completions,
 * batches, assistants runs, beta messages) with ones that throw before anything is sent, so a guarded client never
 * lets a prompt out unchecked by accident. `paths` are dotted, e.g. `beta.threads.runs.create`; absent ones are
 * skipped (SDK versions differ).
 */
export function refuseUnguarded(client: object, paths: readonly string[], clientName: string, instead: string): void {
  for (const path of paths) {
    const parts = path.split('.');
    const method = parts.pop()!;
    let owner: unknown = client;
    for (const part of parts) owner = owner !== null && typeof owner === 'object' ? (owner as Record<string, unknown>)[part] : undefined;
    if (owner === null || typeof owner !== 'object' || typeof (owner as Record<string, unknown>)[method] !== 'function') continue;
    (owner as Record<string, unknown>)[method] = () => {
      throw new AgentGuardError('METHOD_NOT_GUARDED', `${clientName} does not guard ${path}, so the request was not sent`, {
        actions: [`Use ${instead}, or a plain client for this endpoint if sending it unchecked is intended.`],
        exitCode: 1,
      });
    };
  }
}

import { TOOL_RUNNER } from './request-options.js';

/**
 * Marks the requests of the SDK's tool runners (`chat.completions.runTools`): the runner executes every tool call it
 * receives, so a denied one must throw, whatever `toolCalls` says. The runner passes its options on to `create`,
 * where the mark is read (and removed before sending). Absent paths are skipped (SDK versions differ).
 */
export function markToolRunners(client: object, paths: readonly string[]): void {
  for (const path of paths) {
    const parts = path.split('.');
    const method = parts.pop()!;
    let owner: unknown = client;
    for (const part of parts) owner = owner !== null && typeof owner === 'object' ? (owner as Record<string, unknown>)[part] : undefined;
    if (owner === null || typeof owner !== 'object') continue;
    const original = (owner as Record<string, unknown>)[method];
    if (typeof original !== 'function') continue;
    (owner as Record<string, unknown>)[method] = (body: unknown, options?: Record<string, unknown>) => original.call(owner, body, { ...(options ?? {}), [TOOL_RUNNER]: true });
  }
}

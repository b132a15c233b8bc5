import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pluginModulePath } from '../../core/policy/plugins.js';
import type { OpenedDecider } from '../../mcp/open-decider.js';

const CONFIG_FILE = 'agentguard.config.json';

/** The files an opened decider was set up from: a daemon re-reads them before every decision. */
export interface WatchedFiles {
  /** The project's config, the policy and every file it included: a change re-opens the decider. */
  policy: string[];
  /** Guardrail plugin modules: ES modules cannot be imported again, so a change ends the daemon. */
  plugins: string[];
}

/**
 * What to watch for an opened decider, or undefined when it could not load its policy: then nothing is kept and every
 * decision opens it again (as a hook deciding in its own process does), so a fix in any file is seen at once.
 */
export function watchedFiles(projectDir: string, opened: OpenedDecider): WatchedFiles | undefined {
  const { project, policy } = opened;
  if (!project || !policy) return undefined;
  const files = new Set([path.join(path.resolve(projectDir), CONFIG_FILE)]);
  if (project.file) files.add(path.resolve(project.file));
  files.add(path.resolve(project.paths.policy));
  for (const file of policy.compiled.composition?.files ?? [policy.filename]) files.add(path.resolve(file));
  const plugins = new Set<string>();
  for (const entry of Object.values(policy.document.guardrails ?? {})) {
    const specifier = (entry as { module?: unknown } | undefined)?.module;
    if (typeof specifier !== 'string' || specifier === '') continue;
    try {
      plugins.add(pluginModulePath(path.resolve(policy.filename), specifier));
    } catch {
      // A package that cannot be found was refused when the policy loaded; its file is whatever resolves later.
    }
  }
  return { policy: [...files], plugins: [...plugins] };
}

/** sha256 of each file's bytes ("missing" when it cannot be read), in order. */
export function fingerprint(files: readonly string[]): string[] {
  return files.map((file) => {
    try {
      return createHash('sha256').update(readFileSync(file)).digest('hex');
    } catch {
      return 'missing';
    }
  });
}

export const sameFingerprint = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((h, i) => h === b[i]);

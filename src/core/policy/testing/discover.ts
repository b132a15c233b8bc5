import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadProjectConfig } from '../../config/project-config.js';
import { AgentGuardError } from '../../errors.js';
import { displayPath } from './display-path.js';

/** Names of policy test files: `*.test.yaml`, `*.test.yml`, `*.test.json`. */
export const TEST_FILE_PATTERN = /\.test\.(?:ya?ml|json)$/i;

/** Folders never searched: dependencies and hidden folders (.git, .agentguard, …). */
function skipFolder(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.');
}

/**
 * The folders searched when no path is given: `policies/` and the project's policy folder
 * (`policyDir` of agentguard.config.json, `agentguard/` by default), both relative to `cwd`.
 */
export async function defaultTestRoots(cwd = process.cwd()): Promise<string[]> {
  const project = await loadProjectConfig(cwd);
  return [...new Set([resolve(cwd, 'policies'), project.paths.policyDir])];
}

/**
 * Finds policy test files, sorted, without duplicates. A path may be a file (used as is) or a folder
 * (searched recursively). With no paths, searches the default roots that exist.
 * Throws AgentGuardError (exit 2) for a path that does not exist or when no test file is found.
 */
export async function findPolicyTestFiles(paths: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const explicit = paths.length > 0;
  const roots = explicit ? paths.map((p) => resolve(cwd, p)) : await defaultTestRoots(cwd);
  const found = new Set<string>();
  for (const root of roots) {
    let info;
    try {
      info = await stat(root);
    } catch (error) {
      if (!explicit) continue;
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgentGuardError('PATH_NOT_FOUND', `${displayPath(root, cwd)}: ${code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${code ?? String(error)})`}`, {
        actions: ['Pass a test file (*.test.yaml, *.test.yml, *.test.json) or a folder that contains some.'],
        cause: error,
      });
    }
    if (info.isDirectory()) for (const file of await walk(root)) found.add(file);
    else found.add(root);
  }
  if (found.size === 0) {
    const searched = roots.map((r) => displayPath(r, cwd) + '/').join(', ');
    throw new AgentGuardError('NO_POLICY_TESTS', `no policy test files (*.test.yaml, *.test.yml, *.test.json) found in ${searched}`, {
      actions: explicit
        ? ['Check the path, or name your test files like support-bot.test.yaml.']
        : [
            'Run `agentguard init` to create a starter policy with tests in agentguard/.',
            'Or write a test file next to your policy, e.g. agentguard/policy.test.yaml, and pass its path.',
          ],
    });
  }
  return [...found].sort();
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    // Symbolic links to folders are not followed, so a link loop cannot hang the search.
    if (entry.isDirectory()) {
      if (!skipFolder(entry.name)) out.push(...(await walk(full)));
    } else if ((entry.isFile() || entry.isSymbolicLink()) && TEST_FILE_PATTERN.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

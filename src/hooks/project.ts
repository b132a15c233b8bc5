import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** Same file name as core/config/project-config.ts's CONFIG_FILE, without importing it on the hook's hot path. */
const CONFIG_FILE = 'agentguard.config.json';

/**
 * The folder whose agentguard.config.json decides a hook: $AGENTGUARD_PROJECT when set, else the nearest folder at or
 * above the agent's working folder that has one, else the home folder when it has one (a user-wide setup for hooks
 * installed for every project). Undefined when there is none: the hook then denies and says how to set one up.
 */
export function hookProjectDir(cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.AGENTGUARD_PROJECT) return path.resolve(env.AGENTGUARD_PROJECT);
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, CONFIG_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const home = env.HOME ?? homedir();
  return existsSync(path.join(home, CONFIG_FILE)) ? home : undefined;
}

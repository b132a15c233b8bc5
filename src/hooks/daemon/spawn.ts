import { spawn } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_DIR } from './location.js';

/** The hook entry point: `node bin/agentguard-hook.js --daemon <socket> <projectDir>` runs a daemon (see server.ts). */
export const HOOK_ENTRY = path.join(PACKAGE_DIR, 'bin', 'agentguard-hook.js');

/**
 * Starts a daemon in the background with the hook's own environment and returns at once: detached, no stdio, not
 * waited for, so the hook that starts it answers as soon as it has decided in its own process.
 */
export function spawnDaemon(socket: string, projectDir: string, env: NodeJS.ProcessEnv): number | undefined {
  const child = spawn(process.execPath, [HOOK_ENTRY, '--daemon', socket, projectDir], { cwd: projectDir, env, detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

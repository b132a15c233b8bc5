import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { askOnce } from './client.js';
import { isPlainObject } from '../../core/plain-object.js';
import { ensureDaemonDir } from './location.js';
import type { DaemonStatus } from './protocol.js';

/** The hook daemons that answer in this environment's socket folder (a socket file nobody answers at is left out). */
export async function listDaemons(env: NodeJS.ProcessEnv): Promise<DaemonStatus[]> {
  // A folder others could write in is never used by hooks; what answers there is not one of this user's daemons.
  const checked = ensureDaemonDir(env, false);
  if ('problem' in checked) return [];
  const dir = checked.dir;
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.sock'));
  } catch {
    return [];
  }
  const found = await Promise.all(
    names.map(async (name): Promise<DaemonStatus | undefined> => {
      try {
        const answer = await askOnce(path.join(dir, name), { op: 'status' }, 1000, 2000);
        return 'status' in answer && isStatus(answer.status) ? answer.status : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((s): s is DaemonStatus => s !== undefined).sort((a, b) => a.projectDir.localeCompare(b.projectDir) || a.pid - b.pid);
}

/** Asks every daemon of the socket folder to stop (each closes its engines, flushing the audit trail, and exits). */
export async function stopDaemons(env: NodeJS.ProcessEnv): Promise<DaemonStatus[]> {
  const daemons = await listDaemons(env);
  await Promise.all(
    daemons.map(async (daemon) => {
      // It may have exited meanwhile.
      await askOnce(daemon.socket, { op: 'stop' }, 1000, 5000).catch(() => undefined);
      // Answered before it closed its engines: wait for the exit, so the audit trail is flushed when this returns.
      for (let waited = 0; running(daemon.pid) && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    }),
  );
  return daemons;
}

/** Whether the process runs; one that exited but was not reaped yet by its parent (a zombie, Linux) does not. */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the parenthesised command name, which may itself hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function isStatus(value: unknown): value is DaemonStatus {
  if (!isPlainObject(value)) return false;
  const { pid, projectDir, socket, started, decisions, engineOpens, version } = value;
  return Number.isInteger(pid) && (pid as number) > 0 && typeof projectDir === 'string' && typeof socket === 'string' && typeof started === 'string' && typeof decisions === 'number' && typeof engineOpens === 'number' && typeof version === 'string';
}

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The session id shared by every MCP server one client process started: a hash of this host, the client's pid and
 * the time that process started (so a later process that reuses the pid is another session). An MCP client starts
 * each server as its own `mcp wrap` process, so without this, content read through one server would not taint the
 * calls made through another. Undefined when the start time cannot be read: the caller then keeps one session per
 * connection.
 */
export function clientSessionId(pid: number = process.ppid): string | undefined {
  const started = startTimeOf(pid);
  if (started === undefined) return undefined;
  return `client_${createHash('sha256').update(`${hostname()}\0${pid}\0${started}`).digest('hex').slice(0, 24)}`;
}

function startTimeOf(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    // Linux: field 22 of /proc/<pid>/stat, counted after the command name, which may itself hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[19] !== undefined && /^\d+$/.test(fields[19])) return fields[19];
  } catch {
    // no /proc (macOS, BSD): ask ps below
  }
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2_000 }).trim();
    return started === '' ? undefined : started;
  } catch {
    return undefined;
  }
}

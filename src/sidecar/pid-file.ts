import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AgentGuardError } from '../core/errors.js';

/** Name of the pid file of a running sidecar, inside the data folder. */
export const PID_FILE = 'sidecar.pid';
/** Name of the sidecar's log file (pino JSON lines), inside the data folder. */
export const LOG_FILE = 'sidecar.log';
/** Port the sidecar listens on when none is given. */
export const DEFAULT_PORT = 7777;
/** Address the sidecar binds to when none is given: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';

/** What the pid file holds while a sidecar runs. */
export interface PidFileContent {
  pid: number;
  port: number;
  host: string;
  startedAt: string;
  /**
   * A random key of this run that `sidecar status` sends (header x-agentguard-status-key) to read /readyz in full;
   * the pid file is private to the data folder's owner, who can read the database anyway.
   */
  statusKey?: string;
}

/** The pid file of a data folder. */
export function pidFilePath(dataDir: string): string {
  return join(dataDir, PID_FILE);
}

/** The log file of a data folder. */
export function logFilePath(dataDir: string): string {
  return join(dataDir, LOG_FILE);
}

/** Reads the pid file: null when there is none, `'invalid'` when it cannot be understood. */
export function readPidFile(dataDir: string): PidFileContent | 'invalid' | null {
  let text: string;
  try {
    text = readFileSync(pidFilePath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<PidFileContent>;
    if (Number.isInteger(value.pid) && (value.pid as number) > 0 && Number.isInteger(value.port) && typeof value.host === 'string') {
      const content: PidFileContent = { pid: value.pid as number, port: value.port as number, host: value.host, startedAt: String(value.startedAt ?? '') };
      if (typeof value.statusKey === 'string') content.statusKey = value.statusKey;
      return content;
    }
  } catch {
    // fall through: not JSON
  }
  return 'invalid';
}

/** Removes the pid file; a missing file is fine. */
export function removePidFile(dataDir: string): void {
  rmSync(pidFilePath(dataDir), { force: true });
}

/**
 * True when `pid` is a live process that may be a sidecar. On Linux, a zombie (exited, not yet reaped) counts as gone,
 * and so does a process whose command line names neither node, agentguard nor sidecar: a pid reused by an unrelated
 * program after a crash is then never signalled.
 */
export function isSidecarAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: it belongs to another user, so it is not a sidecar this user may manage.
    return false;
  }
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no /proc (macOS): trust the signal check
  }
  if (/^\d+ \(.*\) [ZX]/s.test(stat)) return false;
  return /node|agentguard|sidecar/i.test(cmdline);
}

/** The base URL of a sidecar listening on host:port (IPv6 addresses in brackets; wildcard addresses via loopback). */
export function sidecarUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Refuses (exit 1) when a live sidecar already serves this data folder; removes a stale or unreadable pid file. */
export function assertNotRunning(dataDir: string): void {
  const existing = readPidFile(dataDir);
  if (existing === null) return;
  if (existing !== 'invalid' && isSidecarAlive(existing.pid)) {
    throw new AgentGuardError('SIDECAR_RUNNING', `a sidecar is already running for ${dataDir} (pid ${existing.pid}, ${sidecarUrl(existing.host, existing.port)})`, {
      actions: ['Stop it first with `agentguard sidecar stop`, or use another --data-dir.'],
    });
  }
  removePidFile(dataDir);
}

/**
 * Reading what a process is: on Linux from `/proc/<pid>` (command line, working folder, executable, environment
 * variable NAMES, parent, owner, start time), elsewhere from ps-list (command lines only). Also the helpers that turn
 * a command line into something safe to print.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { maskArgv } from '../core/agents/report-mask.js';

export interface ProcessInfo {
  pid: number;
  ppid?: number;
  uid?: number;
  /** User name when it can be resolved, else the uid as text. */
  user?: string;
  /** The command line, one entry per argument (on ps-list platforms split on spaces, so lossy). */
  argv: string[];
  /** The short process name (`comm`). */
  name: string;
  exe?: string;
  cwd?: string;
  /** Environment variable names; undefined when they could not be read. Values are never kept. */
  envNames?: string[];
  /** Whether the agentguard connection variables are usable (their values are looked at, never kept). */
  agentguardEnv?: AgentguardEnv;
  /** Opaque start time: clock ticks since boot on Linux, epoch milliseconds from ps-list. */
  startTime?: string;
}

/** Part of a process that could not be read. `part` is `details` when the whole process was unreadable. */
export interface ReadProblem {
  pid: number;
  part: 'details' | 'environment names' | 'working folder' | 'executable';
  reason: string;
}

export interface ProcessListing {
  processes: ProcessInfo[];
  problems: ReadProblem[];
}

export function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT' || code === 'ESRCH') return 'the process exited during the scan';
  return `unreadable (${code ?? (error as Error)?.message ?? 'unknown error'})`;
}

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Numeric entries of a /proc folder. */
export async function linuxPids(procRoot: string): Promise<number[]> {
  const entries = await readdir(procRoot);
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

let passwd: Promise<Map<number, string>> | undefined;
function userNames(): Promise<Map<number, string>> {
  passwd ??= readFile('/etc/passwd', 'utf8').then(
    (text) => new Map(text.split('\n').map((l) => l.split(':')).filter((f) => f.length > 2).map((f) => [Number(f[2]), f[0]])),
    () => new Map<number, string>(),
  );
  return passwd;
}

/** Fields of /proc/<pid>/stat after the parenthesised name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
}

/** Environment variable names from /proc/<pid>/environ; each value is dropped as soon as it is split off. */
export function environNames(raw: Buffer): string[] {
  const names = new Set<string>();
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0, start);
    if (end === -1) end = raw.length;
    const eq = raw.indexOf(0x3d, start);
    const nameEnd = eq !== -1 && eq < end ? eq : end;
    if (nameEnd > start) names.add(raw.toString('utf8', start, nameEnd));
    start = end + 1;
  }
  return [...names];
}

/** The two variables that wire a process to an agentguard sidecar, judged without keeping their values. */
export interface AgentguardEnv {
  /** AGENTGUARD_TOKEN: `set` when it holds something other than blanks. */
  token: 'set' | 'empty' | 'absent';
  /** AGENTGUARD_SIDECAR_URL: `valid` when it parses as an http(s) URL. */
  sidecarUrl: 'valid' | 'invalid' | 'absent';
}

export const TOKEN_ENV = 'AGENTGUARD_TOKEN';
export const SIDECAR_URL_ENV = 'AGENTGUARD_SIDECAR_URL';

/** Judges AGENTGUARD_TOKEN and AGENTGUARD_SIDECAR_URL in a raw environ block; only the verdicts leave this function. */
export function agentguardEnv(raw: Buffer): AgentguardEnv {
  const facts: AgentguardEnv = { token: 'absent', sidecarUrl: 'absent' };
  const value = (name: string): string | undefined => {
    const prefix = Buffer.from(`${name}=`);
    let found: string | undefined;
    // The last assignment wins, as getenv sees it.
    for (let start = 0; start < raw.length; ) {
      let end = raw.indexOf(0, start);
      if (end === -1) end = raw.length;
      if (end - start >= prefix.length && raw.subarray(start, start + prefix.length).equals(prefix)) found = raw.toString('utf8', start + prefix.length, end);
      start = end + 1;
    }
    return found;
  };
  const token = value(TOKEN_ENV);
  if (token !== undefined) facts.token = token.trim() === '' ? 'empty' : 'set';
  const url = value(SIDECAR_URL_ENV);
  if (url !== undefined) {
    let valid = false;
    try {
      const parsed = new URL(url.trim());
      valid = (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
    } catch {
      valid = false;
    }
    facts.sidecarUrl = valid ? 'valid' : 'invalid';
  }
  return facts;
}

/**
 * One Linux process. Returns undefined for kernel threads and zombies (no command line: nothing to inspect) and
 * records what could not be read in `problems`.
 */
export async function readLinuxProcess(procRoot: string, pid: number, problems: ReadProblem[]): Promise<ProcessInfo | undefined> {
  const dir = join(procRoot, String(pid));
  const [cmdline, stat, status, environ, cwd, exe] = await Promise.allSettled([
    readFile(join(dir, 'cmdline')),
    readFile(join(dir, 'stat'), 'utf8'),
    readFile(join(dir, 'status'), 'utf8'),
    readFile(join(dir, 'environ')),
    readlink(join(dir, 'cwd')),
    readlink(join(dir, 'exe')),
  ]);
  if (cmdline.status === 'rejected' || stat.status === 'rejected') {
    const error = cmdline.status === 'rejected' ? cmdline.reason : (stat as PromiseRejectedResult).reason;
    problems.push({ pid, part: 'details', reason: reasonOf(error) });
    return undefined;
  }
  const argv = cmdline.value.toString('utf8').split('\0');
  while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  if (argv.length === 0) return undefined;

  const fields = statFields(stat.value);
  const statusText = status.status === 'fulfilled' ? status.value : '';
  const uidMatch = /^Uid:\s+(\d+)/m.exec(statusText);
  const uid = uidMatch ? Number(uidMatch[1]) : undefined;
  const nameMatch = /^Name:\s+(.*)$/m.exec(statusText) ?? /\((.*)\)/.exec(stat.value);
  const info: ProcessInfo = {
    pid,
    ppid: fields[1] !== undefined ? Number(fields[1]) : undefined,
    uid,
    user: uid === undefined ? undefined : ((await userNames()).get(uid) ?? String(uid)),
    argv,
    name: nameMatch ? nameMatch[1] : argv[0],
    startTime: fields[19],
  };
  if (environ.status === 'fulfilled') {
    info.envNames = environNames(environ.value);
    info.agentguardEnv = agentguardEnv(environ.value);
  }
  else problems.push({ pid, part: 'environment names', reason: reasonOf(environ.reason) });
  if (cwd.status === 'fulfilled') info.cwd = cwd.value;
  else problems.push({ pid, part: 'working folder', reason: reasonOf(cwd.reason) });
  if (exe.status === 'fulfilled') info.exe = exe.value.replace(/ \(deleted\)$/, '');
  else if (reasonOf(exe.reason) === 'permission denied') problems.push({ pid, part: 'executable', reason: 'permission denied' });
  return info;
}

/** All (or the given) processes through /proc. */
export async function listLinuxProcesses(procRoot: string, pids?: number[]): Promise<ProcessListing> {
  const problems: ReadProblem[] = [];
  const wanted = (pids ?? (await linuxPids(procRoot))).filter((pid) => pid !== process.pid);
  const read = await mapLimit(wanted, 16, (pid) => readLinuxProcess(procRoot, pid, problems));
  return { processes: read.filter((p): p is ProcessInfo => p !== undefined), problems };
}

/** Processes through ps-list (macOS, Windows, other Unixes): command lines only, no environment or working folder. */
export async function listPsProcesses(pids?: number[]): Promise<ProcessListing> {
  const { default: psList } = await import('ps-list');
  const all = await psList({ all: true });
  const wanted = pids ? all.filter((p) => pids.includes(p.pid)) : all;
  const problems: ReadProblem[] = pids
    ? pids.filter((pid) => !all.some((p) => p.pid === pid)).map((pid) => ({ pid, part: 'details' as const, reason: 'the process exited during the scan' }))
    : [];
  const processes = wanted
    .filter((p) => p.pid !== process.pid)
    .map((p): ProcessInfo => ({
      pid: p.pid,
      ppid: p.ppid,
      uid: p.uid,
      user: p.uid === undefined ? undefined : String(p.uid),
      argv: p.cmd ? splitCommandLine(p.cmd) : [p.name],
      name: p.name,
      exe: p.path || undefined,
      startTime: p.startTime ? String(p.startTime.getTime()) : undefined,
    }));
  return { processes, problems };
}

/** Splits a ps command line on spaces, honouring simple double quotes. Paths with unquoted spaces stay split. */
export function splitCommandLine(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** The command line as one string, quoting arguments with spaces and masking secret-looking values. */
export function maskCommand(argv: readonly string[], maxLength = 2000): string {
  // `NAME=value` in a command line is an environment assignment (`env DB_URL=… node app.js`): its value is masked
  // whatever the name.
  const masked = maskArgv(argv).map((arg) => arg.replace(/^([A-Z_][A-Z0-9_]*)=.+$/s, (_, name: string) => `${name}=***`));
  const text = masked.map((a) => (/[\s"]/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' ');
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

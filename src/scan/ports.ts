/**
 * Listening TCP sockets and the processes that own them: on Linux from `/proc/net/tcp{,6}` and the `socket:[inode]`
 * links in `/proc/<pid>/fd`; on macOS and other Unixes from `lsof`; on Windows from `netstat -ano`.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { linuxPids, mapLimit, reasonOf } from './process-info.js';
import type { ScanOptions, Skipped } from './types.js';

export interface ListeningSocket {
  /** The bound address: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, … (IPv4-mapped IPv6 addresses are given as IPv4). */
  host: string;
  port: number;
  pid?: number;
  inode?: number;
  /** The owning process's name when the listing gives it (lsof, netstat do not always). */
  process?: string;
}

export interface SocketListing {
  sockets: ListeningSocket[];
  skipped: Skipped[];
}

const LISTEN = '0A';

/** Four bytes of a /proc/net hex word in host byte order to dotted or hex groups. */
function wordBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return endianness() === 'LE' ? bytes.reverse() : bytes;
}

function formatIpv6(bytes: number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
  // Compress the longest run of zero groups (at least two) as `::`.
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.start === -1) return groups.join(':');
  return `${groups.slice(0, best.start).join(':')}::${groups.slice(best.start + best.length).join(':')}`;
}

/** Decodes a /proc/net/tcp(6) address such as `0100007F:2CA4` or a 32-hex-digit IPv6 one. */
export function decodeProcAddress(text: string): { host: string; port: number } {
  const [hex, portHex] = text.split(':');
  const port = parseInt(portHex, 16);
  if (hex.length === 8) return { host: wordBytes(hex).join('.'), port };
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  return { host: formatIpv6(bytes), port };
}

/** Listening sockets in the text of /proc/net/tcp or tcp6. */
export function parseProcNetTcp(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    sockets.push({ ...decodeProcAddress(fields[1]), inode: Number(fields[9]) });
  }
  return sockets;
}

/** `lsof -F pcnt` output: `p<pid>`, `c<command>`, then per file `t<type>` and `n<address:port>`. */
export function parseLsof(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  let pid: number | undefined;
  let command: string | undefined;
  let type = '';
  for (const line of text.split('\n')) {
    const [field, value] = [line[0], line.slice(1)];
    if (field === 'p') [pid, command] = [Number(value), undefined];
    else if (field === 'c') command = value;
    else if (field === 't') type = value;
    else if (field === 'n') {
      const m = /^(\[([^\]]+)\]|[^:]+|\*):(\d+)$/.exec(value.split('->')[0]);
      if (!m) continue;
      const host = m[1] === '*' ? (type === 'IPv6' ? '::' : '0.0.0.0') : (m[2] ?? m[1]);
      sockets.push({ host, port: Number(m[3]), pid, ...(command ? { process: command } : {}) });
    }
  }
  return sockets;
}

/** `netstat -ano -p TCP` (Windows) rows in state LISTENING. */
export function parseNetstat(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*TCP\s+(\[([^\]]+)\]|[\d.]+):(\d+)\s+\S+\s+LISTENING\s+(\d+)/i.exec(line);
    if (m) sockets.push({ host: m[2] ?? m[1], port: Number(m[3]), pid: Number(m[4]) });
  }
  return sockets;
}

function unique(sockets: ListeningSocket[]): ListeningSocket[] {
  const byKey = new Map<string, ListeningSocket>();
  for (const s of sockets) {
    const key = `${s.host}|${s.port}`;
    const known = byKey.get(key);
    if (!known || (known.pid === undefined && s.pid !== undefined)) byKey.set(key, s);
  }
  return [...byKey.values()];
}

async function linuxSockets(options: ScanOptions): Promise<SocketListing> {
  const skipped: Skipped[] = [];
  const sockets: ListeningSocket[] = [];
  for (const file of ['tcp', 'tcp6']) {
    const path = join(options.procRoot, 'net', file);
    try {
      sockets.push(...parseProcNetTcp(await readFile(path, 'utf8')));
    } catch (error) {
      // No tcp6 file means IPv6 is off: nothing is missing.
      if (!(file === 'tcp6' && (error as NodeJS.ErrnoException).code === 'ENOENT')) skipped.push({ what: path, reason: reasonOf(error).replace('the process exited during the scan', 'missing') });
    }
  }
  const owners = new Map<number, number>();
  const wanted = new Set(sockets.map((s) => s.inode));
  const unreadable: number[] = [];
  let pids: number[] = [];
  try {
    pids = options.pids ?? (await linuxPids(options.procRoot));
  } catch (error) {
    skipped.push({ what: `${options.procRoot} process list`, reason: reasonOf(error) });
  }
  await mapLimit(pids, 16, async (pid) => {
    if (owners.size === wanted.size) return; // every socket already has its owner
    const fdDir = join(options.procRoot, String(pid), 'fd');
    let fds: string[];
    try {
      fds = await readdir(fdDir);
    } catch (error) {
      if (reasonOf(error) === 'permission denied') unreadable.push(pid);
      return;
    }
    for (const fd of fds) {
      const target = await readlink(join(fdDir, fd)).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && wanted.has(Number(m[1])) && !owners.has(Number(m[1]))) owners.set(Number(m[1]), pid);
    }
  });
  for (const s of sockets) s.pid = owners.get(s.inode ?? -1);
  if (options.pids) return { sockets: unique(sockets.filter((s) => s.pid !== undefined)), skipped };

  const orphans = unique(sockets).filter((s) => s.pid === undefined);
  if (orphans.length > 0) {
    const ports = [...new Set(orphans.map((s) => s.port))];
    skipped.push({
      what: `owner process of ${orphans.length} listening socket${orphans.length > 1 ? 's' : ''} (port${ports.length > 1 ? 's' : ''} ${ports.slice(0, 8).join(', ')}${ports.length > 8 ? ', …' : ''})`,
      reason:
        unreadable.length > 0
          ? `permission denied reading the open files of ${unreadable.length} process${unreadable.length > 1 ? 'es' : ''}`
          : 'no visible process holds the socket (it belongs to the kernel or another namespace)',
    });
  }
  return { sockets: unique(sockets), skipped };
}

async function commandSockets(options: ScanOptions): Promise<SocketListing> {
  const windows = options.platform === 'win32';
  const [tool, args] = windows ? ['netstat', ['-ano', '-p', 'TCP']] : ['lsof', ['-nP', '-iTCP', '-sTCP:LISTEN', '-F', 'pcnt']];
  const { execa } = await import('execa');
  const result = await execa(tool, args, { reject: false, timeout: 5000, stripFinalNewline: false });
  if (result.failed && (result as { code?: string }).code === 'ENOENT') {
    return { sockets: [], skipped: [{ what: 'listening ports', reason: `${tool} is not installed, so listening ports cannot be listed on ${options.platform}` }] };
  }
  if (result.timedOut) return { sockets: [], skipped: [{ what: 'listening ports', reason: `${tool} timed out after 5000 ms` }] };
  const stdout = String(result.stdout ?? '');
  // lsof exits 1 when nothing matched; anything else without output is a failure.
  if (!stdout.trim() && result.exitCode !== 0 && !(tool === 'lsof' && result.exitCode === 1 && !String(result.stderr ?? '').trim())) {
    return { sockets: [], skipped: [{ what: 'listening ports', reason: `${tool} failed: ${String(result.stderr ?? '').trim().split('\n')[0] || `exit code ${result.exitCode}`}` }] };
  }
  let sockets = unique(windows ? parseNetstat(stdout) : parseLsof(stdout));
  if (options.pids) sockets = sockets.filter((s) => s.pid !== undefined && options.pids!.includes(s.pid));
  const skipped: Skipped[] = [];
  if (!windows && typeof process.getuid === 'function' && process.getuid() !== 0) {
    skipped.push({ what: "listening ports of other users' processes", reason: 'lsof shows only the processes this user may inspect; run as root to see all' });
  }
  return { sockets, skipped };
}

/**
 * Every listening TCP socket (or, with `options.pids`, those owned by these pids). A socket whose owner cannot be
 * found keeps `pid` undefined and a Skipped entry says why.
 */
export async function listeningSockets(options: ScanOptions): Promise<SocketListing> {
  if (options.platform === 'linux') return linuxSockets(options);
  return commandSockets(options);
}

import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `0` turns the hook decision daemon off: every hook call decides in its own process. */
export const DAEMON_ENV = 'AGENTGUARD_HOOK_DAEMON';
/** The folder the daemons' sockets are in (default `${XDG_RUNTIME_DIR or the temporary folder}/agentguard-<uid>`). */
export const DAEMON_DIR_ENV = 'AGENTGUARD_HOOK_DAEMON_DIR';
/** Milliseconds without a request after which a daemon exits (default 10 minutes). */
export const DAEMON_IDLE_ENV = 'AGENTGUARD_HOOK_DAEMON_IDLE_MS';
export const DEFAULT_IDLE_MS = 10 * 60_000;
/** Unix socket paths longer than this do not fit in sockaddr_un on every platform (104 on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 100;

/** Off with AGENTGUARD_HOOK_DAEMON=0, and on Windows (no Unix socket folder whose permissions keep other users out). */
export const daemonEnabled = (env: NodeJS.ProcessEnv): boolean => env[DAEMON_ENV] !== '0' && process.platform !== 'win32';

/** The installed package's folder: bin/agentguard-hook.js and dist/ are under it. */
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function packageVersion(): string {
  try {
    return String((JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
}

/** The folder the sockets go in, before it is checked. */
export function daemonDirOf(env: NodeJS.ProcessEnv): string {
  if (env[DAEMON_DIR_ENV]) return path.resolve(env[DAEMON_DIR_ENV]);
  const uid = process.getuid?.() ?? 'user';
  return path.join(env.XDG_RUNTIME_DIR || tmpdir(), `agentguard-${uid}`);
}

/**
 * The socket folder, created 0700 when missing, or why it must not be used: it has to be a real folder (not a symbolic
 * link) owned by this user with no permission for group or others, since whoever can write in it could answer for
 * agentguard.
 */
export function ensureDaemonDir(env: NodeJS.ProcessEnv, create = true): { dir: string } | { problem: string } {
  const dir = daemonDirOf(env);
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return { problem: `its folder ${dir} cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  let stat;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    return { problem: `its folder ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  if (stat.isSymbolicLink() || !stat.isDirectory()) return { problem: `${dir} is not a folder (a symbolic link or a file is there)` };
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return { problem: `${dir} belongs to another user (uid ${stat.uid})` };
  if ((stat.mode & 0o077) !== 0) return { problem: `${dir} can be used by other users (mode ${(stat.mode & 0o777).toString(8)}; it must be 700)` };
  return { dir };
}

/** Everything besides the policy files that a decision depends on: a hook started with other settings gets another daemon. */
export function daemonKey(projectDir: string, env: NodeJS.ProcessEnv): string {
  const hash = createHash('sha256');
  let code = '';
  try {
    // A rebuilt or reinstalled package with the same version number still gets a daemon of its own.
    const s = statSync(fileURLToPath(import.meta.url));
    code = `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    // the key still differs by version
  }
  const settings = Object.keys(env)
    .filter((name) => name.startsWith('AGENTGUARD_') || name.startsWith('OTEL_') || name === 'HOME' || name === 'XDG_CACHE_HOME')
    .sort()
    .map((name) => [name, env[name]]);
  hash.update(JSON.stringify([PACKAGE_DIR, packageVersion(), code, process.execPath, process.version, path.resolve(projectDir), settings]));
  // 96 bits of a hash: only names a daemon, the values it covers (tokens among them) cannot be read back from it.
  return hash.digest('base64url').slice(0, 16);
}

/** The socket of the daemon for this project and these settings, or why there is none. */
export function daemonSocket(projectDir: string, env: NodeJS.ProcessEnv): { socket: string } | { problem: string } {
  const dir = ensureDaemonDir(env);
  if ('problem' in dir) return dir;
  const socket = path.join(dir.dir, `${daemonKey(projectDir, env)}.sock`);
  // The daemon first binds a longer temporary name beside it (see server.ts).
  if (Buffer.byteLength(tempSocketOf(socket, 4_194_304)) >= MAX_SOCKET_PATH) return { problem: `its socket path would be too long (${socket}); set ${DAEMON_DIR_ENV} to a short folder` };
  return { socket };
}

export const tempSocketOf = (socket: string, pid: number): string => `${socket.slice(0, -'.sock'.length)}.${pid}.tmp`;

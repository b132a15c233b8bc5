import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private, throwaway PostgreSQL cluster for tests: initdb into a temporary folder, a free port, its unix socket in
 * that folder (no TCP listener), stopped and deleted by `stop()`. Never touches a system service. As root (CI here),
 * the server runs as the `postgres` system user, because initdb and postgres refuse to run as root; the folder is then
 * made under /tmp, since the test run's TMPDIR is readable by root only.
 */

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin'];

/** The folder holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
/** @returns {string | null} */
export function postgresBinDir() {
  return BIN_DIRS.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
/** @returns {string | null} */
export function postgresMissing() {
  if (postgresBinDir() === null) return `PostgreSQL server binaries (initdb, pg_ctl) are not installed (looked in ${BIN_DIRS.join(', ')}); .ci/run installs them with apt-get`;
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root and there is no postgres system user to run the server as';
  return null;
}

/**
 * @typedef {object} PgCluster
 * @property {string} url Connection URL of the cluster's `postgres` database (user agentguard, trust auth over the unix socket).
 * @property {(name: string) => string} database URL of another database in the cluster, created on first call.
 * @property {() => void} pause Stops the server (fast shutdown) without deleting anything: `start()` brings it back with the same data.
 * @property {() => void} start
 * @property {() => void} stop Stops the server and deletes its folder.
 */

/** @returns {Promise<number>} */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {{ port: number }} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @returns {Promise<PgCluster>} */
export async function startPgCluster() {
  const bin = postgresBinDir();
  if (bin === null) throw new Error(postgresMissing() ?? 'PostgreSQL is missing');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'agentguard-pg-'));
  const data = join(dir, 'data');
  /** @param {string} command @param {string[]} args */
  const run = (command, args) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  try {
    if (asRoot) {
      const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
      chownSync(dir, uid, gid);
    }
    run('initdb', ['-D', data, '-U', 'agentguard', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const options = `-k ${dir} -p ${port} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    start();
    /** @param {string} db */
    const url = (db) => `postgresql://agentguard@localhost:${port}/${db}?host=${encodeURIComponent(dir)}`;
    const created = new Set();
    let stopped = false;
    return {
      url: url('postgres'),
      database(name) {
        if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
        if (!created.has(name)) {
          execFileSync('psql', ['-h', dir, '-p', String(port), '-U', 'agentguard', '-d', 'postgres', '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
          created.add(name);
        }
        return url(name);
      },
      pause() {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      },
      start,
      stop() {
        if (stopped) return;
        stopped = true;
        try {
          if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    const log = existsSync(join(dir, 'server.log')) ? readdirSync(dir).join(', ') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a private PostgreSQL cluster in ${dir} (${log}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

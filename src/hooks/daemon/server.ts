import { linkSync, lstatSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadProjectConfig } from '../../core/config/project-config.js';
import { isPlainObject } from '../../core/plain-object.js';
import type { Action, Decision } from '../../core/action.js';
import type { Outcome } from '../../core/pipeline.js';
import { openDecider, type OpenedDecider } from '../../mcp/open-decider.js';
import { DAEMON_IDLE_ENV, DEFAULT_IDLE_MS, tempSocketOf } from './location.js';
import { fingerprint, sameFingerprint, watchedFiles, type WatchedFiles } from './policy-files.js';
import { encode, lineReader, PROTOCOL_VERSION, type DaemonAnswer, type DaemonStatus } from './protocol.js';
import { isLive } from './client.js';

/** How often the daemon checks that its socket file is still its own (removed or replaced: it exits). */
const SOCKET_CHECK_MS = 1000;
/** How long a stopping daemon waits for the requests it is answering. */
const DRAIN_MS = 5000;
/** How long a stopping daemon waits for its engines to close before it exits anyway. */
const FORCE_EXIT_MS = 15_000;

/** One opened decider and the bytes of the files it was opened from. */
interface Generation {
  opened: OpenedDecider;
  /** Undefined when the policy could not be loaded: such a decider answers one request and is closed. */
  watched?: WatchedFiles;
  hashes: string[];
  /** Lines the opening logged (a policy that cannot be loaded, …), shown with every answer as a hook in process shows them. */
  notes: string[];
  users: number;
  retired: boolean;
  closed?: boolean;
}

export interface DaemonOptions {
  socket: string;
  projectDir: string;
  env: NodeJS.ProcessEnv;
  version: string;
}

/**
 * The hook decision daemon: serves one project's decisions over a Unix socket to the hooks of that project (see
 * client.ts), with the decider local mode opens (openDecider), re-opened whenever the bytes of the config, the policy
 * or a file it includes change. Exits when idle, when its socket file is removed or replaced, on SIGTERM/SIGINT, and
 * when a guardrail plugin module changes (an ES module cannot be imported again).
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const started = new Date();
  const idleMs = Number(options.env[DAEMON_IDLE_ENV] ?? DEFAULT_IDLE_MS) || DEFAULT_IDLE_MS;
  let decisions = 0;
  let engineOpens = 0;
  let current: Generation | undefined;
  /** The policy files of the last opening, the first guess of the next one's. */
  let lastFiles: string[] | undefined;
  /** Hash of each plugin module file the first time it was imported: what this process runs for it, whatever the file says now. */
  const pluginBaseline = new Map<string, string>();
  let lock: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  let stopping = false;
  let socketIno: number | undefined;
  const connections = new Set<net.Socket>();

  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = lock.then(work, work);
    lock = run.catch(() => undefined);
    return run;
  };

  /** Engines being closed (each flushes its audit records): a stopping daemon waits for them. */
  const closing = new Set<Promise<void>>();
  function close(gen: Generation): void {
    if (gen.closed) return;
    gen.closed = true;
    const done = gen.opened.decider.close().catch(() => undefined);
    closing.add(done);
    void done.finally(() => closing.delete(done));
  }

  function release(gen: Generation): void {
    gen.users--;
    if (gen.users === 0 && (gen.retired || !gen.watched)) close(gen);
  }

  function retire(gen: Generation | undefined): void {
    if (!gen) return;
    gen.retired = true;
    if (gen.users === 0) close(gen);
  }

  async function open(guess: readonly string[]): Promise<Generation> {
    let files = [...guess];
    for (let attempt = 0; ; attempt++) {
      const before = new Map(files.map((file, i) => [file, fingerprint([file])[0]!] as const));
      const notes: string[] = [];
      engineOpens++;
      const opened = await openDecider({ projectDir: options.projectDir, log: (message) => void notes.push(message.replace(/^agentguard mcp: /, 'agentguard hook: ')) });
      const watched = watchedFiles(options.projectDir, opened);
      if (!watched) return { opened, notes, hashes: [], users: 0, retired: false };
      lastFiles = watched.policy;
      for (const [i, hash] of fingerprint(watched.plugins).entries()) if (!pluginBaseline.has(watched.plugins[i]!)) pluginBaseline.set(watched.plugins[i]!, hash);
      const hashes = fingerprint(watched.policy);
      // Kept only when every file was read with the same bytes before and after opening: the decider holds those bytes.
      const steady = watched.policy.every((file, i) => before.get(file) === hashes[i]);
      if (steady) return { opened, watched, hashes, notes, users: 0, retired: false };
      if (attempt >= 2) return { opened, watched, hashes: hashes.map(() => 'unsettled'), notes, users: 0, retired: false };
      await opened.decider.close().catch(() => undefined);
      files = watched.policy;
    }
  }

  /** The decider for the policy files as they are now (opened again when any byte changed), or 'stale'. */
  const acquire = (): Promise<Generation | 'stale'> =>
    serialized(async () => {
      for (const [file, hash] of pluginBaseline) if (fingerprint([file])[0] !== hash) return 'stale';
      if (current?.watched && sameFingerprint(fingerprint(current.watched.policy), current.hashes)) {
        current.users++;
        return current;
      }
      const previous = current;
      const next = await open(previous?.watched?.policy ?? lastFiles ?? (await filesToExpect(options.projectDir)));
      for (const [file, hash] of pluginBaseline) if (fingerprint([file])[0] !== hash) {
        await next.opened.decider.close().catch(() => undefined);
        return 'stale';
      }
      current = next.watched ? next : undefined;
      retire(previous);
      next.users++;
      return next;
    });

  async function answer(request: Record<string, unknown>): Promise<DaemonAnswer | 'stop'> {
    const id = typeof request.id === 'number' ? request.id : -1;
    const v = PROTOCOL_VERSION;
    if (request.v !== PROTOCOL_VERSION) return { v, id, error: `protocol version ${String(request.v)} is not ${PROTOCOL_VERSION}` };
    switch (request.op) {
      case 'status':
        return { v, id, status: status() };
      case 'stop':
        return 'stop';
      case 'decide':
      case 'settle':
      case 'recordOutcome': {
        if (stopping) return { v, id, error: 'the daemon is stopping' };
        const gen = await acquire();
        if (gen === 'stale') return { v, id, stale: 'a guardrail plugin module changed; this daemon exits and the next one imports it anew' };
        try {
          if (request.op === 'decide') {
            if (!isPlainObject(request.action)) return { v, id, error: 'decide needs an action object' };
            // The client gave up waiting and decides itself: deciding here too would record the call twice.
            if (typeof request.deadline === 'number' && Date.now() > request.deadline) return { v, id, error: 'the answer would come after the client stopped waiting' };
            const decision = await gen.opened.decider.decide(request.action as unknown as Action);
            decisions++;
            return { v, id, decision, ...(gen.notes.length > 0 ? { notes: gen.notes } : {}) };
          }
          if (!isPlainObject(request.decision)) return { v, id, error: `${request.op} needs a decision object` };
          if (request.op === 'settle') {
            const waitMs = typeof request.waitMs === 'number' && request.waitMs >= 0 ? request.waitMs : 0;
            return { v, id, decision: await gen.opened.decider.settle(request.decision as unknown as Decision, waitMs) };
          }
          if (!isPlainObject(request.outcome)) return { v, id, error: 'recordOutcome needs an outcome object' };
          await gen.opened.decider.recordOutcome(request.decision as unknown as Decision, request.outcome as unknown as Outcome);
          return { v, id, done: true };
        } finally {
          release(gen);
        }
      }
      default:
        return { v, id, error: `unknown operation ${JSON.stringify(request.op)}` };
    }
  }

  const status = (): DaemonStatus => ({ pid: process.pid, projectDir: options.projectDir, socket: options.socket, started: started.toISOString(), decisions, engineOpens, version: options.version });

  let idleTimer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => void (inFlight === 0 ? stop() : touch()), idleMs);
  };

  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    const send = (message: DaemonAnswer): void => {
      if (!socket.destroyed) socket.write(encode(message));
    };
    socket.on(
      'data',
      lineReader(
        (message) => {
          touch();
          if (!isPlainObject(message)) return send({ v: PROTOCOL_VERSION, id: -1, error: 'a request must be a JSON object' });
          inFlight++;
          void answer(message)
            .then((reply) => {
              if (reply === 'stop') {
                send({ v: PROTOCOL_VERSION, id: message.id as number, done: true });
                return void stop();
              }
              send(reply);
              if ('stale' in reply) void stop();
            })
            .catch((error: unknown) => send({ v: PROTOCOL_VERSION, id: typeof message.id === 'number' ? message.id : -1, error: `the daemon failed: ${error instanceof Error ? error.message : String(error)}` }))
            .finally(() => inFlight--);
        },
        (why) => {
          send({ v: PROTOCOL_VERSION, id: -1, error: `the daemon got ${why}` });
          socket.destroy();
        },
      ),
    );
  });

  const ours = (): boolean => {
    try {
      return socketIno !== undefined && lstatSync(options.socket).ino === socketIno;
    } catch {
      return false;
    }
  };

  let stopped: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopped ??= (async () => {
      stopping = true;
      // An engine that does not close (a stuck exporter) must not keep a stopped daemon around.
      setTimeout(() => process.exit(0), FORCE_EXIT_MS).unref();
      clearTimeout(idleTimer);
      clearInterval(watch);
      // First the name, so a hook starting now starts the next daemon instead of asking this one.
      if (ours()) rmSync(options.socket, { force: true });
      server.close();
      for (let waited = 0; inFlight > 0 && waited < DRAIN_MS; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const socket of connections) socket.end();
      await lock.catch(() => undefined);
      if (current) close(current);
      current = undefined;
      await Promise.all([...closing]);
      // Closing the deciders flushed the audit trail; timers or sockets a guardrail left open must not keep the daemon.
      process.exit(0);
    })();
    return stopped;
  }

  let watch: NodeJS.Timeout | undefined;
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  await bind(server, options.socket);
  server.on('error', () => void stop());
  socketIno = lstatSync(options.socket).ino;
  // Only now: before the name is ours, "not ours" would be every check's answer.
  watch = setInterval(() => {
    if (!stopping && !ours()) void stop();
  }, SOCKET_CHECK_MS);
  watch.unref();
  touch();
}

/**
 * Puts the server at `socket` without ever taking the name from a daemon that answers there: it listens at a name of
 * its own, then links it in place (which fails when the name exists). A name nobody answers at is stale and replaced
 * by an atomic rename; when two daemons race for it, the one whose file was replaced sees that and exits.
 */
async function bind(server: net.Server, socket: string): Promise<void> {
  const temp = tempSocketOf(socket, process.pid);
  rmSync(temp, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(temp, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    linkSync(temp, socket);
    rmSync(temp, { force: true });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (await isLive(socket)) {
    server.close();
    rmSync(temp, { force: true });
    process.exit(0);
  }
  renameSync(temp, socket);
}

/**
 * The files an opening will most likely read (the config and the policy it names), hashed before it so that a first
 * opening usually needs no second one; the files of includes are learnt from the opening itself.
 */
async function filesToExpect(projectDir: string): Promise<string[]> {
  const config = path.join(path.resolve(projectDir), 'agentguard.config.json');
  try {
    const project = await loadProjectConfig(projectDir);
    return [...new Set([config, ...(project.file ? [path.resolve(project.file)] : []), path.resolve(project.paths.policy)])];
  } catch {
    return [config];
  }
}

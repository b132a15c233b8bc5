import net from 'node:net';
import type { Action, Decision } from '../../core/action.js';
import { isPlainObject } from '../../core/plain-object.js';
import { gatewayDeny, type McpDecider } from '../../mcp/decider.js';
import { encode, isDecisionShape, knownEffect, lineReader, PROTOCOL_VERSION, type DaemonAnswer, type DaemonRequest } from './protocol.js';

/** Milliseconds a hook waits for a daemon's answer before deciding in its own process (default 3000). */
export const DAEMON_TIMEOUT_ENV = 'AGENTGUARD_HOOK_DAEMON_TIMEOUT_MS';
export const DEFAULT_ANSWER_TIMEOUT_MS = 3000;
/** Connecting to a Unix socket that is served takes well under a millisecond; longer means the daemon is stuck. */
export const CONNECT_TIMEOUT_MS = 500;

type Why = 'absent' | 'stale' | 'timeout' | 'malformed' | 'error';

export class DaemonUnavailable extends Error {
  constructor(
    readonly why: Why,
    message: string,
  ) {
    super(message);
  }
}

type Body = DaemonRequest extends infer R ? (R extends DaemonRequest ? Omit<R, 'v' | 'id'> : never) : never;

/** One connection to a daemon: requests are answered in any order, matched by id. */
export class DaemonConnection {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (answer: DaemonAnswer) => void; reject: (error: DaemonUnavailable) => void; timer: NodeJS.Timeout }>();

  private constructor(private readonly socket: net.Socket) {
    socket.on(
      'data',
      lineReader(
        (message) => this.receive(message),
        (why) => this.failAll(new DaemonUnavailable('malformed', `the daemon sent ${why}`)),
      ),
    );
    socket.on('close', () => this.failAll(new DaemonUnavailable('error', 'the daemon closed the connection')));
    socket.on('error', () => undefined);
  }

  static connect(path: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<DaemonConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DaemonUnavailable('timeout', `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new DaemonConnection(socket));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const absent = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
        reject(new DaemonUnavailable(absent ? 'absent' : 'error', absent ? 'no daemon runs' : `cannot connect (${error.code ?? 'error'})`));
      });
    });
  }

  request(body: Body, timeoutMs: number): Promise<DaemonAnswer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DaemonUnavailable('timeout', `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(encode({ ...body, v: PROTOCOL_VERSION, id } as DaemonRequest));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(message: unknown): void {
    if (!isPlainObject(message) || message.v !== PROTOCOL_VERSION || typeof message.id !== 'number') {
      return this.failAll(new DaemonUnavailable('malformed', 'the daemon answered in another format or protocol version'));
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    waiting.resolve(message as unknown as DaemonAnswer);
  }

  private failAll(error: DaemonUnavailable): void {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      this.pending.delete(id);
      waiting.reject(error);
    }
    this.socket.destroy();
  }
}

/** One request on a connection of its own, closed afterwards; rejects with DaemonUnavailable when there is no answer. */
export async function askOnce(path: string, body: Body, connectMs: number, answerMs: number): Promise<DaemonAnswer> {
  const connection = await DaemonConnection.connect(path, connectMs);
  try {
    return await connection.request(body, answerMs);
  } finally {
    connection.close();
  }
}

/** Whether a daemon answers at `path` (a status request within `timeoutMs`). */
export async function isLive(path: string, timeoutMs = 1000): Promise<boolean> {
  try {
    return 'status' in (await askOnce(path, { op: 'status' }, timeoutMs, timeoutMs));
  } catch {
    return false;
  }
}

export interface DaemonDeciderOptions {
  socket: string;
  answerTimeoutMs: number;
  /** The hook's own decider (local mode in this process), opened only when the daemon cannot answer. */
  openLocal: () => Promise<McpDecider>;
  /** Starts a daemon for the next hook (called at most once, never awaited). */
  spawn: () => void;
  /** Lines for the hook's stderr. */
  note: (line: string) => void;
}

function answered(answer: DaemonAnswer, action: Action): Decision {
  if ('stale' in answer) throw new DaemonUnavailable('stale', answer.stale);
  if ('error' in answer) throw new DaemonUnavailable('error', answer.error);
  if (!('decision' in answer) || !isDecisionShape(answer.decision)) throw new DaemonUnavailable('malformed', 'the daemon answered something that is not a decision');
  const decision = answer.decision;
  // Never passed on as it is: the hook acts on allow and transform only, and an effect it does not know is a deny.
  if (!knownEffect(decision)) return gatewayDeny(action, 'decision_error', `The hook daemon answered an unknown effect "${decision.effect}", so the call was denied`);
  return decision;
}

/**
 * A hook's decider that asks the project's daemon and, when the daemon is missing, stale, slow or answers something
 * that is not a decision, decides in this process exactly as a hook without a daemon does (and starts a daemon for
 * the next call when none runs). It never turns a failure into an allow.
 */
export function daemonDecider(options: DaemonDeciderOptions): McpDecider {
  let connection: Promise<DaemonConnection> | undefined;
  let local: Promise<McpDecider> | undefined;
  let spawned = false;

  const fallBack = (error: unknown): Promise<McpDecider> => {
    const why = error instanceof DaemonUnavailable ? error.why : 'error';
    // A missing daemon is the first call's normal case, a stale one a plugin's change: only the others are news.
    if (why !== 'absent' && why !== 'stale' && !local) options.note(`agentguard hook: the hook decision daemon did not answer (${error instanceof Error ? error.message : String(error)}), so this call was decided in this process.`);
    if ((why === 'absent' || why === 'stale') && !spawned) {
      spawned = true;
      try {
        options.spawn();
      } catch {
        // Only the next call's speed depends on it.
      }
    }
    void connection?.then((c) => c.close()).catch(() => undefined);
    local ??= options.openLocal();
    return local;
  };

  async function ask(body: Body, timeoutMs: number): Promise<DaemonAnswer> {
    connection ??= DaemonConnection.connect(options.socket);
    return (await connection).request(body, timeoutMs);
  }

  /** Asks the daemon through `remote`; once it could not answer, `inProcess` decides with the hook's own decider. */
  async function viaDaemon<T>(remote: () => Promise<T>, inProcess: (decider: McpDecider) => Promise<T>): Promise<T> {
    if (local) return inProcess(await local);
    try {
      return await remote();
    } catch (error) {
      return inProcess(await fallBack(error));
    }
  }

  return {
    decide: (action) =>
      viaDaemon(
        async () => {
          const answer = await ask({ op: 'decide', action, deadline: Date.now() + options.answerTimeoutMs }, options.answerTimeoutMs);
          const decision = answered(answer, action);
          if ('notes' in answer && Array.isArray(answer.notes)) for (const line of answer.notes) if (typeof line === 'string') options.note(line);
          return decision;
        },
        (decider) => decider.decide(action),
      ),
    settle: (decision, waitMs) =>
      viaDaemon(
        async () => answered(await ask({ op: 'settle', decision, waitMs }, waitMs + options.answerTimeoutMs), decision.action),
        (decider) => decider.settle(decision, waitMs),
      ),
    recordOutcome: (decision, outcome) =>
      viaDaemon(
        async () => {
          const answer = await ask({ op: 'recordOutcome', decision, outcome }, options.answerTimeoutMs);
          if (!('done' in answer)) throw new DaemonUnavailable('error' in answer ? 'error' : 'malformed', 'the daemon did not record the outcome');
        },
        (decider) => decider.recordOutcome(decision, outcome),
      ),
    async close() {
      await connection?.then((c) => c.close()).catch(() => undefined);
      await (await local?.catch(() => undefined))?.close();
    },
  };
}

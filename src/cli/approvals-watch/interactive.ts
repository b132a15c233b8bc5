import { emitKeypressEvents } from 'node:readline';
import type { ChalkInstance } from 'chalk';
import { isAgentGuardError } from '../../core/errors.js';
import { keyFrom, type Keypress } from './keys.js';
import { readWatched } from './poll.js';
import { renderScreen } from './render-screen.js';
import { ENTER_SCREEN, frame, LEAVE_SCREEN } from './screen.js';
import type { ApprovalSource } from './source.js';
import { initialWatchState, update, type WatchCommand, type WatchInput, type WatchState, type WatchStatus } from './state.js';

/** The keyboard: a readable terminal (stdin), or a stand-in with the same shape in tests. */
export interface KeyInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** The screen: a writable terminal (stdout) with its size. */
export interface ScreenOutput extends NodeJS.WritableStream {
  columns?: number;
  rows?: number;
}

export interface InteractiveOptions {
  source: ApprovalSource;
  input: KeyInput;
  output: ScreenOutput;
  /** Who decides (--by, else $USER). */
  by: string;
  status: WatchStatus;
  intervalMs: number;
  /** Stops the screen from outside (SIGTERM); Ctrl-C and `q` arrive as keys. */
  signal: AbortSignal;
  paint?: ChalkInstance;
  now?: () => Date;
}

/** How often the countdowns are redrawn between polls. */
const TICK_MS = 1000;

/**
 * The interactive `approvals watch` screen: polls every `intervalMs`, redraws on every change and every second, and
 * runs the commands the state asks for (decisions through `source.decide`). Resolves when the user quits or `signal`
 * aborts, after putting the terminal back (raw mode off, cursor shown, normal screen) and letting a decision under
 * way finish. A refused decision (ApprovalClosedError and the like) is a message on the screen; an unexpected error
 * ends the screen and is thrown.
 *
 * @example await runInteractive({ source, input: process.stdin, output: process.stdout, by: 'alice', status: 'pending', intervalMs: 1000, signal })
 */
export async function runInteractive(options: InteractiveOptions): Promise<WatchState> {
  const { source, input, output } = options;
  const now = options.now ?? (() => new Date());
  let state = initialWatchState({ by: options.by, status: options.status });
  let failure: { error: unknown } | null = null;
  /** Set once the screen is ending: nothing more is drawn or read. */
  let stopped = false;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  const finish = () => {
    stopped = true;
    resolveFinished();
  };
  const inflight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  };
  const fail = (error: unknown) => {
    failure ??= { error };
    finish();
  };

  const draw = () => {
    if (stopped) return;
    output.write(frame(renderScreen(state, now(), output.columns || 80, { height: output.rows || 24, paint: options.paint })));
  };
  const dispatch = (event: WatchInput) => {
    const step = update(state, event);
    state = step.state;
    draw();
    if (step.command) execute(step.command);
  };
  const execute = (command: WatchCommand) => {
    if (command.type === 'quit') return finish();
    const decision = { status: command.status, by: options.by, ...(command.comment === undefined ? {} : { comment: command.comment }) };
    track(
      source.decide(command.id, decision).then(
        (approval) => {
          dispatch({ type: 'decided', approval });
          refresh();
        },
        (error: unknown) => {
          if (!isAgentGuardError(error)) return fail(error);
          dispatch({ type: 'decide-failed', message: error.message });
          refresh();
        },
      ),
    );
  };

  // One poll at a time; a refresh asked for during one runs right after it, so the screen never goes back in time.
  let polling = false;
  let again = false;
  const refresh = () => {
    if (stopped) return;
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    track(
      readWatched(source, options.status)
        .then(
          (records) => dispatch({ type: 'records', records }),
          (error: unknown) => (isAgentGuardError(error) ? dispatch({ type: 'poll-failed', message: `Could not read the approvals: ${error.message}` }) : fail(error)),
        )
        .finally(() => {
          polling = false;
          if (again) {
            again = false;
            refresh();
          }
        }),
    );
  };

  const onKeypress = (str: string | undefined, key: Keypress | undefined) => {
    const parsed = keyFrom(str, key);
    if (parsed !== null && !stopped) dispatch({ type: 'key', key: parsed });
  };
  const onAbort = () => finish();

  emitKeypressEvents(input);
  input.on('keypress', onKeypress);
  output.on('resize', draw);
  options.signal.addEventListener('abort', onAbort, { once: true });
  input.setRawMode?.(true);
  input.resume();
  output.write(ENTER_SCREEN);
  const poller = setInterval(refresh, options.intervalMs);
  const ticker = setInterval(draw, TICK_MS);
  try {
    if (options.signal.aborted) finish();
    draw();
    refresh();
    await finished;
  } finally {
    clearInterval(poller);
    clearInterval(ticker);
    options.signal.removeEventListener('abort', onAbort);
    input.removeListener('keypress', onKeypress);
    output.removeListener('resize', draw);
    input.setRawMode?.(false);
    input.pause();
    output.write(LEAVE_SCREEN);
    // A decision already sent is let finish, so the store is not closed under it.
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  }
  if (failure) throw (failure as { error: unknown }).error;
  return state;
}

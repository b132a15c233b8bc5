import { Worker } from 'node:worker_threads';
import type { Diagnostics } from 'recheck';

type Attack = NonNullable<Extract<Diagnostics, { status: 'vulnerable' }>['attack']>;

/** Time an input as long as the regex's cap may take in this engine before the regex counts as catastrophic. */
export function confirmBudgetMs(length: number): number {
  // A linear regex takes a few milliseconds on 64 Ki characters even on a loaded machine; a quadratic one, seconds.
  return 1_000 + Math.ceil(length / 1_000);
}

/** recheck's attack string pumped to about `length` characters (its pumps repeated, then its suffix). */
export function scaledAttack(attack: Attack, length: number): string {
  const fixed = attack.pumps.reduce((n, p) => n + p.prefix.length, 0) + attack.suffix.length;
  const perRound = attack.pumps.reduce((n, p) => n + p.pump.length, 0);
  if (perRound === 0) return attack.string;
  const rounds = Math.max(1, Math.floor((length - fixed) / perRound));
  return attack.pumps.map((p) => p.prefix + p.pump.repeat(Math.max(0, rounds + p.bias))).join('') + attack.suffix;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.postMessage('ready');
re.test(workerData.input);
parentPort.postMessage('done');
`;

/**
 * Runs a regex on an input in a worker thread and says whether it finished within `budgetMs` (the worker is
 * terminated otherwise, so a catastrophic regex costs the budget, not the process). recheck's fuzzing checker
 * models backtracking with its own engine and sometimes reports a regex that V8 runs in linear time; its attack,
 * pumped to the length the regex may see, is run in this engine to tell.
 */
export function finishesWithin(source: string, flags: string, input: string, budgetMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { source, flags, input } });
    let timer: NodeJS.Timeout | undefined;
    const settle = (finished: boolean) => {
      clearTimeout(timer);
      worker.removeAllListeners();
      void worker.terminate();
      resolve(finished);
    };
    worker.on('message', (message) => {
      if (message === 'ready') timer = setTimeout(() => settle(false), budgetMs);
      else settle(true);
    });
    worker.on('error', () => settle(false));
    worker.on('exit', () => settle(false));
  });
}

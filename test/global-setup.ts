import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives the whole test run a temporary directory of its own (TMPDIR, inherited by the test workers and by every
 * process they start) and, at the end, fails the run if anything is left in it or any process started from it still
 * runs: tests must remove their folders and stop their daemons. The directory is removed either way.
 */

// tsx keeps its compile cache in the temporary directory: not a test's leftover.
const NOT_LEFTOVERS = /^tsx-\d+$/;

interface Run {
  dir: string;
  previousTmpdir: string | undefined;
  users: number;
}

// One run directory even when several projects (unit, e2e) each call this setup in the same process.
const state = globalThis as typeof globalThis & { agentguardTestRun?: Run };

export default function setup(): () => Promise<void> {
  if (state.agentguardTestRun === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'agentguard-test-run-'));
    state.agentguardTestRun = { dir, previousTmpdir: process.env.TMPDIR, users: 0 };
    process.env.TMPDIR = dir;
  }
  const run = state.agentguardTestRun;
  run.users++;
  return async () => {
    if (--run.users > 0) return;
    state.agentguardTestRun = undefined;
    if (run.previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = run.previousTmpdir;
    const processes = await processesStillRunning(run.dir);
    const leftovers = readdirSync(run.dir).filter((name) => !NOT_LEFTOVERS.test(name));
    for (const { pid } of processes) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(run.dir, { recursive: true, force: true, maxRetries: 3 });
    const problems = [
      ...leftovers.map((name) => `  left behind: ${join(run.dir, name)}`),
      ...processes.map(({ pid, command }) => `  still running (now killed): pid ${pid} ${command}`),
    ];
    if (problems.length > 0) {
      // vitest reports an error thrown here but still exits 0: the exit code is set too.
      process.exitCode = 1;
      throw new Error(`The tests left things behind; remove them in afterAll/afterEach:\n${problems.join('\n')}`);
    }
  };
}

/**
 * Processes other than this one whose environment has the run's TMPDIR, i.e. started by the tests (a detached daemon
 * too, though its parent is gone). Waits a little for those that are just exiting. Linux only (/proc).
 */
async function processesStillRunning(dir: string): Promise<Array<{ pid: number; command: string }>> {
  if (!existsSync('/proc')) return [];
  const marker = `TMPDIR=${dir}\0`;
  const find = () =>
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
      .flatMap((name) => {
        try {
          const environ = readFileSync(`/proc/${name}/environ`, 'latin1');
          if (!`${environ}\0`.includes(marker)) return [];
          return [{ pid: Number(name), command: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
        } catch {
          return []; // exited meanwhile, or not ours to read
        }
      });
  let found = find();
  for (let i = 0; i < 30 && found.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = find();
  }
  return found;
}

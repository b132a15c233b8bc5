import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runInteractive } from '../src/cli/approvals-watch/interactive.js';
import { ENTER_SCREEN, LEAVE_SCREEN } from '../src/cli/approvals-watch/screen.js';
import { Approvals } from '../src/core/approvals/service.js';
import type { ApprovalRecord, ApprovalSpec } from '../src/core/approvals/types.js';
import { openStore } from '../src/core/store/open-store.js';
import type { Store } from '../src/core/store/store.js';
import { BIN, ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { approvalDecision } from './helpers/approval-fixtures.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// Under an hour, so the countdown always reads minutes and seconds ("49m58s"), however fast the watch starts.
const TIMEOUT_MS = 50 * 60_000;

function tempDataDir(): string {
  return join(makeTempDir('ag-cli-approvals-watch-'), 'data');
}

const decision = approvalDecision;

const spec: ApprovalSpec = { timeoutMs: TIMEOUT_MS, approvers: [], onTimeout: 'deny', escalateTo: [] };

/** Asks for one approval in the data folder through the service, as the pipeline does. */
async function requestApproval(dataDir: string, decisionId: string, amount: number): Promise<ApprovalRecord> {
  const store = await openStore({ dataDir });
  try {
    return await new Approvals(store.approvals, store.audit).request(decision(decisionId, amount), spec);
  } finally {
    await store.close();
  }
}

/** Collected output of a stream, and a way to wait until it holds something (or the process ends first). */
class Output {
  text = '';
  private waiters: Array<() => void> = [];

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer | string) => {
      this.text += chunk.toString();
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Waits until `test` holds; fails naming `what` and the last output if the process ends or 20 s pass first. */
  async waitFor(test: (text: string) => boolean, what: string, ended?: Promise<unknown>): Promise<void> {
    let over = false;
    let late = false;
    void ended?.then(() => (over = true));
    const timer = setTimeout(() => {
      late = true;
      for (const wake of this.waiters.splice(0)) wake();
    }, 20_000);
    try {
      while (!test(this.text)) {
        if (over) throw new Error(`ended before ${what}; output so far:\n${this.text}`);
        if (late) throw new Error(`no ${what} within 20 s; the last output:\n${JSON.stringify(this.text.slice(-2000))}`);
        await new Promise<void>((resolve) => {
          this.waiters.push(resolve);
          void ended?.then(() => resolve());
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

interface Watcher {
  child: ChildProcessWithoutNullStreams;
  stdout: Output;
  stderr: Output;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcessWithoutNullStreams[] = [];

function startWatch(args: string[]): Watcher {
  const child = spawn(process.execPath, [BIN, 'approvals', 'watch', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: new Output(child.stdout), stderr: new Output(child.stderr), exit };
}

function events(ndjson: string): Array<[string, string, string]> {
  return ndjson
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { event: string; approval: ApprovalRecord })
    .map(({ event, approval }) => [event, approval.id, approval.status]);
}

beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist/commands/approvals/watch.js')), 'run `npm run build` first').toBe(true);
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('agentguard approvals watch without a terminal', () => {
  it('--json: waits for the database, prints a new request and then its approval as NDJSON, and exits 0 on SIGINT', async () => {
    const dataDir = tempDataDir();
    const watch = startWatch(['--json', '--interval', '100ms', '--data-dir', dataDir]);
    // The database does not exist yet; the first approval shows up as pending or requested, depending on whether the
    // watch had polled before it was asked for. Once it shows, the watch is polling.
    const first = await requestApproval(dataDir, 'dec_watch_1', 5000);
    const seen = (id: string, ...wanted: string[]) => (text: string) => events(text).some(([e, i]) => i === id && wanted.includes(e));
    await watch.stdout.waitFor(seen(first.id, 'pending', 'requested'), 'the first approval', watch.exit);
    const pending = await requestApproval(dataDir, 'dec_watch_2', 6000);
    await watch.stdout.waitFor(seen(pending.id, 'requested'), 'the request', watch.exit);

    const approved = await runCliInProcess(['approvals', 'approve', pending.id, '--by', 'alice', '--comment', 'checked', '--data-dir', dataDir]);
    expect(approved.code, approved.stderr).toBe(0);
    await watch.stdout.waitFor(seen(pending.id, 'approved'), 'the approval', watch.exit);

    watch.child.kill('SIGINT');
    expect(await watch.exit).toEqual({ code: 0, signal: null });
    expect(events(watch.stdout.text).slice(1)).toEqual([
      ['requested', pending.id, 'pending'],
      ['approved', pending.id, 'approved'],
    ]);
    const lines = watch.stdout.text.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; approval: ApprovalRecord });
    expect(lines.map((l) => Object.keys(l).sort())).toEqual(lines.map(() => ['approval', 'event']));
    expect(lines[2].approval).toMatchObject({ decidedBy: 'alice', comment: 'checked' });
    expect(watch.stderr.text).toBe('');
  });

  it('prints the pending approvals first, then each change as a plain line, and exits 0 on SIGTERM', async () => {
    const dataDir = tempDataDir();
    const first = await requestApproval(dataDir, 'dec_watch_a', 3000);
    const watch = startWatch(['--interval', '100ms', '--data-dir', dataDir]);
    await watch.stdout.waitFor((t) => t.includes(` pending ${first.id} `), 'the pending approval', watch.exit);
    const second = await requestApproval(dataDir, 'dec_watch_b', 7000);
    await watch.stdout.waitFor((t) => t.includes(` requested ${second.id} `), 'the new request', watch.exit);
    const denied = await runCliInProcess(['approvals', 'deny', first.id, '--by', 'bob', '--comment', 'wrong vendor', '--data-dir', dataDir]);
    expect(denied.code, denied.stderr).toBe(0);
    await watch.stdout.waitFor((t) => t.includes(` denied ${first.id} `), 'the denial', watch.exit);

    watch.child.kill('SIGTERM');
    expect(await watch.exit).toEqual({ code: 0, signal: null });
    const lines = watch.stdout.text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^\\S+Z pending ${first.id} agent=pay-bot tool payments.transfer amount=3000 to=acme \\| Transfers over 1000 need a person \\| expires in \\d\\d?m\\d\\ds$`));
    expect(lines[1]).toMatch(new RegExp(`^\\S+Z requested ${second.id} agent=pay-bot tool payments.transfer amount=7000 to=acme \\| `));
    expect(lines[2]).toMatch(new RegExp(`^\\S+Z denied ${first.id} agent=pay-bot tool payments.transfer amount=3000 to=acme \\| by bob: wrong vendor$`));
    expect(lines.join('\n')).not.toMatch(/\x1b\[/);
  });

  it('refuses a nonsense --interval with exit 2 and a hint', async () => {
    for (const interval of ['fast', '10ms']) {
      const result = await runCliInProcess(['approvals', 'watch', '--interval', interval, '--data-dir', tempDataDir()]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`Error (INVALID_INTERVAL): --interval "${interval}"`);
      expect(result.stderr).toContain('--interval 1s');
    }
    const status = await runCliInProcess(['approvals', 'watch', '--status', 'denied', '--data-dir', tempDataDir()]);
    expect(status.code).toBe(2);
  });
});

/** A keyboard stand-in: a stream that says it is a terminal and records raw-mode changes. */
class FakeKeyboard extends PassThrough {
  readonly isTTY = true;
  readonly rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.rawModes.push(mode);
    return this;
  }
}

/** A screen stand-in: a stream with a terminal's size. */
class FakeScreen extends PassThrough {
  readonly isTTY = true;
  columns = 160;
  rows = 30;
}

describe('the interactive watch loop (fake terminal streams)', () => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  it('selects, shows details, approves with a comment, reports one decided elsewhere, and restores the terminal on q', async () => {
    const dataDir = tempDataDir();
    store = await openStore({ dataDir });
    const approvals = new Approvals(store.approvals, store.audit);
    const older = await approvals.request(decision('dec_i_old', 3000), spec);
    // Requests made in the same millisecond are listed by id, which is random; the list order this test walks needs
    // the second request to be strictly newer.
    while (new Date().toISOString() <= older.requestedAt) await new Promise((resolve) => setTimeout(resolve, 1));
    const newer = await approvals.request(decision('dec_i_new', 7000), spec);
    const keyboard = new FakeKeyboard();
    const screen = new FakeScreen();
    const output = new Output(screen);
    const controller = new AbortController();
    const done = runInteractive({ source: approvals, input: keyboard, output: screen, by: 'tester', status: 'pending', intervalMs: 50, signal: controller.signal });
    const ended = done.then(() => undefined, () => undefined);
    /** Waits for `text` to appear in output written after this call. */
    const press = async (keys: string, text: string) => {
      const from = output.text.length;
      keyboard.write(keys);
      await output.waitFor((t) => t.slice(from).includes(text), JSON.stringify(text), ended);
    };

    await output.waitFor((t) => t.includes(`> ${newer.id.slice(0, 12)}`), 'the list', ended);
    await press('j', `> ${older.id.slice(0, 12)}`);
    await press('\r', 'action hash:');
    await press('\r', `> ${older.id.slice(0, 12)}`);
    await press('a', `Approve ${older.id} (payments.transfer by pay-bot)? [y/n]`);
    await press('y', 'Comment (optional');
    await press('fine by me', 'fine by me');
    await press('\r', `Approved ${older.id} (payments.transfer) as tester`);
    expect(await approvals.get(older.id)).toMatchObject({ status: 'approved', decidedBy: 'tester', comment: 'fine by me' });

    // Someone else denies the other one while this screen asks for a comment: a message, not a crash.
    await press('d', `Deny ${newer.id}`);
    await press('y', 'Comment (optional');
    await approvals.decide(newer.id, { status: 'denied', by: 'bob' });
    await press('\r', `approval ${newer.id} is already denied by bob`);
    expect(await approvals.get(newer.id)).toMatchObject({ status: 'denied', decidedBy: 'bob' });
    await output.waitFor((t) => t.includes('No pending approvals. Waiting for new ones…'), 'the empty list', ended);

    keyboard.write('q');
    const state = await done;
    expect(state.quit).toBe(true);
    expect(keyboard.rawModes).toEqual([true, false]);
    expect(output.text.startsWith(ENTER_SCREEN)).toBe(true);
    expect(output.text.endsWith(LEAVE_SCREEN)).toBe(true);
    expect(keyboard.isPaused()).toBe(true);
  }, 60_000);

  it('ends on Ctrl-C or on the abort signal, restoring the terminal either way', async () => {
    store = await openStore({ dataDir: tempDataDir() });
    const approvals = new Approvals(store.approvals, store.audit);
    for (const how of ['ctrl-c', 'signal'] as const) {
      const keyboard = new FakeKeyboard();
      const screen = new FakeScreen();
      const output = new Output(screen);
      const controller = new AbortController();
      const done = runInteractive({ source: approvals, input: keyboard, output: screen, by: 'tester', status: 'all', intervalMs: 50, signal: controller.signal });
      await output.waitFor((t) => t.includes('No approvals. Waiting for new ones…'), 'the empty list', done);
      if (how === 'ctrl-c') keyboard.write('\x03');
      else controller.abort();
      expect((await done).quit).toBe(how === 'ctrl-c');
      expect(keyboard.rawModes).toEqual([true, false]);
      expect(output.text.endsWith(LEAVE_SCREEN)).toBe(true);
    }
  });
});

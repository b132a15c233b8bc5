import { Console } from 'node:console';
import { Readable, Writable } from 'node:stream';
import { Config, run } from '@oclif/core';
import { Exit, handle } from '@oclif/core/handle';
import { BIN, CLI_ENV, ROOT, type CliOptions, type CliResult } from './cli.js';

/**
 * Runs an agentguard command inside the test process, through oclif's own `run` (the same routing, flag parsing,
 * help and error handling as `bin/run.js`), with what a child process would have had of its own: stdin, stdout,
 * stderr, console, environment, working directory and exit code. Under vitest (NODE_ENV=test) oclif loads the
 * commands from src/ through tsx, exactly as the spawned `bin/run.js` does, so no build is needed.
 *
 * Runs are serialized (a process has one cwd and one env); each restores everything it changed, even on failure.
 * Long-running commands (`--follow`, `watch`, `sidecar start` in the foreground) and signals need `runCli`.
 */
export function runCliInProcess(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const result = queue.then(() => runIsolated(args, options));
  queue = result.catch(() => undefined);
  return result;
}

let queue: Promise<unknown> = Promise.resolve();
let config: Promise<Config> | undefined;
let warmed: Promise<void> | undefined;

/**
 * Loads oclif's config and every command once, with the project as the working directory. The first TypeScript module
 * tsx transforms loads esbuild, which keeps the working directory of that moment for every transform after it; loaded
 * inside a run, that is the run's temporary folder, and once the folder is gone a command that imports a module not
 * transformed yet fails with "spawn …/esbuild ENOENT" (seen on fresh clones in CI).
 */
function warmUp(): Promise<void> {
  warmed ??= (async () => {
    config ??= Config.load({ root: ROOT });
    const loaded = await config;
    for (const command of loaded.commands) await command.load();
  })();
  return warmed;
}

/** A write stream that keeps what is written to it, as a pipe does (not a TTY). */
class Capture extends Writable {
  text = '';
  readonly isTTY = false;

  constructor() {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

async function runIsolated(args: string[], options: CliOptions): Promise<CliResult> {
  await warmUp().catch(() => undefined);
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Object.assign(Readable.from(options.input ? [Buffer.from(options.input)] : []), { isTTY: false });
  const restore = sandbox({ stdin, stdout, stderr }, { ...CLI_ENV, ...options.env }, options.cwd ?? ROOT, args);
  let exitCode: number | undefined;
  try {
    config ??= Config.load({ root: ROOT });
    await run(args, await config);
  } catch (error) {
    // What `execute()` in bin/run.js does with an error that escapes the command: print it and exit with its code.
    const exit = Exit.exit;
    Exit.exit = ((code = 0) => {
      exitCode ??= code;
    }) as typeof Exit.exit;
    try {
      await handle(error as Error);
    } finally {
      Exit.exit = exit;
    }
  } finally {
    // Warnings (process.emitWarning) are printed on a later tick: let them land in this run's stderr, as they would
    // before a child process exits.
    await new Promise((resolve) => setImmediate(resolve));
    exitCode ??= Number(process.exitCode ?? 0);
    restore();
  }
  return { code: exitCode, stdout: stdout.text, stderr: stderr.text };
}

type Streams = { stdin: Readable; stdout: Writable; stderr: Writable };

/**
 * Gives the process the run's streams, console, environment, cwd and argv (`node bin/run.js …args`, without the test
 * runner's node options, so that `sidecar start --detach` starts its daemon as the real CLI does); returns the
 * function that puts them back.
 */
function sandbox(streams: Streams, env: Record<string, string | undefined>, cwd: string, args: string[]): () => void {
  const saved = {
    argv: process.argv,
    execArgv: process.execArgv,
    descriptors: (['stdin', 'stdout', 'stderr'] as const).map((name) => [name, Object.getOwnPropertyDescriptor(process, name)!] as const),
    console: globalThis.console,
    env: { ...process.env },
    cwd: process.cwd(),
    exitCode: process.exitCode,
  };
  for (const [name, stream] of Object.entries(streams)) {
    Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
  }
  globalThis.console = new Console({ stdout: streams.stdout, stderr: streams.stderr, colorMode: false });
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  process.chdir(cwd);
  process.argv = [process.execPath, BIN, ...args];
  process.execArgv = [];
  process.exitCode = undefined;
  return () => {
    process.argv = saved.argv;
    process.execArgv = saved.execArgv;
    for (const [name, descriptor] of saved.descriptors) Object.defineProperty(process, name, descriptor);
    globalThis.console = saved.console;
    for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
    Object.assign(process.env, saved.env);
    process.chdir(saved.cwd);
    process.exitCode = saved.exitCode;
  };
}

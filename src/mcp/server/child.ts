import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { LineSplitter, parseLine, serialize } from '../jsonrpc.js';
import type { ServerSide, ServerSideEvents } from './side.js';

export interface ChildServerOptions {
  /** The server's name, for log lines. */
  server: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** How long the server gets to exit after the client closed its input, before SIGTERM (then as long before SIGKILL). */
  shutdownGraceMs?: number;
}

/**
 * An MCP server run as a child process over stdio: its stdout read line by line, its stderr passed through to the
 * gateway's stderr; it ends when the child exits, with the child's exit code (128+n on a signal).
 */
export function childServer(options: ChildServerOptions): ServerSide {
  const { server } = options;
  let child: ChildProcess | undefined;
  let gone = false;
  let killTimer: NodeJS.Timeout | undefined;

  const send = (message: unknown): boolean => {
    if (gone || !child?.stdin?.writable) return false;
    child.stdin.write(serialize(message));
    return true;
  };

  return {
    goneText: 'has exited',
    unansweredText: 'exited before it answered',
    start(events: ServerSideEvents) {
      try {
        child = spawn(options.command, [...options.args], { stdio: ['pipe', 'pipe', 'inherit'], env: options.env ?? process.env });
      } catch (error) {
        throw new Error(`could not start ${options.command}: ${(error as Error).message}`);
      }
      const lines = new LineSplitter(
        (line) => {
          const parsed = parseLine(line);
          if (!parsed.ok) {
            events.log(`agentguard mcp: the server ${server} sent a malformed message: ${parsed.error.error.message}`);
            send(parsed.error);
            return;
          }
          events.message(parsed.message);
        },
        () => events.log(`agentguard mcp: the server ${server} sent a message over 10 MiB; it was dropped`),
      );
      let exitCode: number | undefined;
      child.stdout!.on('data', (chunk: Buffer) => lines.push(chunk));
      child.stdin!.on('error', (error) => events.log(`agentguard mcp: writing to the server ${server} failed: ${error.message}`));
      child.on('error', (error) => {
        events.log(`agentguard mcp: could not run the server ${server} (${options.command}): ${error.message}`);
        exitCode ??= 1;
      });
      child.on('close', (code, signal) => {
        gone = true;
        if (killTimer) clearTimeout(killTimer);
        exitCode ??= code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1);
        events.closed(exitCode);
      });
    },
    send,
    end() {
      if (gone || !child) return;
      child.stdin?.end();
      const grace = options.shutdownGraceMs ?? 2000;
      killTimer = setTimeout(() => {
        child!.kill('SIGTERM');
        killTimer = setTimeout(() => child!.kill('SIGKILL'), grace);
        killTimer.unref();
      }, grace);
      killTimer.unref();
    },
  };
}

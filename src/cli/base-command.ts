import { Command, Flags, Interfaces } from '@oclif/core';
import { AgentGuardError, ExitCode, isAgentGuardError, type ErrorBody } from '../core/errors.js';
import { selectStoreUrl } from '../core/store/store-url.js';
import { paint } from './style.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/** The JSON printed on failure in --json mode: the one error shape, the same as the sidecar's error answers. */
export type ErrorJson = ErrorBody;

/**
 * Base of every agentguard command: `--json` (the value `run()` returns), `--debug`, and one error path:
 * `Error (CODE): message` plus `Try this:` on stderr, the exit code from the error, no stack unless `--debug`.
 */
export abstract class BaseCommand extends Command {
  static enableJsonFlag = true;

  static baseFlags = {
    debug: Flags.boolean({ description: 'Show stack traces and internal details on errors.', helpGroup: 'GLOBAL' }),
  };

  override async init(): Promise<void> {
    // `--store` selects the store while flags are parsed; a command run in the same process as an earlier one (tests,
    // programmatic runs) starts without that earlier selection.
    selectStoreUrl(undefined);
    await super.init();
  }

  /** True when the user asked for `--debug` (read from argv, so it also works when parsing failed). */
  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug') || process.env.AGENTGUARD_DEBUG === '1';
  }

  /** Writes a human message to stderr (never in --json mode, where stdout carries the data). */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`);
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const error = normaliseError(err);
    const { code, message, actions } = error;
    process.exitCode = error.exitCode;
    if (this.jsonEnabled()) {
      const json: ErrorJson = error.toBody();
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return undefined;
    }
    let text = `${paint.red(`Error (${code})`)}: ${message}\n`;
    if (actions.length > 0) text += `\n${paint.bold('Try this:')}\n${actions.map((a) => `  * ${a}`).join('\n')}\n`;
    if (this.debugEnabled && err.stack) text += `\n${err.stack}\n`;
    process.stderr.write(text);
    return undefined;
  }
}

/** Any thrown value as an AgentGuardError: ours as they are, oclif's parse errors as USAGE, anything else INTERNAL. */
function normaliseError(err: Error & { exitCode?: number; oclif?: { exit?: number } }): AgentGuardError {
  if (isAgentGuardError(err)) return err;
  // oclif's own errors: flag parsing and validation are usage errors.
  if (err.oclif?.exit !== undefined || /flag|argument|Unexpected argument|Missing required/i.test(err.name + err.message)) {
    const exitCode = err.oclif?.exit === 0 ? 0 : ExitCode.usage;
    return new AgentGuardError('USAGE', err.message.replace(/\nSee more help with --help$/, ''), { exitCode, cause: err });
  }
  return new AgentGuardError('INTERNAL', `unexpected internal error: ${err.message}`, {
    actions: ['Re-run with --debug and report the output at the project issue tracker.'],
    cause: err,
  });
}

export { AgentGuardError };

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliOptions, type CliResult } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

/**
 * Most CLI tests run commands in-process (test/helpers/cli-in-process.ts). This checks that doing so changes nothing
 * a user could see: the same argv, stdin, env and cwd give the same exit code, stdout and stderr as `node bin/run.js`.
 */
const cases: Array<[string, string[], CliOptions?]> = [
  ['--version (oclif itself)', ['--version']],
  ['an unknown command (an error escaping the command)', ['no-such-command']],
  ['a valid policy', ['policy', 'validate', 'test/fixtures/policies/valid/minimal.json']],
  ['an invalid policy, --json, exit 1', ['policy', 'validate', 'test/fixtures/policies/invalid/empty.yaml', '--json']],
  ['a usage error, exit 2', ['audit', 'query', '--effect', 'maybe', '--data-dir', join(ROOT, 'test/fixtures/no-such-data')]],
  ['a flag oclif rejects', ['policy', 'validate', '--bogus']],
  ['stdin input', ['policy', 'simulate', '--policy', 'test/fixtures/simulate/policy.yaml', '--json'], { input: '{"kind":"tool","name":"db.query","input":{"sql":"DROP TABLE users"}}\n' }],
  ['another working directory', ['policy', 'test', 'passing'], { cwd: join(ROOT, 'test/fixtures/policy-tests') }],
  ['an environment variable', ['policy', 'validate', 'test/fixtures/policies/valid/minimal.json'], { env: { AGENTGUARD_DEBUG: '1' } }],
];

/** What differs between any two runs: the process id in Node's warnings, decision ids, measured time. */
function comparable(result: CliResult): CliResult {
  const mask = (text: string) =>
    text
      .replace(/\(node:\d+\)/g, '(node:PID)')
      .replace(/"dec_[0-9a-f]{32}"/g, '"dec_ID"')
      .replace(/"elapsedUs": \d+/g, '"elapsedUs": 0');
  return { code: result.code, stdout: mask(result.stdout), stderr: mask(result.stderr) };
}

describe('a command run in-process answers exactly as the real CLI', () => {
  it.each(cases)('%s', async (_what, args, options = {}) => {
    const inProcess = await runCliInProcess(args, options);
    const child = runCli(args, options);
    expect(comparable(inProcess)).toEqual(comparable(child));
  });

  it('leaves the test process as it found it', async () => {
    const state = () => ({ cwd: process.cwd(), env: { ...process.env }, argv: [...process.argv], execArgv: [...process.execArgv], exitCode: process.exitCode });
    const streams = () => [process.stdin, process.stdout, process.stderr, globalThis.console];
    const [before, streamsBefore] = [state(), streams()];
    await runCliInProcess(['policy', 'validate', '--bogus'], { cwd: join(ROOT, 'test'), env: { AGENTGUARD_DEBUG: '1', HOME: '/nowhere' } });
    expect(state()).toEqual(before);
    streams().forEach((stream, i) => expect(stream).toBe(streamsBefore[i]));
  });
});

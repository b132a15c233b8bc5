import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { offerHooks } from '../src/cli/init-hooks.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

let home: string;
let project: string;
const savedHome = process.env.HOME;

beforeEach(() => {
  const root = makeTempDir('ag-init-hooks-');
  home = join(root, 'home');
  project = join(root, 'project');
  // Claude Code and Cursor are set up on this (fixture) machine; nothing else is.
  mkdirSync(join(home, '.claude'), { recursive: true });
  mkdirSync(join(home, '.cursor'), { recursive: true });
});

afterEach(() => {
  process.env.HOME = savedHome;
});

const init = (...extra: string[]) => runCliInProcess(['init', '--yes', '--template', 'coding-agent', '--dir', project, ...extra], { env: { HOME: home, USERPROFILE: home } });

describe('init --template coding-agent offers the hooks', () => {
  it('--hooks installs them in the project settings of the agents set up here, and `policy test` still passes', async () => {
    const result = await init('--hooks', '--json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { template: string; hooks: { scope: string; files: Array<{ agent: string; path: string; written: boolean }> } };
    expect(json.hooks.scope).toBe('project');
    expect(json.hooks.files.map((f) => [f.agent, f.path, f.written])).toEqual([
      ['claude-code', join(project, '.claude', 'settings.json'), true],
      ['cursor', join(project, '.cursor', 'hooks.json'), true],
    ]);
    expect(readFileSync(join(project, '.claude', 'settings.json'), 'utf8')).toContain('agentguard-hook.js\\" claude-code');
    expect(existsSync(join(home, '.claude', 'settings.json'))).toBe(false);
    const test = await runCliInProcess(['policy', 'test'], { cwd: project });
    expect(test.code).toBe(0);
    }, 90_000);

  it('without a terminal and without --hooks it installs nothing and says how; --no-hooks likewise', async () => {
    const quiet = await init();
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toContain('Hooks not installed: pass --hooks to install them for Claude Code, Cursor');
    expect(existsSync(join(project, '.claude'))).toBe(false);
    const no = await init('--force', '--no-hooks');
    expect(no.stderr).toContain('Hooks not installed (--no-hooks)');
    expect(existsSync(join(project, '.cursor'))).toBe(false);
  });

  it('another template is never offered hooks', async () => {
    const result = await runCliInProcess(['init', '--yes', '--template', 'data-sql', '--dir', project, '--hooks'], { env: { HOME: home } });
    expect(result.code).toBe(0);
    expect(existsSync(join(project, '.claude'))).toBe(false);
  });

  it('on a terminal it asks; no installs nothing, yes installs', async () => {
    process.env.HOME = home;
    mkdirSync(project, { recursive: true });
    const t = terminal();
    const declined = offerHooks(project, undefined, true, { input: t.input, output: t.output });
    await t.waitFor("Install agentguard's hooks for Claude Code, Cursor");
    t.input.write('n\r');
    expect((await declined).note).toMatch(/^Hooks not installed\./);
    expect(existsSync(join(project, '.claude'))).toBe(false);

    const u = terminal();
    const accepted = offerHooks(project, undefined, true, { input: u.input, output: u.output });
    await u.waitFor('Install agentguard');
    u.input.write('\r'); // the default: yes
    const outcome = await accepted;
    expect(outcome.report?.files.filter((f) => f.written).map((f) => f.agent)).toEqual(['claude-code', 'cursor']);
    expect(existsSync(join(project, '.cursor', 'hooks.json'))).toBe(true);
  });
});

/** Drives the real prompt with fake streams (as test/cli-init.test.ts does). */
function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  output.end = () => output;
  let text = '';
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const waitFor = async (needle: string) => {
    for (let i = 0; i < 250; i++) {
      if (text.includes(needle)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`prompt never showed ${JSON.stringify(needle)}; output: ${JSON.stringify(text)}`);
  };
  return { input, output, waitFor };
}

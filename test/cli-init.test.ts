import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askInitQuestions, renderInit, type InitResult } from '../src/commands/init.js';
import { isAgentGuardError } from '../src/core/errors.js';
import { TEMPLATE_IDS, templateInfo } from '../src/core/init/templates.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

/** The --json contract of `agentguard init`; a renamed or extra field fails here. */
const resultSchema = {
  type: 'object',
  required: ['dir', 'template', 'name', 'agentId', 'files'],
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1 },
    template: { enum: [...TEMPLATE_IDS] },
    name: { type: 'string' },
    agentId: { type: 'string' },
    files: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'action'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, action: { enum: ['created', 'overwritten', 'updated'] } },
      },
    },
  },
};
const validateResult = new Ajv({ allErrors: true }).compile(resultSchema);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-cli-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each case runs the built CLI several times; on a busy machine one run can take seconds.
describe('agentguard init (built CLI)', { timeout: 120_000 }, () => {
  it('--yes writes the project files with the right content and modes, then `policy test` passes', async () => {
    const init = await runCliInProcess(['init', '--yes'], { cwd: dir });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('created  agentguard/policy.yaml');
    expect(init.stdout).toContain('Next steps:');
    expect(init.stdout).toContain('agentguard policy test');
    expect(init.stdout).toContain('agentguard policy simulate --action');

    const name = basename(dir);
    expect(JSON.parse(await readFile(join(dir, 'agentguard.config.json'), 'utf8'))).toEqual({
      policy: 'agentguard/policy.yaml',
      policyDir: 'agentguard',
      dataDir: '.agentguard',
      agentId: name,
    });
    const policy = await readFile(join(dir, 'agentguard', 'policy.yaml'), 'utf8');
    expect(policy).toMatch(new RegExp(`^name: ${name}$`, 'm'));
    expect(policy).toContain('id: kb-read');
    expect((await stat(join(dir, '.agentguard'))).mode & 0o777).toBe(0o700);
    expect(((await stat(join(dir, 'agentguard', 'policy.yaml'))).mode & 0o022) === 0).toBe(true);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toContain('\n.agentguard/\n');

    const test = await runCliInProcess(['policy', 'test'], { cwd: dir });
    expect(test.stderr).toBe('');
    // The template's cases, and those of the readonly-db pack it includes (run with the policy's parameters).
    const count = async (file: string) => (await readFile(join(ROOT, file), 'utf8')).match(/^  - name: /gm)!.length;
    const cases = (await count('templates/support-chatbot/policy.test.yaml')) + (await count('policies/readonly-db/policy.test.yaml'));
    expect(test.stdout).toContain('(policy agentguard:readonly-db@1.0.0, with the params of agentguard/policy.yaml)');
    expect(test.stdout).toMatch(new RegExp(`\\b${cases} passed, 0 failed\\b`));
    expect(test.code).toBe(0);
  });

  it('without --yes and without a terminal, uses the defaults and says so on stderr', async () => {
    const init = await runCliInProcess(['init', '--template', 'data-sql'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stderr).toContain('Not prompting (no terminal): using template data-sql');
    expect(init.stderr).toContain('--yes');
  });

  it('refuses a second run with exit 2, lists the files and writes nothing; --force overwrites', async () => {
    expect((await runCliInProcess(['init', '--yes', '--name', 'first'], { cwd: dir })).code).toBe(0);
    await writeFile(join(dir, 'agentguard', 'policy.yaml'), '# my edits\n');
    const gitignore = await readFile(join(dir, '.gitignore'), 'utf8');

    const again = await runCliInProcess(['init', '--yes', '--template', 'coding-agent'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('Error (INIT_FILES_EXIST)');
    expect(again.stderr).toContain('agentguard.config.json, agentguard/policy.yaml, agentguard/policy.test.yaml');
    expect(again.stderr).toContain('Pass --force');
    expect(await readFile(join(dir, 'agentguard', 'policy.yaml'), 'utf8')).toBe('# my edits\n');

    const forced = await runCliInProcess(['init', '--yes', '--force', '--template', 'coding-agent', '--name', 'second', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    const result = JSON.parse(forced.stdout) as InitResult;
    expect(result.files).toEqual([
      { path: 'agentguard.config.json', action: 'overwritten' },
      { path: 'agentguard/policy.yaml', action: 'overwritten' },
      { path: 'agentguard/policy.test.yaml', action: 'overwritten' },
    ]);
    expect(await readFile(join(dir, 'agentguard', 'policy.yaml'), 'utf8')).toMatch(/^name: second$/m);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(gitignore);
    expect((await runCliInProcess(['policy', 'test'], { cwd: dir })).code).toBe(0);
  });

  it('--json prints the result contract, with --dir creating the folder', async () => {
    const out = await runCliInProcess(['init', '--json', '--dir', 'services/bot', '--template', 'data-sql', '--name', 'analytics', '--agent-id', 'analytics-1'], { cwd: dir });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as InitResult;
    expect(validateResult(result), JSON.stringify(validateResult.errors)).toBe(true);
    expect(result).toEqual({
      dir: join(dir, 'services', 'bot'),
      template: 'data-sql',
      name: 'analytics',
      agentId: 'analytics-1',
      files: ['agentguard.config.json', 'agentguard/policy.yaml', 'agentguard/policy.test.yaml', '.agentguard/', '.gitignore'].map((path) => ({ path, action: 'created' })),
    });
  });

  it('--json reports a refusal as an error object with exit 2', async () => {
    expect((await runCliInProcess(['init', '--yes'], { cwd: dir })).code).toBe(0);
    const out = await runCliInProcess(['init', '--json'], { cwd: dir });
    expect(out.code).toBe(2);
    const json = JSON.parse(out.stdout) as { error: { code: string; message: string; actions: string[] } };
    expect(json.error.code).toBe('INIT_FILES_EXIST');
    expect(json.error.message).toContain('agentguard/policy.yaml');
  });

  it('rejects an unknown template and an invalid name as usage errors, writing nothing', async () => {
    const template = await runCliInProcess(['init', '--yes', '--template', 'nope'], { cwd: dir });
    expect(template.code).toBe(2);
    expect(template.stderr).toContain('Error (USAGE)');
    const name = await runCliInProcess(['init', '--yes', '--name', 'has space'], { cwd: dir });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('Error (INIT_INVALID_OPTION)');
    expect(name.stderr).toContain('"has space" is not a valid policy name');
    await expect(stat(join(dir, 'agentguard.config.json'))).rejects.toThrow(/ENOENT/);
  });

  it.each(TEMPLATE_IDS)('template %s: policy test passes and the suggested simulate command runs', async (template) => {
    const init = await runCliInProcess(['init', '--yes', '--template', template], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const test = await runCliInProcess(['policy', 'test', '--json'], { cwd: dir });
    expect(test.code).toBe(0);
    expect((JSON.parse(test.stdout) as { failed: number; passed: number }).failed).toBe(0);
    const simulate = await runCliInProcess(['policy', 'simulate', '--json', '--action', JSON.stringify(templateInfo(template).sampleAction)], { cwd: dir });
    expect(simulate.code).toBe(0);
    expect((JSON.parse(simulate.stdout) as { effect: string }).effect).toBe('deny');
  });
});

describe('init prompts', () => {
  /** Drives the real prompts with fake streams; `end` is ignored because each prompt ends the output it was given. */
  function terminal() {
    const input = new PassThrough();
    const output = new PassThrough();
    output.end = () => output;
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const waitFor = async (needle: string, count = 1) => {
      for (let i = 0; i < 250; i++) {
        if (text.split(needle).length - 1 >= count) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`prompt never showed ${JSON.stringify(needle)}; output: ${JSON.stringify(text)}`);
    };
    return { input, output, waitFor, text: () => text };
  }

  it('asks for the agent type, the policy name and the agent id, with defaults', async () => {
    const t = terminal();
    const answers = askInitQuestions({}, '/projects/Acme Shop', { input: t.input, output: t.output });
    await t.waitFor('What kind of agent');
    t.input.write('\u001b[B'); // arrow down: Data / SQL agent
    await t.waitFor('Data / SQL agent', 2);
    t.input.write('\r');
    await t.waitFor('Policy name');
    expect(t.text()).toContain('(Acme-Shop)');
    t.input.write('\r'); // accept the default
    await t.waitFor('Agent id');
    t.input.write('agent-7\r');
    expect(await answers).toEqual({ template: 'data-sql', name: 'Acme-Shop', agentId: 'agent-7' });
  });

  it('re-asks when the name is invalid, and skips what flags already gave', async () => {
    const t = terminal();
    const answers = askInitQuestions({ template: 'coding-agent', agentId: 'given-id' }, '/x/proj', { input: t.input, output: t.output });
    await t.waitFor('Policy name');
    t.input.write('bad name\r');
    await t.waitFor('is not a valid policy name');
    for (let i = 0; i < 8; i++) t.input.write('\u007f'); // backspace over the bad answer
    t.input.write('good-name\r');
    expect(await answers).toEqual({ template: 'coding-agent', name: 'good-name', agentId: 'given-id' });
    expect(t.text()).not.toContain('What kind of agent');
    expect(t.text()).not.toContain('Agent id');
  });

  it('turns Ctrl+C into INIT_CANCELLED', async () => {
    const t = terminal();
    const answers = askInitQuestions({}, '/x/proj', { input: t.input, output: t.output }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await t.waitFor('What kind of agent');
    t.input.write('\u0003');
    const error = await answers;
    expect(isAgentGuardError(error) && [error.code, error.exitCode]).toEqual(['INIT_CANCELLED', 130]);
  });
});

describe('renderInit', () => {
  it('adds a cd step when the project is not the current folder, quoting it for the shell', async () => {
    const result: InitResult = { dir: '/work/my app', template: 'coding-agent', name: 'x', agentId: 'x', files: [{ path: '.gitignore', action: 'updated' }] };
    const text = renderInit(result, '/work');
    expect(text).toContain("1. cd 'my app'");
    expect(text).toContain('updated  .gitignore');
    expect(text).toContain(`--action '${JSON.stringify(templateInfo('coding-agent').sampleAction)}'`);
    expect(renderInit(result, '/work/my app')).not.toContain('cd ');
  });
});

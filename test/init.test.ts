import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readProjectConfig } from '../src/core/config/project-config.js';
import { isAgentGuardError, type AgentGuardError } from '../src/core/errors.js';
import { applyInitPlan } from '../src/core/init/apply.js';
import { gitignoreAddition, ignoresDataDir } from '../src/core/init/gitignore.js';
import { initProject } from '../src/core/init/init-project.js';
import { agentIdProblem, defaultPolicyName, policyNameProblem } from '../src/core/init/names.js';
import { planInit, renderPolicy, type InitOptions } from '../src/core/init/plan.js';
import { readTemplate, TEMPLATE_IDS, templateDirectory } from '../src/core/init/templates.js';
import { Policy } from '../src/core/policy/policy.js';

const EXPECTED_PATHS = ['agentguard.config.json', 'agentguard/policy.yaml', 'agentguard/policy.test.yaml', '.agentguard/', '.gitignore'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(overrides: Partial<InitOptions> = {}): InitOptions {
  return { dir, template: 'support-chatbot', name: 'support-bot', agentId: 'bot-1', ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<AgentGuardError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAgentGuardError(error)) throw new Error(`expected an AgentGuardError, got ${String(error)}`);
  return error;
}

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map(String).sort();
}

describe('planInit', () => {
  it('plans the config, the policy and its tests, the data folder and the .gitignore line, and writes nothing', async () => {
    const plan = await planInit(options());
    expect(plan.steps.map((s) => s.path)).toEqual(EXPECTED_PATHS);
    expect(plan.conflicts).toEqual([]);
    expect(plan.dir).toBe(dir);
    expect(await listTree(dir)).toEqual([]);
  });

  it('rejects an unknown template, a bad policy name and a bad agent id as usage errors', async () => {
    const badTemplate = await rejection(planInit(options({ template: 'nope' as never })));
    expect([badTemplate.code, badTemplate.exitCode]).toEqual(['INIT_INVALID_OPTION', 2]);
    expect(badTemplate.actions.join(' ')).toContain('support-chatbot, data-sql, coding-agent');
    const badName = await rejection(planInit(options({ name: 'my bot' })));
    expect([badName.code, badName.exitCode]).toEqual(['INIT_INVALID_OPTION', 2]);
    expect(badName.message).toContain('"my bot" is not a valid policy name');
    const badId = await rejection(planInit(options({ agentId: 'a\tb' })));
    expect([badId.code, badId.exitCode]).toEqual(['INIT_INVALID_OPTION', 2]);
  });

  it('lists every existing file as a conflict', async () => {
    await mkdir(join(dir, 'agentguard'));
    await writeFile(join(dir, 'agentguard', 'policy.yaml'), 'mine\n');
    await writeFile(join(dir, 'agentguard.config.json'), '{}\n');
    const plan = await planInit(options());
    expect(plan.conflicts).toEqual(['agentguard.config.json', 'agentguard/policy.yaml']);
  });

  it('treats a dangling symlink as an existing file', async () => {
    await symlink(join(dir, 'missing-target'), join(dir, 'agentguard.config.json'));
    const plan = await planInit(options());
    expect(plan.conflicts).toEqual(['agentguard.config.json']);
  });
});

describe('initProject', () => {
  it('writes the config, the template with the chosen name, the data folder (0700) and .gitignore', async () => {
    const previous = process.umask(0o002);
    let result;
    try {
      result = await initProject(options({ template: 'data-sql', name: 'analytics', agentId: 'analytics-agent' }));
    } finally {
      process.umask(previous);
    }
    expect(result).toEqual({
      dir,
      template: 'data-sql',
      name: 'analytics',
      agentId: 'analytics-agent',
      files: EXPECTED_PATHS.map((path) => ({ path, action: 'created' })),
    });

    const config = await readProjectConfig(join(dir, 'agentguard.config.json'));
    expect(config.config).toEqual({ policy: 'agentguard/policy.yaml', policyDir: 'agentguard', dataDir: '.agentguard', agentId: 'analytics-agent' });
    expect(config.paths.policy).toBe(join(dir, 'agentguard', 'policy.yaml'));

    const policy = await Policy.fromFile(join(dir, 'agentguard', 'policy.yaml'));
    expect(policy.name).toBe('analytics');
    const templateText = await readTemplate('data-sql');
    const written = await readFile(join(dir, 'agentguard', 'policy.yaml'), 'utf8');
    expect(written).toBe(templateText.policy.replace(/^name: data-sql$/m, 'name: analytics'));
    expect(written.split('\n')[0]).toBe('# yaml-language-server: $schema=../node_modules/agentguard/schemas/policy.schema.json');
    expect(await readFile(join(dir, 'agentguard', 'policy.test.yaml'), 'utf8')).toBe(templateText.test);

    const data = await stat(join(dir, '.agentguard'));
    expect(data.isDirectory()).toBe(true);
    expect(data.mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe('# agentguard: local database and keys\n.agentguard/\n');
  });

  it('refuses to overwrite without force, names the files, and writes nothing at all', async () => {
    await mkdir(join(dir, 'agentguard'));
    await writeFile(join(dir, 'agentguard', 'policy.test.yaml'), 'my tests\n');
    const before = await listTree(dir);
    const error = await rejection(initProject(options()));
    expect(error.code).toBe('INIT_FILES_EXIST');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('agentguard/policy.test.yaml');
    expect(error.message).not.toContain('agentguard.config.json');
    expect(error.actions.join(' ')).toContain('--force');
    expect(await listTree(dir)).toEqual(before);
    expect(await readFile(join(dir, 'agentguard', 'policy.test.yaml'), 'utf8')).toBe('my tests\n');
  });

  it('overwrites with force, keeping the permissions of the replaced file', async () => {
    await initProject(options());
    const policyPath = join(dir, 'agentguard', 'policy.yaml');
    await writeFile(policyPath, 'edited\n');
    await chmod(policyPath, 0o600);
    const result = await initProject({ ...options({ template: 'coding-agent', name: 'coder' }), force: true });
    expect(result.files).toEqual([
      { path: 'agentguard.config.json', action: 'overwritten' },
      { path: 'agentguard/policy.yaml', action: 'overwritten' },
      { path: 'agentguard/policy.test.yaml', action: 'overwritten' },
    ]);
    expect((await Policy.fromFile(policyPath)).name).toBe('coder');
    expect((await stat(policyPath)).mode & 0o777).toBe(0o600);
    // No temporary files are left next to the replaced ones.
    expect((await readdir(join(dir, 'agentguard'))).sort()).toEqual(['policy.test.yaml', 'policy.yaml']);
  });

  it('replaces a symlinked file instead of writing through it', async () => {
    const outside = join(dir, 'outside.yaml');
    await writeFile(outside, 'do not touch\n');
    await mkdir(join(dir, 'agentguard'));
    await symlink(outside, join(dir, 'agentguard', 'policy.yaml'));
    await initProject({ ...options(), force: true });
    expect(await readFile(outside, 'utf8')).toBe('do not touch\n');
    expect((await lstat(join(dir, 'agentguard', 'policy.yaml'))).isSymbolicLink()).toBe(false);
  });

  it('creates a missing project folder, nested', async () => {
    const nested = join(dir, 'a', 'b');
    const result = await initProject(options({ dir: nested }));
    expect(result.dir).toBe(nested);
    expect((await stat(join(nested, 'agentguard', 'policy.yaml'))).isFile()).toBe(true);
  });

  it('stops when something that must be a folder is a file, or a file is a folder, even with force', async () => {
    await writeFile(join(dir, 'agentguard'), 'a file\n');
    const notFolder = await rejection(initProject({ ...options(), force: true }));
    expect([notFolder.code, notFolder.exitCode]).toEqual(['INIT_PATH_BLOCKED', 2]);
    expect(notFolder.message).toContain('"agentguard" must be a folder');
    await rm(join(dir, 'agentguard'));

    await writeFile(join(dir, '.agentguard'), 'a file\n');
    const dataFile = await rejection(initProject({ ...options(), force: true }));
    expect(dataFile.code).toBe('INIT_PATH_BLOCKED');
    expect(dataFile.message).toContain('".agentguard" must be a folder');
    await rm(join(dir, '.agentguard'));

    await mkdir(join(dir, 'agentguard.config.json'));
    const folder = await rejection(initProject({ ...options(), force: true }));
    expect(folder.code).toBe('INIT_PATH_BLOCKED');
    expect(folder.message).toContain('"agentguard.config.json" is a folder');
    expect(await listTree(dir)).toEqual(['agentguard.config.json']);
  });

  it('leaves an existing data folder alone', async () => {
    await mkdir(join(dir, '.agentguard'), { mode: 0o755 });
    await writeFile(join(dir, '.agentguard', 'agentguard.db'), 'data');
    const result = await initProject(options());
    expect(result.files.map((f) => f.path)).not.toContain('.agentguard/');
    expect(await readFile(join(dir, '.agentguard', 'agentguard.db'), 'utf8')).toBe('data');
  });

  it('does not clobber a file that appears after planning, and removes what it created', async () => {
    const plan = await planInit(options());
    await mkdir(join(dir, 'agentguard'));
    await writeFile(join(dir, 'agentguard', 'policy.yaml'), 'raced\n');
    const error = await rejection(applyInitPlan(plan));
    expect([error.code, error.exitCode]).toEqual(['INIT_WRITE_FAILED', 1]);
    expect(await readFile(join(dir, 'agentguard', 'policy.yaml'), 'utf8')).toBe('raced\n');
    // The config written before the failure is rolled back; the folder init did not create stays.
    expect(await listTree(dir)).toEqual(['agentguard', 'agentguard/policy.yaml']);
  });
});

describe('.gitignore handling', () => {
  it('appends once to an existing .gitignore without a final newline, and never duplicates the line', async () => {
    await writeFile(join(dir, '.gitignore'), 'node_modules/\ndist/');
    const first = await initProject(options());
    expect(first.files).toContainEqual({ path: '.gitignore', action: 'updated' });
    const expected = 'node_modules/\ndist/\n\n# agentguard: local database and keys\n.agentguard/\n';
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(expected);

    const second = await initProject({ ...options(), force: true });
    expect(second.files.map((f) => f.path)).not.toContain('.gitignore');
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(expected);
  });

  it('accepts the usual spellings of the line as already ignoring the folder', async () => {
    for (const line of ['.agentguard', '/.agentguard/', '  .agentguard/  ', '.agentguard/**']) {
      expect(ignoresDataDir(`node_modules/\n${line}\n`, '.agentguard')).toBe(true);
    }
    expect(ignoresDataDir('# .agentguard/\n!.agentguard/\nsub/.agentguard/\n', '.agentguard')).toBe(false);
    await writeFile(join(dir, '.gitignore'), '/.agentguard\n');
    await initProject(options());
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe('/.agentguard\n');
  });

  it('keeps CRLF line endings', () => {
    expect(gitignoreAddition('node_modules/\r\n', '.agentguard')).toBe('\r\n# agentguard: local database and keys\r\n.agentguard/\r\n');
    expect(gitignoreAddition(undefined, '.agentguard')).toBe('# agentguard: local database and keys\n.agentguard/\n');
    expect(gitignoreAddition('.agentguard/\n', '.agentguard')).toBeUndefined();
  });
});

describe('names', () => {
  it('checks policy names like the policy schema does', () => {
    expect(policyNameProblem('support-bot.v2_1')).toBeUndefined();
    expect(policyNameProblem('')).toContain('empty');
    expect(policyNameProblem('-bot')).toContain('not a valid policy name');
    expect(policyNameProblem('a'.repeat(129))).toContain('longer than 128');
  });

  it('checks agent ids: no spaces or control characters, at most 256 characters', () => {
    expect(agentIdProblem('team/support-bot@eu')).toBeUndefined();
    expect(agentIdProblem('')).toContain('empty');
    expect(agentIdProblem('bot 1')).toContain('spaces');
    expect(agentIdProblem('bot\u0000')).toContain('control');
    expect(agentIdProblem('a'.repeat(257))).toContain('longer than 256');
  });

  it('derives a default policy name from the folder name, with a fallback', () => {
    expect(defaultPolicyName('/src/Acme Support!', 'support-chatbot')).toBe('Acme-Support');
    expect(defaultPolicyName('/src/--.hidden', 'support-chatbot')).toBe('hidden');
    expect(defaultPolicyName('/', 'support-chatbot')).toBe('support-chatbot');
    expect(defaultPolicyName('/tmp/ø', 'data-sql')).toBe('data-sql');
  });
});

describe('templates', () => {
  it.each(TEMPLATE_IDS)('%s: has a schema comment, one top-level name line, and compiles', async (id) => {
    const { policy, test } = await readTemplate(id);
    expect(policy.split('\n')[0]).toBe('# yaml-language-server: $schema=../node_modules/agentguard/schemas/policy.schema.json');
    expect(policy.match(/^name:.*$/gm)).toEqual([`name: ${id}`]);
    expect(Policy.parse(policy, { filename: `${templateDirectory(id)}policy.yaml` }).name).toBe(id);
    const tests = parseYaml(test) as { policy: string; cases: unknown[] };
    expect(tests.policy).toBe('./policy.yaml');
    expect(tests.cases.length).toBeGreaterThanOrEqual(10);
  });

  it('quotes names that YAML would read as something other than a string', async () => {
    const { policy } = await readTemplate('support-chatbot');
    for (const name of ['true', 'null', '123', '1e3', '0x1F', 'yes']) {
      const text = renderPolicy(policy, name, 'support-chatbot');
      expect(Policy.parse(text).name).toBe(name);
    }
    expect(renderPolicy(policy, 'plain-name', 'support-chatbot')).toMatch(/^name: plain-name$/m);
  });

  it('reports a template without a name line as a broken install', () => {
    expect(() => renderPolicy('version: 1\nrules: []\n', 'x', 'custom')).toThrow(/no top-level "name:" line/);
  });
});

import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyTestResult } from '../src/commands/policy/test.js';
import type { CliOptions, CliResult } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { findAll, parseXml } from './fixtures/policy-tests/well-formed-xml.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/policy-tests/', import.meta.url));

/** The --json contract; a renamed or extra field fails here. */
const resultSchema = {
  type: 'object',
  required: ['passed', 'failed', 'results'],
  additionalProperties: false,
  properties: {
    passed: { type: 'integer', minimum: 0 },
    failed: { type: 'integer', minimum: 0 },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'name', 'passed', 'expected', 'actual'],
        additionalProperties: false,
        properties: {
          file: { type: 'string' },
          name: { type: 'string' },
          line: { type: 'integer' },
          passed: { type: 'boolean' },
          expected: { type: 'object', minProperties: 1 },
          actual: {
            type: 'object',
            required: ['id', 'effect', 'action', 'reasons', 'findings', 'policy', 'elapsedUs'],
            properties: { effect: { enum: ['allow', 'deny', 'transform', 'require_approval'] }, reasons: { type: 'array' } },
          },
          message: { type: 'string', minLength: 1 },
        },
      },
    },
    coverage: {
      type: 'array',
      items: {
        type: 'object',
        required: ['policy', 'rules', 'uncovered'],
        additionalProperties: false,
        properties: { policy: { type: 'string' }, rules: { type: 'integer' }, uncovered: { type: 'array', items: { type: 'string' } } },
      },
    },
  },
};
const validateResult = new Ajv({ allErrors: true }).compile(resultSchema);

function test(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runCliInProcess(['policy', 'test', ...args], { cwd: FIXTURES, ...options });
}

function expectNoStack(result: CliResult): void {
  expect(result.stderr).not.toMatch(/\n\s+at .+[:(]\d+:\d+\)?/);
  expect(result.stderr).not.toContain('node:internal');
}

function parseJson(result: CliResult): PolicyTestResult {
  const json = JSON.parse(result.stdout) as PolicyTestResult;
  expect(validateResult(json), JSON.stringify(validateResult.errors)).toBe(true);
  return json;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ag-cli-policy-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('agentguard policy test: pretty output and exit codes', () => {
  it('exits 0 when every case passes, with per-file lines and a summary', async () => {
    const result = await test(['passing']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('passing/support-bot.test.yaml (policy support-bot.yaml)\n  PASS blocks DROP TABLE\n');
    expect(result.stdout).toContain('passing/transfers.test.json (policy support-bot.yaml)\n  PASS large transfers need approval\n');
    expect(result.stdout).not.toContain('FAILURES');
    expect(result.stdout).toContain('5 passed, 0 failed');
    expect(result.stderr).toBe('');
  });

  it('exits 1 when a case fails, showing location, expected and actual effect, reasons and why', async () => {
    const result = await test(['failing', 'passing']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('  FAIL wrongly expects DELETE to be allowed\n');
    const failures = result.stdout.slice(result.stdout.indexOf('FAILURES'));
    expect(failures).toContain('failing/support-bot.test.yaml:7:5: FAIL wrongly expects DELETE to be allowed');
    expect(failures).toMatch(/expected\s+effect allow\n/);
    expect(failures).toMatch(/actual effect\s+deny\n/);
    expect(failures).toMatch(/reasons\s+no-destructive-sql \(deny\): Destructive SQL is not allowed\n/);
    expect(failures).toMatch(/why\s+expected effect allow, got deny\n/);
    expect(failures).toContain('failing/support-bot.test.yaml:15:5: FAIL expects a field the transform does not set');
    expect(failures).toContain('action.input.timeout: expected 5, but the field is missing');
    expect(result.stdout).toContain('6 passed, 3 failed');
    expectNoStack(result);
  });

  it('exits 2 for an invalid test file, naming file, line, column, case and field', async () => {
    const result = await test(['invalid-test/bad-expect.test.yaml']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Error (POLICY_TEST_INVALID)');
    expect(result.stderr).toContain('invalid-test/bad-expect.test.yaml:8:23 cases[1] "misspelt effect" expect.effect: must be one of allow, deny, transform, require_approval; got the string "denied"');
    expect(result.stderr).toContain('invalid-test/bad-expect.test.yaml:8:31 cases[1] "misspelt effect" expect.rulez: unknown field "rulez"');
    expect(result.stderr).toContain('Did you mean "rule"?');
    expect(result.stderr).toContain('invalid-test/bad-expect.test.yaml:11:13 cases[2] "no expectation" expect: needs at least one of effect, rule, action');
    expectNoStack(result);
  });

  it('exits 2 for an invalid policy and shows its problems with positions', async () => {
    const result = await test(['invalid-policy']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error (POLICY_INVALID)');
    expect(result.stderr).toContain('invalid-policy/broken.yaml (the policy tested by invalid-policy/broken.test.yaml):');
    expect(result.stderr).toContain('invalid-policy/broken.yaml:5:13 rules[0].effect: must be one of allow, deny, transform, require_approval; got the string "permit"');
    expectNoStack(result);
  });

  it('exits 2 for a path that does not exist, and for an unknown reporter', async () => {
    const missing = await test(['no-such-dir']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Error (PATH_NOT_FOUND): no-such-dir: no such file or folder');
    const reporter = await test(['passing', '--reporter', 'xml']);
    expect(reporter.code).toBe(2);
    expect(reporter.stderr).toContain('Error (USAGE)');
    expectNoStack(missing);
    expectNoStack(reporter);
  });
});

describe('agentguard policy test: default discovery', () => {
  it('finds tests in policies/ and the configured policy folder, skipping node_modules', async () => {
    const root = join(tmp, 'project');
    await mkdir(join(root, 'policies', 'pack'), { recursive: true });
    await mkdir(join(root, 'rules'), { recursive: true });
    await mkdir(join(root, 'policies', 'node_modules', 'dep'), { recursive: true });
    await cp(join(FIXTURES, 'support-bot.yaml'), join(root, 'policies', 'pack', 'support-bot.yaml'));
    await cp(join(FIXTURES, 'support-bot.yaml'), join(root, 'rules', 'support-bot.yaml'));
    const oneCase = (name: string) =>
      `policy: support-bot.yaml\ncases:\n  - name: ${name}\n    action: { kind: tool, name: kb.search }\n    expect: { effect: allow }\n`;
    await writeFile(join(root, 'policies', 'pack', 'pack.test.yaml'), oneCase('from the pack'));
    await writeFile(join(root, 'rules', 'own.test.yml'), oneCase('from the project'));
    await writeFile(join(root, 'policies', 'node_modules', 'dep', 'dep.test.yaml'), 'not: a test file');
    await writeFile(join(root, 'agentguard.config.json'), JSON.stringify({ policyDir: 'rules' }));
    const result = await runCliInProcess(['policy', 'test'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${join('policies', 'pack', 'pack.test.yaml')} (policy ${join('policies', 'pack', 'support-bot.yaml')})\n  PASS from the pack`);
    expect(result.stdout).toContain(`${join('rules', 'own.test.yml')} (policy ${join('rules', 'support-bot.yaml')})\n  PASS from the project`);
    expect(result.stdout).toContain('2 passed, 0 failed');
  });

  it('exits 2 with a hint to run agentguard init when there are no test files', async () => {
    const empty = join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    const result = await runCliInProcess(['policy', 'test'], { cwd: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error (NO_POLICY_TESTS): no policy test files');
    expect(result.stderr).toContain('agentguard init');
    expectNoStack(result);
  });
});

describe('agentguard policy test: --json and reporters', () => {
  it('--json prints the result contract and exits 1 on failures', async () => {
    const result = await test(['failing', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const json = parseJson(result);
    expect(json.passed).toBe(1);
    expect(json.failed).toBe(3);
    expect(json.coverage).toBeUndefined();
    expect(json.results[0]).toMatchObject({ file: 'failing/support-bot.test.yaml', name: 'allows SELECT', passed: true, line: 3 });
    expect(json.results[0]).not.toHaveProperty('message');
    expect(json.results[1]).toMatchObject({
      name: 'wrongly expects DELETE to be allowed',
      passed: false,
      expected: { effect: 'allow' },
      actual: { effect: 'deny', reasons: [{ rule: 'no-destructive-sql', effect: 'deny' }], policy: { name: 'support-bot' } },
      message: 'expected effect allow, got deny',
    });
  });

  it('--json --coverage adds the uncovered rules per policy, and exits 0 when all pass', async () => {
    const result = await test(['passing', '--json', '--coverage']);
    expect(result.code).toBe(0);
    const json = parseJson(result);
    expect(json).toMatchObject({ passed: 5, failed: 0 });
    expect(json.coverage).toEqual([{ policy: 'support-bot.yaml', rules: 6, uncovered: ['db-read', 'no-shell'] }]);
  });

  it('--json reports load errors as JSON with exit code 2', async () => {
    const result = await test(['invalid-test/unknown-rule.test.yaml', '--json']);
    expect(result.code).toBe(2);
    const json = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('POLICY_TEST_INVALID');
    expect(json.error.message).toContain('invalid-test/unknown-rule.test.yaml:5:46 cases[0] "names a rule the policy lacks" expect.rule[1]: rule "kb-reed" is not in the policy support-bot.yaml');
  });

  it('--reporter json writes the same contract as --json', async () => {
    const viaReporter = JSON.parse((await test(['failing', '--reporter', 'json'])).stdout) as PolicyTestResult;
    const viaFlag = parseJson(await test(['failing', '--json']));
    const strip = (r: PolicyTestResult) => ({ ...r, results: r.results.map((x) => ({ ...x, actual: { ...x.actual, id: '', elapsedUs: 0 } })) });
    expect(strip(viaReporter)).toEqual(strip(viaFlag));
  });

  it('--reporter junit prints well-formed, escaped JUnit XML', async () => {
    const result = await test(['special-names', '--reporter', 'junit']);
    expect(result.code).toBe(1);
    const root = parseXml(result.stdout);
    const cases = findAll(root, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual([`a < b & "c" > 'd' # not a directive`, 'passes <ok> & fine']);
    expect(findAll(cases[0], 'failure')[0].attributes.message).toBe('expected effect deny, got allow');
    expect(findAll(cases[1], 'failure')).toHaveLength(0);
  });

  it('--reporter tap prints TAP version 13 with a plan', async () => {
    const result = await test(['passing', 'failing', '--reporter', 'tap']);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual(['TAP version 13', '1..9']);
    expect(lines.filter((l) => /^ok \d+ - /.test(l))).toHaveLength(6);
    expect(lines.filter((l) => /^not ok \d+ - /.test(l))).toHaveLength(3);
    expect(result.stdout).toContain('not ok 2 - wrongly expects DELETE to be allowed\n  ---\n  message: expected effect allow, got deny\n');
  });

  it('--output writes the report to a file (creating folders) and keeps stdout empty', async () => {
    const out = join(tmp, 'reports', 'nested', 'junit.xml');
    const result = await test(['failing', '--reporter', 'junit', '--output', out]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Wrote the junit report to ${out} (1 passed, 3 failed).`);
    const root = parseXml(await readFile(out, 'utf8'));
    expect(root.attributes).toMatchObject({ tests: '4', failures: '3' });

    const pretty = join(tmp, 'reports', 'pretty.txt');
    expect((await test(['passing', '--output', pretty])).code).toBe(0);
    expect(await readFile(pretty, 'utf8')).toContain('5 passed, 0 failed');
  });

  it('--output to a path that cannot be written exits 2 with a clear error', async () => {
    const blocker = join(tmp, 'a-file');
    await writeFile(blocker, 'x');
    const result = await test(['passing', '--output', join(blocker, 'report.xml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error (OUTPUT_UNWRITABLE): cannot write the report to');
    expectNoStack(result);
  });

  it('--coverage lists unreached rules in the pretty report', async () => {
    const result = await test(['passing', '--coverage']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('COVERAGE');
    expect(result.stdout).toContain('support-bot.yaml: 4/6 rules reached by a case\n  not reached: db-read, no-shell\n');
  });
});

describe('agentguard policy test: GitHub Actions annotations', () => {
  it('prints an ::error annotation per failed case when GITHUB_ACTIONS=true, besides the report', async () => {
    const result = await test(['failing'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(result.code).toBe(1);
    const annotations = result.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(annotations).toHaveLength(3);
    expect(annotations[0]).toMatch(/^::error file=failing\/support-bot\.test\.yaml,line=7,col=5,title=Policy test failed%3A wrongly expects DELETE to be allowed::expected effect allow, got deny%0A/);
    expect(result.stdout).toContain('1 passed, 3 failed');
  });

  it('makes annotation paths relative to GITHUB_WORKSPACE', async () => {
    const workspace = dirname(dirname(FIXTURES.replace(/\/$/, '')));
    const result = await test(['failing'], { env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: workspace } });
    expect(result.stdout).toContain('::error file=fixtures/policy-tests/failing/support-bot.test.yaml,line=7,col=5,');
  });

  it('annotates load errors at their position', async () => {
    const result = await test(['invalid-test/bad-expect.test.yaml'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('::error file=invalid-test/bad-expect.test.yaml,line=8,col=23,title=Policy test file cannot be loaded::cases[1] "misspelt effect" expect.effect: must be one of');
  });

  it('prints no annotations without GITHUB_ACTIONS, nor in --json mode', async () => {
    expect((await test(['failing'])).stdout).not.toContain('::error');
    const json = await test(['failing', '--json'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(json.stdout).not.toContain('::error');
    parseJson(json);
  });
});

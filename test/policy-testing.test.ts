import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { actionSchema } from '../src/core/action.js';
import { openEngine } from '../src/core/engine/open-engine.js';
import { Policy } from '../src/core/policy/policy.js';
import { formatAnnotation, GithubAnnotationsReporter } from '../src/core/policy/reporters/github.js';
import { createReporter, PrettyReporter } from '../src/core/policy/reporters/index.js';
import { toPolicyTestJson } from '../src/core/policy/reporters/json.js';
import { StringWriter } from '../src/core/policy/reporters/reporter.js';
import { checkExpectation } from '../src/core/policy/testing/expectation.js';
import { findPolicyTestFiles } from '../src/core/policy/testing/discover.js';
import { isPolicyTestLoadError, type PolicyTestLoadError } from '../src/core/policy/testing/load-error.js';
import { loadPolicyTests, runPolicyTests } from '../src/core/policy/testing/run.js';
import { subsetMismatches } from '../src/core/policy/testing/subset.js';
import { readPolicyTestFile } from '../src/core/policy/testing/test-file.js';
import { policyTestSchema } from '../src/core/policy/testing/test-file-schema.js';
import type { PolicyTestRun } from '../src/core/policy/testing/types.js';
import { findAll, parseXml } from './fixtures/policy-tests/well-formed-xml.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/policy-tests/', import.meta.url));
const POLICY = `version: 1
name: shop
rules:
  - id: kb-read
    effect: allow
    when: { kind: tool, name: { glob: "kb.*" } }
  - id: no-drop
    effect: deny
    when: { name: db.query, input.sql: { regex: "^drop", flags: i } }
    message: No DROP
  - id: readonly
    effect: transform
    when: { name: db.connect }
    transform: [ { set: input.readOnly, value: true } ]
  - id: never-hit
    effect: deny
    when: { kind: shell }
`;

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ag-policy-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(entries: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(entries)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

async function runFiles(paths: string[], options: { coverage?: boolean } = {}): Promise<PolicyTestRun> {
  return await runPolicyTests(await loadPolicyTests(paths.map((p) => join(dir, p)), { cwd: dir }), options);
}

async function loadError(paths: string[]): Promise<PolicyTestLoadError> {
  const error = await loadPolicyTests(paths.map((p) => join(dir, p)), { cwd: dir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPolicyTestLoadError(error)) throw new Error(`expected a PolicyTestLoadError, got ${String(error)}`);
  return error;
}

describe('running cases', () => {
  it('passes a case whose decision matches and reports where each case is', async () => {
    await files({
      'shop.yaml': POLICY,
      'tests/shop.test.yaml': `policy: ../shop.yaml
cases:
  - name: blocks drop
    action: { kind: tool, name: db.query, input: { sql: "DROP TABLE x" } }
    expect: { effect: deny, rule: no-drop }
  - name: reads kb
    action: { kind: tool, name: kb.search }
    expect: { effect: allow }
`,
    });
    const run = await runFiles(['tests/shop.test.yaml']);
    expect(run.passed).toBe(2);
    expect(run.failed).toBe(0);
    expect(run.results.map((r) => [r.name, r.file, r.policy, r.line, r.column])).toEqual([
      ['blocks drop', join('tests', 'shop.test.yaml'), 'shop.yaml', 3, 5],
      ['reads kb', join('tests', 'shop.test.yaml'), 'shop.yaml', 6, 5],
    ]);
    expect(run.results[0].actual.reasons[0]).toMatchObject({ rule: 'no-drop', effect: 'deny', message: 'No DROP' });
    expect(run.coverage).toBeUndefined();
  });

  it('takes its decisions from the engine the SDK and the sidecar decide with', async () => {
    await files({
      'shop.yaml': POLICY,
      'shop.test.yaml': 'policy: shop.yaml\ncases:\n  - { name: c, action: { kind: tool, name: db.connect, input: { a: 1 } }, expect: { effect: transform } }\n',
    });
    const run = await runFiles(['shop.test.yaml']);
    const engine = await openEngine({ policy: await Policy.fromFile(join(dir, 'shop.yaml')), record: false });
    const direct = await engine.decide({ kind: 'tool', name: 'db.connect', input: { a: 1 } });
    await engine.close();
    const { id: _a, elapsedUs: _b, ...fromRun } = run.results[0].actual;
    const { id: _c, elapsedUs: _d, ...fromEngine } = direct;
    expect(fromRun).toEqual(fromEngine);
  });

  it('runs asynchronous guardrails (a plugin that calls a service) as production does, instead of failing them closed', async () => {
    await files({
      // A plugin whose detect answers later, as one calling a service does.
      'remote-words.mjs': `export default {
  name: 'remote-words', description: 'Reports "forbidden", asynchronously', types: ['WORD'], maxSpanLength: 9, async: true,
  async detect(text) {
    await new Promise((resolve) => setImmediate(resolve));
    const at = text.indexOf('forbidden');
    return at === -1 ? [] : [{ guardrail: 'remote-words', type: 'WORD', start: at, end: at + 9, score: 1 }];
  },
};
`,
      'chat.yaml': `version: 1
name: chat
default: deny
guardrails:
  words: { module: ./remote-words.mjs }
rules:
  - { id: post, effect: allow, when: { name: chat.post } }
  - { id: no-words, effect: deny, when: { name: chat.post, detect: { guardrail: words, in: input.text } } }
`,
      'chat.test.yaml': `policy: chat.yaml
cases:
  - { name: clean, action: { kind: tool, name: chat.post, input: { text: hello } }, expect: { effect: allow, rule: post } }
  - { name: flagged, action: { kind: tool, name: chat.post, input: { text: a forbidden word } }, expect: { effect: deny, rule: no-words } }
`,
    });
    const run = await runFiles(['chat.test.yaml']);
    expect(run.results.map((r) => [r.name, r.passed, r.actual.effect])).toEqual([
      ['clean', true, 'allow'],
      ['flagged', true, 'deny'],
    ]);
  });

  it('puts the given agent id on actions that name none, and hash redaction transforms without writing a key', async () => {
    await files({
      'mail.yaml': `version: 1
name: mail
rules:
  - { id: own, effect: allow, when: { name: report.read, agent.id: bot } }
  - id: hash-emails
    effect: transform
    when: { name: email.send }
    transform: [ { redact: input.body, guardrail: pii, types: [EMAIL_ADDRESS], mode: hash } ]
`,
      'mail.test.yaml': `policy: mail.yaml
cases:
  - { name: own report, action: { kind: tool, name: report.read }, expect: { effect: allow, rule: own } }
  - { name: hashed, action: { kind: tool, name: email.send, input: { body: to ann@example.com } }, expect: { effect: transform, rule: hash-emails } }
`,
    });
    const dataDir = join(dir, '.agentguard');
    const run = await runPolicyTests(await loadPolicyTests([join(dir, 'mail.test.yaml')], { cwd: dir }), { agentId: 'bot', dataDir });
    expect(run.results.map((r) => [r.name, r.passed])).toEqual([
      ['own report', true],
      ['hashed', true],
    ]);
    expect(run.results[1].actual.action.input).not.toMatchObject({ body: 'to ann@example.com' });
    expect(existsSync(dataDir)).toBe(false);
  });

  it('fails a case with the wrong effect and says expected versus actual', async () => {
    await files({
      'shop.yaml': POLICY,
      'shop.test.yaml': 'policy: shop.yaml\ncases:\n  - name: wrong\n    action: { kind: tool, name: db.query, input: { sql: drop table x } }\n    expect: { effect: allow }\n',
    });
    const run = await runFiles(['shop.test.yaml']);
    expect(run.failed).toBe(1);
    expect(run.results[0].passed).toBe(false);
    expect(run.results[0].failures).toEqual(['expected effect allow, got deny']);
    expect(run.results[0].actual.effect).toBe('deny');
  });

  it('checks that every expected rule is among the reasons', async () => {
    await files({
      'shop.yaml': POLICY,
      'shop.test.yaml': `policy: shop.yaml
cases:
  - { name: one id, action: { kind: tool, name: kb.search }, expect: { rule: kb-read } }
  - { name: list ok, action: { kind: tool, name: kb.search }, expect: { rule: [kb-read] } }
  - { name: list with a missing id, action: { kind: tool, name: kb.search }, expect: { rule: [kb-read, no-drop] } }
  - { name: default has no rule, action: { kind: tool, name: email.send }, expect: { rule: kb-read } }
`,
    });
    const run = await runFiles(['shop.test.yaml']);
    expect(run.results.map((r) => r.passed)).toEqual([true, true, false, false]);
    expect(run.results[2].failures).toEqual(['expected rule "no-drop" among the reasons, got "kb-read"']);
    expect(run.results[3].failures).toEqual(['expected rule "kb-read" among the reasons, got no rule (default)']);
  });

  it('matches a partial action deeply, comparing lists element by element', async () => {
    await files({
      'shop.yaml': POLICY,
      'shop.test.yaml': `policy: shop.yaml
cases:
  - name: subset passes
    action: { kind: tool, name: db.connect, input: { host: h, tags: [a, { k: 1, extra: 2 }] } }
    expect: { action: { name: db.connect, input: { readOnly: true, tags: [a, { k: 1 }] } } }
  - name: wrong value and missing field
    action: { kind: tool, name: db.connect }
    expect: { action: { input: { readOnly: false, pool: 3 } } }
  - name: list of another length
    action: { kind: tool, name: db.connect, input: { tags: [a, b] } }
    expect: { action: { input: { tags: [a] } } }
`,
    });
    const run = await runFiles(['shop.test.yaml']);
    expect(run.results.map((r) => r.passed)).toEqual([true, false, false]);
    expect(run.results[1].failures).toEqual([
      'action.input.readOnly: expected false, got true',
      'action.input.pool: expected 3, but the field is missing',
    ]);
    expect(run.results[2].failures).toEqual(['action.input.tags: expected a list of 1 item, got 2']);
  });

  it('lists, per policy, the rules no case reached when coverage is asked for', async () => {
    await files({
      'shop.yaml': POLICY,
      'other.yaml': 'version: 1\nname: other\nrules:\n  - { id: only, effect: allow }\n',
      'a.test.yaml': 'policy: shop.yaml\ncases:\n  - { name: a, action: { kind: tool, name: kb.search }, expect: { effect: allow } }\n',
      'b.test.yaml': 'policy: shop.yaml\ncases:\n  - { name: b, action: { kind: tool, name: db.query, input: { sql: DROP x } }, expect: { effect: deny } }\n',
      'c.test.yaml': 'policy: other.yaml\ncases:\n  - { name: c, action: { kind: x, name: y }, expect: { effect: allow } }\n',
    });
    const run = await runFiles(['a.test.yaml', 'b.test.yaml', 'c.test.yaml'], { coverage: true });
    expect(run.coverage).toEqual([
      { policy: 'other.yaml', rules: 1, uncovered: [] },
      { policy: 'shop.yaml', rules: 4, uncovered: ['readonly', 'never-hit'] },
    ]);
  });
});

describe('invalid test files', () => {
  it('names the case, the field, the line and the column of each schema problem', async () => {
    await files({
      'shop.yaml': POLICY,
      'bad.test.yaml': `policy: shop.yaml
cases:
  - name: fine
    action: { kind: tool, name: kb.search }
    expect: { effect: allow }
  - name: typo
    action: { kind: tool, name: kb.search }
    expect: { effect: denied, rulez: kb-read }
  - name: empty expect
    action: { kind: tool, name: kb.search }
    expect: {}
  - name: bad action
    action: { name: kb.search, inputs: {} }
    expect: { effect: deny }
`,
    });
    const error = await loadError(['bad.test.yaml']);
    expect(error.exitCode).toBe(2);
    expect(error.code).toBe('POLICY_TEST_INVALID');
    const byWhere = Object.fromEntries(error.problems.map((p) => [`${p.where}`, p]));
    expect(byWhere['cases[1] "typo" expect.effect']).toMatchObject({ file: 'bad.test.yaml', line: 8, column: 23 });
    expect(byWhere['cases[1] "typo" expect.effect'].message).toContain('must be one of allow, deny, transform, require_approval; got the string "denied"');
    expect(byWhere['cases[1] "typo" expect.rulez']).toMatchObject({ line: 8, column: 31, message: 'unknown field "rulez"' });
    expect(byWhere['cases[1] "typo" expect.rulez'].hint).toContain('Did you mean "rule"?');
    expect(byWhere['cases[2] "empty expect" expect']).toMatchObject({ line: 11, message: 'needs at least one of effect, rule, action' });
    expect(byWhere['cases[3] "bad action" action']).toMatchObject({ line: 13, message: 'missing required field "kind"' });
    expect(byWhere['cases[3] "bad action" action.inputs']).toMatchObject({ message: 'unknown field "inputs"' });
    expect(error.message).toContain('bad.test.yaml:8:23 cases[1] "typo" expect.effect: must be one of');
  });

  it('rejects unknown top-level keys, missing fields, empty case lists and duplicate names', async () => {
    await files({
      'shop.yaml': POLICY,
      'top.test.yaml': 'polcy: shop.yaml\ncases: []\n',
      'dup.test.yaml': 'policy: shop.yaml\ncases:\n  - { name: same, action: { kind: a, name: b }, expect: { effect: deny } }\n  - { name: same, action: { kind: a, name: b }, expect: { effect: deny } }\n',
    });
    const error = await loadError(['top.test.yaml', 'dup.test.yaml']);
    const messages = error.problems.map((p) => `${p.file} ${p.where ?? '-'}: ${p.message}`);
    expect(messages).toContain('top.test.yaml -: missing required field "policy"');
    expect(messages).toContain('top.test.yaml polcy: unknown field "polcy"');
    expect(messages).toContain('top.test.yaml cases: must not be empty');
    expect(messages).toContain('dup.test.yaml cases[1] "same" name: duplicate case name (also cases[0])');
  });

  it('reports a YAML syntax error with its position, and a JSON test file problem with its position', async () => {
    await files({
      'shop.yaml': POLICY,
      'syntax.test.yaml': 'policy: shop.yaml\ncases:\n  - name: x\n   action: [\n',
      'bad.test.json': '{\n  "policy": "shop.yaml",\n  "cases": [\n    { "name": "j", "action": { "kind": "tool", "name": "x" }, "expect": { "effect": 3 } }\n  ]\n}\n',
    });
    const error = await loadError(['syntax.test.yaml', 'bad.test.json']);
    const syntax = error.problems.find((p) => p.file === 'syntax.test.yaml')!;
    expect(syntax.message).toMatch(/^not valid YAML/);
    expect(syntax.line).toBeGreaterThanOrEqual(3);
    const json = error.problems.find((p) => p.file === 'bad.test.json')!;
    expect(json).toMatchObject({ line: 4, where: 'cases[0] "j" expect.effect' });
  });

  it('points at the policy field when the policy file does not exist', async () => {
    await files({ 'missing.test.yaml': 'policy: ../nowhere.yaml\ncases:\n  - { name: a, action: { kind: a, name: b }, expect: { effect: deny } }\n' });
    const error = await loadError(['missing.test.yaml']);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ file: 'missing.test.yaml', line: 1, column: 9, where: 'policy', source: 'test' });
    expect(error.problems[0].message).toContain('no such file');
  });

  it('rejects an expected rule id that the policy does not have, suggesting the close one', async () => {
    await files({
      'shop.yaml': POLICY,
      'r.test.yaml': 'policy: shop.yaml\ncases:\n  - { name: a, action: { kind: tool, name: kb.x }, expect: { rule: [kb-read, kb-reed] } }\n',
    });
    const error = await loadError(['r.test.yaml']);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ where: 'cases[0] "a" expect.rule[1]', message: 'rule "kb-reed" is not in the policy shop.yaml' });
    expect(error.problems[0].hint).toContain('Did you mean "kb-read"?');
  });

  it('shows an invalid policy\'s own problems with their positions, once, naming the test files that use it', async () => {
    await files({
      'broken.yaml': 'version: 1\nname: broken\nrules:\n  - id: r1\n    effect: permit\n',
      'a.test.yaml': 'policy: broken.yaml\ncases:\n  - { name: a, action: { kind: a, name: b }, expect: { effect: deny } }\n',
      'b.test.yaml': 'policy: broken.yaml\ncases:\n  - { name: b, action: { kind: a, name: b }, expect: { effect: deny } }\n',
    });
    const error = await loadError(['a.test.yaml', 'b.test.yaml']);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatchObject({ source: 'policy', file: 'broken.yaml', line: 5, column: 13, where: 'rules[0].effect', usedBy: 'a.test.yaml, b.test.yaml' });
    expect(error.message).toContain('broken.yaml (the policy tested by a.test.yaml, b.test.yaml):');
    expect(error.message).toContain('broken.yaml:5:13 rules[0].effect: must be one of');
  });

  it('reads a valid file into cases with positions', async () => {
    await files({ 'v.test.yaml': 'policy: p.yaml\ncases:\n  - name: one\n    action: { kind: a, name: b }\n    expect: { effect: deny }\n' });
    const result = await readPolicyTestFile(join(dir, 'v.test.yaml'), dir);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.loaded.test).toMatchObject({ file: 'v.test.yaml', policyFile: 'p.yaml', policyPath: join(dir, 'p.yaml') });
    expect(result.loaded.test.cases).toEqual([{ index: 0, name: 'one', action: { kind: 'a', name: 'b' }, expect: { effect: 'deny' }, line: 3, column: 5 }]);
  });
});

describe('the test file schema', () => {
  it('describes actions exactly as the engine does', () => {
    const { $id: _id, ...engine } = actionSchema;
    expect((policyTestSchema().definitions as Record<string, Record<string, unknown>>).action).toMatchObject(JSON.parse(JSON.stringify(engine)));
  });
});

describe('subset matching', () => {
  it('accepts extra keys, rejects type changes and compares scalars strictly', () => {
    expect(subsetMismatches({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2, d: 3 }] }, z: 0 })).toEqual([]);
    expect(subsetMismatches({ a: 1 }, { a: '1' }, ['x'])).toEqual([{ path: 'x.a', message: 'expected 1, got "1"' }]);
    expect(subsetMismatches({ a: { b: 1 } }, { a: [1] })).toEqual([{ path: 'a', message: 'expected an object, got an array' }]);
    expect(subsetMismatches([1], { 0: 1 })).toEqual([{ path: '', message: 'expected a list, got an object' }]);
    expect(subsetMismatches({ a: null }, { a: null })).toEqual([]);
    expect(subsetMismatches({ a: null }, {})).toEqual([{ path: 'a', message: 'expected null, but the field is missing' }]);
  });

  it('reports an effect and a rule failure together', () => {
    const decision = Policy.parse(POLICY).evaluate({ kind: 'tool', name: 'kb.search' });
    expect(checkExpectation({ effect: 'deny', rule: 'no-drop' }, decision)).toEqual([
      'expected effect deny, got allow',
      'expected rule "no-drop" among the reasons, got "kb-read"',
    ]);
  });
});

describe('finding test files', () => {
  it('searches policies/ and the project policy folder by default, recursively, skipping node_modules and hidden folders', async () => {
    await files({
      'policies/pack/a.test.yaml': 'x',
      'policies/pack/a.yaml': 'x',
      'policies/node_modules/dep/b.test.yaml': 'x',
      'policies/.cache/c.test.yaml': 'x',
      'rules/d.test.json': 'x',
      'rules/deep/e.test.yml': 'x',
      'agentguard/f.test.yaml': 'x',
      'agentguard.config.json': JSON.stringify({ policyDir: 'rules' }),
      'elsewhere/g.test.yaml': 'x',
    });
    expect(await findPolicyTestFiles([], dir)).toEqual([
      join(dir, 'policies/pack/a.test.yaml'),
      join(dir, 'rules/d.test.json'),
      join(dir, 'rules/deep/e.test.yml'),
    ]);
  });

  it('uses agentguard/ when there is no config, and takes explicit files and folders', async () => {
    await files({ 'agentguard/f.test.yaml': 'x', 'x/y/one.test.yaml': 'x', 'x/plain.yaml': 'x', 'named.yaml': 'x' });
    expect(await findPolicyTestFiles([], dir)).toEqual([join(dir, 'agentguard/f.test.yaml')]);
    expect(await findPolicyTestFiles(['x', 'named.yaml', 'x/y/one.test.yaml'], dir)).toEqual([join(dir, 'named.yaml'), join(dir, 'x/y/one.test.yaml')]);
  });

  it('does not follow symbolic links to folders', async () => {
    await files({ 'policies/a.test.yaml': 'x' });
    await symlink(join(dir, 'policies'), join(dir, 'policies', 'loop'));
    expect(await findPolicyTestFiles([], dir)).toEqual([join(dir, 'policies/a.test.yaml')]);
  });

  it('fails with exit code 2 and a hint when nothing is found or a path does not exist', async () => {
    await expect(findPolicyTestFiles([], dir)).rejects.toMatchObject({ code: 'NO_POLICY_TESTS', exitCode: 2, actions: expect.arrayContaining([expect.stringContaining('agentguard init')]) });
    await expect(findPolicyTestFiles(['nope'], dir)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND', exitCode: 2, message: 'nope: no such file or folder' });
  });
});

describe('reporters', () => {
  async function fixtureRun(paths: string[], coverage = false): Promise<PolicyTestRun> {
    const found = await findPolicyTestFiles(paths, FIXTURES);
    return runPolicyTests(await loadPolicyTests(found, { cwd: FIXTURES }), { coverage });
  }
  function render(name: 'pretty' | 'json' | 'junit' | 'tap', run: PolicyTestRun): string {
    const out = new StringWriter();
    createReporter(name).report(run, out);
    return out.toString();
  }

  it('pretty: per-file PASS/FAIL lines, FAILURES with location and values, coverage, then counts', async () => {
    const text = render('pretty', await fixtureRun(['failing/support-bot.test.yaml', 'passing'], true));
    expect(text).toContain('failing/support-bot.test.yaml (policy support-bot.yaml)\n  PASS allows SELECT\n  FAIL wrongly expects DELETE to be allowed\n');
    const failures = text.slice(text.indexOf('FAILURES'), text.indexOf('COVERAGE'));
    expect(failures).toContain('failing/support-bot.test.yaml:7:5: FAIL wrongly expects DELETE to be allowed');
    expect(failures).toMatch(/expected\s+effect allow\n\s+actual effect\s+deny\n\s+reasons\s+no-destructive-sql \(deny\): Destructive SQL is not allowed\n\s+why\s+expected effect allow, got deny/);
    expect(failures).not.toContain('PASS');
    expect(text).toContain('support-bot.yaml: 5/6 rules reached by a case\n  not reached: no-shell\n');
    expect(text.trimEnd().endsWith('6 passed, 3 failed (9 cases in 3 files)')).toBe(true);
  });

  it('pretty: colours through the injected style only', async () => {
    const out = new StringWriter();
    new PrettyReporter({ pass: (t) => `<g>${t}</g>`, fail: (t) => `<r>${t}</r>`, bold: (t) => t, dim: (t) => t }).report(await fixtureRun(['failing/support-bot.test.yaml']), out);
    expect(out.toString()).toContain('<g>PASS</g> allows SELECT');
    expect(out.toString()).toContain('<r>FAIL</r> expects the wrong rule');
  });

  it('json: the stable contract, with a message only on failures', async () => {
    const run = await fixtureRun(['failing/support-bot.test.yaml'], true);
    const json = JSON.parse(render('json', run));
    expect(Object.keys(json)).toEqual(['passed', 'failed', 'results', 'coverage']);
    expect(json).toMatchObject({ passed: 1, failed: 3 });
    expect(json.results[0]).not.toHaveProperty('message');
    expect(Object.keys(json.results[1]).sort()).toEqual(['actual', 'expected', 'file', 'line', 'message', 'name', 'passed']);
    expect(json.results[1]).toMatchObject({ file: 'failing/support-bot.test.yaml', line: 7, passed: false, expected: { effect: 'allow' }, actual: { effect: 'deny' } });
    expect(json.results[1].message).toBe('expected effect allow, got deny');
    expect(json).toEqual(JSON.parse(JSON.stringify(toPolicyTestJson(run))));
  });

  it('junit: well-formed XML that escapes <, &, and quotes in names and messages', async () => {
    const xml = render('junit', await fixtureRun(['special-names', 'failing'], true));
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    expect(root.attributes).toMatchObject({ tests: '6', failures: '4' });
    const cases = findAll(root, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toContain(`a < b & "c" > 'd' # not a directive`);
    const special = cases.find((c) => c.attributes.name.startsWith('a < b'))!;
    expect(special.attributes).toMatchObject({ file: 'special-names/names.test.yaml', line: '3' });
    expect(special.children[0].name).toBe('failure');
    expect(special.children[0].attributes.message).toBe('expected effect deny, got allow');
    expect(special.children[0].text).toContain('reason: kb-read (allow): Allowed by rule "kb-read"');
    expect(findAll(root, 'failure')).toHaveLength(4);
    expect(findAll(root, 'property').find((p) => p.attributes.name === 'coverage.uncovered')).toBeDefined();
  });

  it('junit: the XML check used above rejects malformed XML', () => {
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a b="<"/>')).toThrow();
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a>x & y</a>')).toThrow();
    expect(() => parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a><b></a>')).toThrow();
  });

  it('junit: control characters in a name still give well-formed XML', async () => {
    await files({
      'shop.yaml': POLICY,
      'c.test.json': JSON.stringify({ policy: 'shop.yaml', cases: [{ name: 'bell\u0007 and\nnewline', action: { kind: 'tool', name: 'kb.x' }, expect: { effect: 'deny' } }] }),
    });
    const xml = render('junit', await runFiles(['c.test.json']));
    const testcase = findAll(parseXml(xml), 'testcase')[0];
    expect(testcase.attributes.name).toBe('bell\uFFFD and\nnewline');
  });

  it('tap: version 13, a plan, one line per case and a YAML block per failure', async () => {
    const text = render('tap', await fixtureRun(['special-names', 'failing']));
    const lines = text.split('\n');
    expect(lines[0]).toBe('TAP version 13');
    expect(lines[1]).toBe('1..6');
    const points = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
    expect(points.map((l) => Number(/ok (\d+)/.exec(l)![1]))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(points.filter((l) => l.startsWith('not ok'))).toHaveLength(4);
    expect(text).toContain(`not ok 5 - a < b & "c" > 'd' \\# not a directive`);
    const block = text.slice(text.indexOf('not ok 2'));
    const yamlBlock = block.slice(block.indexOf('  ---\n') + 6, block.indexOf('  ...\n'));
    expect(parseYaml(yamlBlock.replace(/^ {2}/gm, ''))).toMatchObject({
      message: 'expected effect allow, got deny',
      at: { file: 'failing/support-bot.test.yaml', line: 7, column: 5 },
      expected: { effect: 'allow' },
      actual: { effect: 'deny', reasons: ['no-destructive-sql (deny): Destructive SQL is not allowed'] },
    });
  });

  it('github: one escaped ::error annotation per failed case, at its line and column', async () => {
    const out = new StringWriter();
    new GithubAnnotationsReporter().report(await fixtureRun(['special-names']), out);
    const lines = out.toString().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^::error file=special-names\/names\.test\.yaml,line=3,col=5,title=Policy test failed%3A a < b & "c" > 'd' # not a directive::expected effect deny, got allow%0A/);
    expect(formatAnnotation({ level: 'error', file: 'a,b:c.yaml', title: 't', message: '100%\r\nx' })).toBe('::error file=a%2Cb%3Ac.yaml,title=t::100%25%0D%0Ax\n');
  });
});

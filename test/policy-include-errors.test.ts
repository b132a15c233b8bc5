import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeSource } from '../src/core/policy/compose/compose.js';
import { parseSourceText, readSourceFile } from '../src/core/policy/load.js';
import { Policy } from '../src/core/policy/policy.js';
import { isPolicyError, PolicyError } from '../src/core/policy/policy-error.js';
import type { PolicyProblem } from '../src/core/policy/problem.js';
import { validatePolicyFile } from '../src/core/policy/validate.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/** Writes files (name → text) into a new folder and returns its path. */
function project(files: Record<string, string>): string {
  const dir = makeTempDir('agentguard-include-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function problemsOf(file: string, options: { packsDir?: string } = {}): Promise<PolicyProblem[]> {
  try {
    const source = await readSourceFile(file);
    Policy.fromSource(composeSource(source, { ...options, cwd: join(file, '..') }));
  } catch (error) {
    if (isPolicyError(error)) return error.problems;
    throw error;
  }
  throw new Error(`${file} compiled without problems`);
}

const TEAM = `version: 1
name: team
rules:
  - id: no-deploy
    effect: deny
    when: { name: deploy }
`;

describe('include: errors name the file and line where they are', () => {
  it('an id collision (the same pack twice) names both includes with file:line, and as: resolves it', async () => {
    const text = `version: 1
name: bot
include:
  - agentguard:payment-limits
  - ./x.yaml
  - agentguard:payment-limits@1
rules: []
`;
    const dir = project({ 'policy.yaml': text, 'x.yaml': TEAM });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem.code).toBe('duplicate-rule-id');
    expect(problem.line).toBe(6);
    expect(problem.message).toContain('rule id "payment-limits/payments-allowed" comes twice');
    expect(problem.message).toMatch(/from agentguard:payment-limits included at \S*policy\.yaml:4:5 \(rule at \S*policies\/payment-limits\/policy\.yaml:\d+\)/);
    expect(problem.message).toMatch(/from agentguard:payment-limits@1 included here at \S*policy\.yaml:6:5 \(rule at \S*policies\/payment-limits\/policy\.yaml:\d+\)/);
    expect(problem.hint).toContain('as:');

    writeFileSync(join(dir, 'policy.yaml'), text.replace('  - agentguard:payment-limits@1', '  - { pack: agentguard:payment-limits@1, as: payments-eu, params: { currencies: [EUR] } }'));
    const policy = await Policy.fromFile(join(dir, 'policy.yaml'));
    const ids = policy.document.rules.map((r) => r.id);
    expect(ids).toContain('payment-limits/currency-not-allowed');
    expect(ids).toContain('payments-eu/currency-not-allowed');
    expect(ids).toContain('team/no-deploy');
  });

  it('a duplicate id inside an included file is reported in that file, at its line', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./team.yaml]\nrules: []\n',
      'team.yaml': `${TEAM}  - id: no-deploy\n    effect: allow\n`,
    });
    const report = await validatePolicyFile(join(dir, 'policy.yaml'), { skipRedos: true });
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ code: 'duplicate-rule-id', file: expect.stringContaining('team.yaml'), line: 7 })]);
  });

  it('parameters are checked against the pack schema, with file:line in the including file, what is wrong and how to fix it', async () => {
    const dir = project({
      'policy.yaml': `version: 1
name: bot
include:
  - pack: agentguard:readonly-db
    params:
      tabels: [orders]
  - pack: agentguard:outbound-allowlist
    params:
      domains: [acme.com, 42]
      hosts: api.acme.com
  - pack: agentguard:payment-limits
    params: { hardCap: -5 }
rules: []
`,
    });
    const problems = await problemsOf(join(dir, 'policy.yaml'));
    const at = (line: number) => problems.find((p) => p.line === line);
    expect(at(6)).toMatchObject({ code: 'params', message: 'pack readonly-db has no parameter "tabels"', path: 'include[0].params.tabels', column: 7 });
    expect(at(6)?.hint).toContain('Did you mean "tables"?');
    expect(at(6)?.hint).toContain('functions (');
    expect(at(9)).toMatchObject({ path: 'include[1].params.domains[1]', message: 'parameter "domains"[1] must be a string, got the number 42' });
    expect(at(10)).toMatchObject({ path: 'include[1].params.hosts', message: 'parameter "hosts" must be an array, got the string "api.acme.com"' });
    expect(at(10)?.hint).toContain('Hosts HTTPS requests may go to');
    expect(at(12)).toMatchObject({ path: 'include[2].params.hardCap' });
    expect(at(12)?.message).toContain('must be > 0');
    for (const p of problems) expect(p.file).toBeUndefined(); // all in the including file itself
  });

  it('a pattern in a parameter schema is enforced: a domain that is not a host name is refused', async () => {
    const dir = project({ 'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - { pack: agentguard:outbound-allowlist, params: { domains: ["evil.test|.*"] } }\nrules: []\n' });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'params', line: 4, path: 'include[0].params.domains[0]' });
    expect(problem.message).toContain('"evil.test|.*" does not have the form this parameter needs');
  });

  it('parameter values are data: a value with regex syntax matches only its own text, never as a pattern', async () => {
    const dir = project({
      'pack/policy.yaml': `version: 1
name: hosts
params:
  hosts: { type: array, items: { type: string }, default: [a.example] }
rules:
  - id: ok
    effect: allow
    when: { input.url: { regex: { $regex: '^https://{hosts}/' } } }
  - id: listed
    effect: deny
    when: { input.host: { in: { $param: hosts } } }
`,
      'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - { pack: ./pack/policy.yaml, params: { hosts: [".*", "a.b"] } }\nrules: []\n',
    });
    const policy = await Policy.fromFile(join(dir, 'policy.yaml'));
    const decide = (input: Record<string, unknown>) => policy.evaluate({ kind: 'http', name: 'http.get', input });
    expect(decide({ url: 'https://.*/x' }).effect).toBe('allow');
    expect(decide({ url: 'https://evil.test/x' }).effect).toBe('deny');
    expect(decide({ url: 'https://aXb/x' }).effect).toBe('deny');
    expect(decide({ url: 'https://a.b/x' }).effect).toBe('allow');
    expect(decide({ url: 'https://a.b/x', host: '.*' }).reasons.map((r) => r.rule)).toEqual(['hosts/listed']);
  });

  it('a value that is an object (a condition smuggled in as a parameter) is refused', async () => {
    const dir = project({
      'pack.yaml': 'version: 1\nname: p\nparams:\n  names: { default: [a] }\nrules:\n  - { id: r, effect: allow, when: { name: { in: { $param: names } } } }\n',
      'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - { pack: ./pack.yaml, params: { names: { any: [{ name: x }] } } }\nrules: []\n',
    });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'params', line: 4, path: 'include[0].params.names' });
    expect(problem.message).toBe('parameter "names" must be text, a number, a boolean or a list of them, got an object');
  });

  it('an unknown $param in a pack is reported in the pack at its line', async () => {
    const dir = project({
      'pack.yaml': 'version: 1\nname: p\nparams:\n  names: { type: array, default: [a] }\nrules:\n  - id: r\n    effect: allow\n    when: { name: { in: { $param: nmes } } }\n',
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./pack.yaml]\nrules: []\n',
    });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'params', file: 'pack.yaml', line: 8, message: 'unknown parameter "nmes"' });
    expect(problem.hint).toContain('Did you mean "names"?');
  });

  it('a malformed include entry gets a precise message', () => {
    const problemsOf = (include: string) => {
      try {
        Policy.parse(`version: 1\nname: p\ninclude: ${include}\nrules: []\n`);
      } catch (e) {
        return (e as PolicyError).problems.map((p) => `${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
      }
      throw new Error('no error');
    };
    expect(problemsOf('[5]')).toEqual(['include[0]: must be a string or an object, got the number 5']);
    expect(problemsOf('[{ pak: agentguard:payment-limits }]')).toEqual([
      'include[0]: missing required field "pack"',
      'include[0].pak: unknown field "pak" (Allowed here: pack, params, as. Did you mean "pack"?)',
    ]);
    expect(problemsOf('[{ pack: agentguard:payment-limits, as: "a/b" }]')).toEqual([
      'include[0].as: "a/b" cannot prefix rule ids (Use a letter or digit, then letters, digits, ".", "_" or "-" (as: team-rules).)',
    ]);
    expect(problemsOf('[{ pack: agentguard:payment-limits, params: [1] }]')).toEqual(['include[0].params: must be an object, got an array']);
  });

  it('parameter declarations are checked: names a placeholder can hold, schemas as objects, a default to stand alone', () => {
    const problemsOf = (params: string) => {
      try {
        Policy.parse(`version: 1\nname: p\nparams: ${params}\nrules: []\n`);
      } catch (e) {
        return (e as PolicyError).problems.map((p) => `${p.path}@${p.line}: ${p.message}`);
      }
      throw new Error('no error');
    };
    expect(problemsOf('{ "bad-name": { default: 1 } }')).toEqual(['params.bad-name@3: "bad-name" cannot name a parameter']);
    expect(problemsOf('{ tables: 5 }')).toEqual(['params.tables@3: parameter "tables" must be described by a JSON Schema object']);
    expect(problemsOf('{ x: { type: nonsense, default: 1 } }')[0]).toContain('params.x@3: the JSON Schema of parameter "x" is invalid');
    expect(problemsOf('{ x: { type: string } }')).toEqual(['params.x@3: parameter "x" has no default, so this file cannot be used on its own']);
  });

  it('a parameter reference in a policy that declares no parameters says how to declare one', () => {
    const error = (() => {
      try {
        Policy.parse('version: 1\nname: p\nrules:\n  - id: r\n    effect: allow\n    when: { name: { in: { $param: names } } }\n');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems[0]).toMatchObject({ line: 6, message: 'unknown parameter "names"', hint: expect.stringContaining('Declare it under params:') });
  });

  it('a schema error inside an included file is reported in that file with its line (policy validate)', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./rules/team.yaml]\nrules: []\n',
      'rules/team.yaml': 'version: 1\nname: team\nrules:\n  - id: a\n    effect: alow\n',
    });
    const report = await validatePolicyFile(join(dir, 'policy.yaml'), { skipRedos: true });
    expect(report.errors).toEqual([expect.objectContaining({ file: expect.stringMatching(/rules\/team\.yaml$/), line: 5, path: 'rules[0].effect', code: 'schema' })]);
  });

  it('a compile error in an included rule is reported in that file (not the including one)', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./team.yaml]\nrules:\n  - { id: own, effect: allow, when: { name: x } }\n',
      'team.yaml': "version: 1\nname: team\nrules:\n  - id: bad\n    effect: deny\n    when: { input.x: { regex: '(' } }\n",
    });
    const error = await Policy.fromFile(join(dir, 'policy.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    const problem = (error as PolicyError).problems[0];
    expect(problem).toMatchObject({ file: expect.stringContaining('team.yaml'), line: 6 });
    expect((error as PolicyError).message).toMatch(/team\.yaml:6:\d+ /);
  });

  it('a cycle of includes is an error that shows the cycle', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./a.yaml]\nrules: []\n',
      'a.yaml': 'version: 1\nname: a\ninclude: [./b.yaml]\nrules: []\n',
      'b.yaml': 'version: 1\nname: b\ninclude:\n  - ./a.yaml\nrules: []\n',
    });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'include', file: 'b.yaml', line: 4 });
    expect(problem.message).toBe('include cycle: a.yaml → b.yaml → a.yaml');
  });

  it('a file that includes itself is a cycle', async () => {
    const dir = project({ 'policy.yaml': 'version: 1\nname: bot\ninclude: [./policy.yaml]\nrules: []\n' });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem.message).toBe('include cycle: policy.yaml → policy.yaml');
  });

  it('a missing pack lists the installed ones and suggests a close name', async () => {
    const dir = project({ 'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - agentguard:readonly-database\nrules: []\n' });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'include', line: 4, message: 'no pack "readonly-database" in this agentguard' });
    expect(problem.hint).toContain('agentguard:shell-safety');
    expect(problem.hint).toContain('Did you mean "agentguard:readonly-db"?');
  });

  it('a major version the installed pack does not have is an error that says which version is installed', async () => {
    const dir = project({ 'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - agentguard:shell-safety@2\nrules: []\n' });
    const [problem] = await problemsOf(join(dir, 'policy.yaml'));
    expect(problem).toMatchObject({ code: 'include', line: 4 });
    expect(problem.message).toBe('agentguard:shell-safety@2 asks for major version 2 of pack "shell-safety", but this agentguard ships shell-safety 1.0.0');
    expect(problem.hint).toContain('agentguard:shell-safety@1');
    await expect(Policy.parse('version: 1\nname: bot\ninclude: [agentguard:shell-safety@1]\nrules: []\n').document.rules.length).toBeGreaterThan(10);
  });

  it('a malformed pack name or an include that is neither a pack nor a relative path is explained', async () => {
    const dir = project({ 'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - agentguard:shell-safety@1.2\n  - team-rules.yaml\nrules: []\n' });
    const problems = await problemsOf(join(dir, 'policy.yaml'));
    expect(problems[0]).toMatchObject({ line: 4, message: expect.stringContaining('a pack version is its major version only') });
    expect(problems[1]).toMatchObject({ line: 5, message: 'cannot include "team-rules.yaml"' });
    expect(problems[1].hint).toContain('./ or ../');
  });

  it('a missing relative file is an error at the include; a syntax error in an included file is at its own line', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude:\n  - ./nope.yaml\n  - ./broken.yaml\nrules: []\n',
      'broken.yaml': 'version: 1\nname: broken\nrules:\n  - id: a\n   effect: deny\n',
    });
    const problems = await problemsOf(join(dir, 'policy.yaml'));
    expect(problems[0]).toMatchObject({ code: 'include', line: 4, message: 'cannot include nope.yaml: no such file' });
    expect(problems[1]).toMatchObject({ code: 'syntax', file: 'broken.yaml', line: 5 });
  });

  it('relative includes are relative to the including file, nested ones too, and prefixes nest', async () => {
    const dir = project({
      'agentguard/policy.yaml': 'version: 1\nname: bot\ninclude: [../shared/team.yaml]\nrules: []\n',
      'shared/team.yaml': 'version: 1\nname: team\ninclude: [./sub/ops.yaml]\nrules:\n  - { id: t, effect: allow, when: { name: t } }\n',
      'shared/sub/ops.yaml': 'version: 1\nname: ops\nrules:\n  - { id: o, effect: deny, when: { name: o } }\n',
    });
    const policy = await Policy.fromFile(join(dir, 'agentguard/policy.yaml'));
    expect(policy.document.rules.map((r) => r.id)).toEqual(['team/ops/o', 'team/t']);
    expect(policy.evaluate({ kind: 'tool', name: 'o' }).reasons[0].rule).toBe('team/ops/o');
    expect(policy.compiled.composition?.origins.map((o) => [o.id, o.localId, o.line, o.via.length])).toEqual([
      ['team/ops/o', 'o', 4, 2],
      ['team/t', 't', 5, 1],
    ]);
  });

  it('an included file cannot load guardrail plugin modules, and a guardrail configured twice differently is an error', async () => {
    const dir = project({
      'policy.yaml': 'version: 1\nname: bot\ninclude: [./a.yaml, ./b.yaml]\nguardrails:\n  pii: { config: { types: [email] } }\nrules: []\n',
      'a.yaml': 'version: 1\nname: a\nguardrails:\n  ids: { module: ./ids.js }\nrules: []\n',
      'b.yaml': 'version: 1\nname: b\nguardrails:\n  pii: { config: { types: [ssn] } }\nrules: []\n',
    });
    const problems = await problemsOf(join(dir, 'policy.yaml'));
    expect(problems.map((p) => [p.file, p.line, p.message])).toEqual(
      expect.arrayContaining([
        ['a.yaml', 4, 'an included file cannot load guardrail plugin module "./ids.js"'],
        [undefined, 5, 'guardrail "pii" is configured differently here and in b.yaml'],
      ]),
    );
  });

  it('policies given as text resolve packs too, and relative includes against the working directory', () => {
    const source = parseSourceText('version: 1\nname: inline\ninclude: [agentguard:payment-limits@1]\nrules: []\n', '<inline>');
    const policy = Policy.fromSource(source);
    expect(policy.evaluate({ kind: 'tool', name: 'payments.transfer', input: { amount: 20000, currency: 'USD' } }).reasons.map((r) => r.rule)).toEqual(['payment-limits/amount-over-hard-cap']);
  });
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Policy } from '../src/core/policy/policy.js';
import { isPolicyTestLoadError } from '../src/core/policy/testing/load-error.js';
import { loadPolicyTests } from '../src/core/policy/testing/run.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

function project(files: Record<string, string>): string {
  const dir = makeTempDir('agentguard-include-tools-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const POLICY = `version: 1
name: bot
include:
  - ./rules/team.yaml
  - { pack: agentguard:payment-limits@1, params: { hardCap: 5000 } }
rules:
  - { id: kb, effect: allow, when: { name: kb.search } }
`;
const TEAM = 'version: 1\nname: team\nrules:\n  - id: no-deploy\n    effect: deny\n    when: { name: deploy }\n';

describe('tools show where an included rule comes from', () => {
  it('explain gives each included rule its file:line and the includes it came through; own rules have none', async () => {
    const dir = project({ 'policy.yaml': POLICY, 'rules/team.yaml': TEAM });
    const policy = await Policy.fromFile(join(dir, 'policy.yaml'));
    const traces = policy.explain({ kind: 'tool', name: 'deploy' });
    expect(traces.find((t) => t.id === 'team/no-deploy')).toMatchObject({ matched: true, origin: expect.stringMatching(/rules\/team\.yaml:4 \(\S*rules\/team\.yaml\)$/) });
    expect(traces.find((t) => t.id === 'payment-limits/amount-over-hard-cap')?.origin).toMatch(/policies\/payment-limits\/policy\.yaml:\d+ \(agentguard:payment-limits@1\.0\.0\)$/);
    expect(traces.find((t) => t.id === 'kb')?.origin).toBeUndefined();
    expect(policy.evaluate({ kind: 'tool', name: 'payments.transfer', input: { amount: 6000, currency: 'USD' } }).reasons).toEqual([
      { rule: 'payment-limits/amount-over-hard-cap', effect: 'deny', message: 'Payments above 5000 are never made by an agent.' },
    ]);
  });

  it('policy simulate --explain prints the origin, and --json carries it', async () => {
    const dir = project({ 'policy.yaml': POLICY, 'rules/team.yaml': TEAM });
    const action = JSON.stringify({ kind: 'tool', name: 'deploy' });
    const out = await runCliInProcess(['policy', 'simulate', '--policy', 'policy.yaml', '--action', action, '--explain'], { cwd: dir });
    expect(out.stdout).toContain('team/no-deploy: Denied by rule "team/no-deploy"');
    expect(out.stdout).toMatch(/team\/no-deploy \(deny\): matched\n\s+from rules\/team\.yaml:4 \(rules\/team\.yaml\)/);
    const json = await runCliInProcess(['policy', 'simulate', '--policy', 'policy.yaml', '--action', action, '--explain', '--json'], { cwd: dir });
    const parsed = JSON.parse(json.stdout) as { explanation: Array<{ id: string; origin?: string }> };
    expect(parsed.explanation.find((t) => t.id === 'team/no-deploy')?.origin).toBe('rules/team.yaml:4 (rules/team.yaml)');
  });

  it('policy validate --json names the included file of a problem, and exits 1', async () => {
    const dir = project({ 'policy.yaml': POLICY, 'rules/team.yaml': TEAM.replace('effect: deny', 'effect: dny') });
    const out = await runCliInProcess(['policy', 'validate', 'policy.yaml', '--json'], { cwd: dir });
    const report = JSON.parse(out.stdout) as { valid: boolean; files: Array<{ file: string; errors: Array<{ file?: string; line: number; path: string }> }> };
    expect(report.valid).toBe(false);
    expect(report.files[0].file).toBe('policy.yaml');
    expect(report.files[0].errors).toEqual([expect.objectContaining({ file: 'rules/team.yaml', line: 5, path: 'rules[0].effect' })]);
    expect(out.code).toBe(1);
  });

  it('a test case with params the policy does not declare is a load error at that case', async () => {
    const dir = project({
      'pack.yaml': 'version: 1\nname: p\nparams:\n  limit: { type: number, default: 10 }\nrules:\n  - { id: big, effect: deny, when: { input.n: { gt: { $param: limit } } } }\n',
      'pack.test.yaml': 'policy: ./pack.yaml\ncases:\n  - name: small\n    params: { limit: 3 }\n    action: { kind: tool, name: x, input: { n: 4 } }\n    expect: { effect: deny, rule: big }\n  - name: typo\n    params: { limt: 3 }\n    action: { kind: tool, name: x, input: { n: 4 } }\n    expect: { effect: deny, rule: big }\n',
    });
    const error = await loadPolicyTests([join(dir, 'pack.test.yaml')], { cwd: dir }).catch((e: unknown) => e);
    expect(isPolicyTestLoadError(error)).toBe(true);
    const problems = (error as { problems: Array<{ file: string; line?: number; message: string }> }).problems;
    expect(problems).toEqual([expect.objectContaining({ file: 'pack.test.yaml', line: 8, message: 'the policy pack.yaml cannot be compiled with these params: this policy has no parameter "limt"', hint: 'Its parameters: limit. Did you mean "limit"?' })]);
  });
});

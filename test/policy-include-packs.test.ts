import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { composeSource } from '../src/core/policy/compose/compose.js';
import { evaluatePolicy, newEvalContext } from '../src/core/policy/evaluate.js';
import { readSourceFile } from '../src/core/policy/load.js';
import { Policy } from '../src/core/policy/policy.js';
import { isPolicyError } from '../src/core/policy/policy-error.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

interface Case {
  name: string;
  action: { kind: string; name: string; input?: Record<string, unknown> };
  expect: { effect?: string; rule?: string | string[] };
  params?: Record<string, unknown>;
}

const PARAMETERISED = ['readonly-db', 'outbound-allowlist', 'payment-limits', 'shell-safety', 'mcp-gateway', 'session-taint'];

function packCases(pack: string): Case[] {
  return (parseYaml(readFileSync(join(ROOT, 'policies', pack, 'policy.test.yaml'), 'utf8')) as { cases: Case[] }).cases;
}

describe('a pack included with parameters', () => {
  it.each(PARAMETERISED)('%s: decides every case of its tests as the pack file itself does, with the rule ids behind its prefix', async (pack) => {
    const dir = makeTempDir('agentguard-include-packs-');
    const alone = new Map<string, Policy>();
    for (const c of packCases(pack)) {
      const key = JSON.stringify(c.params ?? {});
      let direct = alone.get(key);
      if (!direct) alone.set(key, (direct = await Policy.fromFile(join(ROOT, 'policies', pack, 'policy.yaml'), { params: c.params ?? {} })));
      const file = join(dir, `${pack}-${alone.size}.yaml`);
      writeFileSync(file, `version: 1\nname: bot\ninclude:\n  - pack: agentguard:${pack}@1\n    params: ${JSON.stringify(c.params ?? {})}\nrules: []\n`);
      const included = await Policy.fromFile(file);
      // A generous guardrail budget: on a loaded machine the default one could run out in one decision and not the other.
      const decide = (policy: Policy) => evaluatePolicy(policy.compiled, c.action as never, newEvalContext(policy.compiled, {}, { budgetMs: 120_000 }));
      const a = decide(direct);
      const b = decide(included);
      expect(b.effect, c.name).toBe(a.effect);
      expect(b.reasons.map((r) => r.rule), c.name).toEqual(a.reasons.map((r) => (r.rule ? `${pack}/${r.rule}` : undefined)));
      expect(b.action, c.name).toEqual(a.action);
      expect(b.reasons.map((r) => r.message)).toEqual(a.reasons.map((r) => r.message.replace(/([Rr]ule) "([^"]+)"/g, `$1 "${pack}/$2"`)));
    }
  });

  it('with default parameters compiles to exactly the rules the copied pack had (same regexes, lists and limits)', async () => {
    const outbound = await Policy.fromFile(join(ROOT, 'policies/outbound-allowlist/policy.yaml'));
    const rule = (policy: Policy, id: string) => JSON.stringify(policy.document.rules.find((r) => r.id === id));
    // The literal values the pack had before it took parameters.
    expect(rule(outbound, 'email-recipient-not-allowed')).toContain(JSON.stringify('^[^@\\s]+@(?:example\\.com|partner\\.example\\.org)$'));
    expect(rule(outbound, 'http-allowed-hosts')).toContain(JSON.stringify('^https://(?:api\\.example\\.com|hooks\\.example\\.org)(?::443)?(?:[/?#]|$)'));
    expect(outbound.document.rules.find((r) => r.id === 'email-recipient-not-allowed')?.message).toBe('Email may only go to addresses at example.com, partner.example.org.');
    const payments = await Policy.fromFile(join(ROOT, 'policies/payment-limits/policy.yaml'));
    expect(payments.document.rules.find((r) => r.id === 'amount-over-hard-cap')?.when).toEqual({ 'input.amount': { gt: 10000 } });
    expect(payments.document.rules.find((r) => r.id === 'large-amount-approval')?.when).toEqual({ 'input.amount': { gt: 1000 } });
    expect(payments.document.rules.find((r) => r.id === 'clamp-max-amount')?.transform).toEqual([{ clamp: 'input.maxAmount', max: 500 }]);
    const db = await Policy.fromFile(join(ROOT, 'policies/readonly-db/policy.yaml'));
    expect(JSON.stringify(db.document.rules.find((r) => r.id === 'only-allowed-functions')?.when)).toContain('"in":["count","sum","avg"');
  });

  it('`policy test` runs the included packs\' own tests with the parameters the policy gives them, and says which ran', async () => {
    const dir = makeTempDir('agentguard-include-test-');
    writeFileSync(join(dir, 'policy.yaml'), `version: 1
name: bot
include:
  - pack: agentguard:readonly-db@1
    params: { tables: [orders, customers] }
  - pack: agentguard:payment-limits
    params: { approvalAbove: 200, currencies: [EUR] }
rules:
  - { id: kb, effect: allow, when: { name: kb.search } }
`);
    writeFileSync(join(dir, 'policy.test.yaml'), `policy: ./policy.yaml
cases:
  - { name: kb, action: { kind: tool, name: kb.search }, expect: { effect: allow, rule: kb } }
  - { name: users table, action: { kind: tool, name: db.query, input: { sql: "SELECT * FROM users" } }, expect: { effect: deny, rule: readonly-db/only-allowed-tables } }
  - { name: 300 EUR needs approval, action: { kind: tool, name: payments.transfer, input: { amount: 300, currency: EUR } }, expect: { effect: require_approval, rule: payment-limits/large-amount-approval } }
`);
    const out = await runCliInProcess(['policy', 'test', join(dir, 'policy.test.yaml'), '--json'], { cwd: dir });
    expect(out.stderr).toBe('');
    const json = JSON.parse(out.stdout) as { passed: number; failed: number; results: Array<{ file: string; pack?: string; name: string; passed: boolean }> };
    const own = json.results.filter((r) => r.file === 'policy.test.yaml');
    expect(own.map((r) => r.passed)).toEqual([true, true, true]);
    const dbCases = json.results.filter((r) => r.file.endsWith('readonly-db/policy.test.yaml'));
    const payCases = json.results.filter((r) => r.file.endsWith('payment-limits/policy.test.yaml'));
    expect(dbCases.length).toBe(packCases('readonly-db').length);
    expect(payCases.length).toBe(packCases('payment-limits').length);
    expect(own[0].pack).toBeUndefined();
    expect(dbCases[0].pack).toBe('agentguard:readonly-db@1.0.0, with the params of policy.yaml');
    expect(json.failed).toBe(0);
    expect(out.code).toBe(0);

    const pretty = await runCliInProcess(['policy', 'test', join(dir, 'policy.test.yaml')], { cwd: dir });
    expect(pretty.stdout).toContain('(policy agentguard:payment-limits@1.0.0, with the params of policy.yaml)');

    // Coverage counts the pack cases decided with this policy's params as reaching its included rules.
    const coverage = await runCliInProcess(['policy', 'test', join(dir, 'policy.test.yaml'), '--coverage', '--json'], { cwd: dir });
    const report = (JSON.parse(coverage.stdout) as { coverage: Array<{ policy: string; rules: number; uncovered: string[] }> }).coverage;
    expect(report.map((c) => c.policy)).toEqual(['policy.yaml']);
    expect(report[0].uncovered).not.toContain('readonly-db/no-write-sql');
    expect(report[0].uncovered).not.toContain('payment-limits/amount-over-hard-cap');
  });

  it('`policy test` fails a pack case the given parameters break, naming the pack', async () => {
    const dir = makeTempDir('agentguard-include-test-');
    writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nname: bot\ninclude:\n  - { pack: agentguard:readonly-db, params: { functions: [count, pg_sleep] } }\nrules: []\n');
    writeFileSync(join(dir, 'policy.test.yaml'), 'policy: ./policy.yaml\ncases:\n  - { name: noop, action: { kind: tool, name: x }, expect: { effect: deny } }\n');
    const out = await runCliInProcess(['policy', 'test', dir, '--json'], { cwd: dir });
    const json = JSON.parse(out.stdout) as { failed: number; results: Array<{ file: string; name: string; passed: boolean }> };
    const failed = json.results.filter((r) => !r.passed).map((r) => r.name);
    expect(failed).toContain('denies pg_sleep');
    expect(failed).not.toContain('denies lo_put(lo_create(...)) (it writes data)');
    expect(out.code).toBe(1);
  });
});

describe('an update to a pack reaches every policy that includes it', () => {
  const packs = makeTempDir('agentguard-packs-');
  const pack = (version: string, rules: string) => {
    mkdirSync(join(packs, 'demo'), { recursive: true });
    writeFileSync(join(packs, 'demo', 'policy.yaml'), `version: 1\nname: demo\npack: { version: ${version} }\nparams:\n  blocked: { type: array, items: { type: string }, default: [rm] }\nrules:\n${rules}`);
  };
  const project = makeTempDir('agentguard-pack-user-');
  writeFileSync(join(project, 'policy.yaml'), 'version: 1\nname: bot\ninclude:\n  - { pack: agentguard:demo@1, params: { blocked: [rm, dd] } }\nrules:\n  - { id: shell, effect: allow, when: { kind: shell } }\n');
  const load = async () => Policy.fromSource(composeSource(await readSourceFile(join(project, 'policy.yaml')), { packsDir: packs }));
  const decide = (policy: Policy, command: string) => {
    const d = policy.evaluate({ kind: 'shell', name: 'shell.exec', input: { command } });
    return [d.effect, d.reasons.map((r) => r.rule)];
  };

  it('a hardened rule in a new pack release decides for the including policy without any change to it', async () => {
    pack('1.0.0', '  - { id: no-blocked, effect: deny, when: { input.command: { in: { $param: blocked } } } }\n');
    const before = await load();
    expect(decide(before, 'dd')).toEqual(['deny', ['demo/no-blocked']]);
    expect(decide(before, 'dd if=/dev/zero')).toEqual(['allow', ['shell']]);

    // 1.1.0 hardens the rule (arguments no longer hide the command) and adds one.
    pack('1.1.0', "  - { id: no-blocked, effect: deny, when: { input.command: { shell: { commands: { some: { name: { in: { $param: blocked } } } } } } } }\n  - { id: no-sudo, effect: deny, when: { input.command: { regex: '^sudo\\b' } } }\n");
    const after = await load();
    expect(decide(after, 'dd if=/dev/zero')).toEqual(['deny', ['demo/no-blocked']]);
    expect(decide(after, 'sudo ls')).toEqual(['deny', ['demo/no-sudo']]);
    expect(after.hash).not.toBe(before.hash);
    expect(after.compiled.composition?.includes[0]).toMatchObject({ pack: { name: 'demo', version: '1.1.0' }, params: { blocked: ['rm', 'dd'] }, paramsSet: ['blocked'] });

    // A new major is not taken by a policy pinned to @1.
    pack('2.0.0', '  - { id: all, effect: deny }\n');
    const error = await load().catch((e: unknown) => e);
    expect(isPolicyError(error) && error.problems[0].message).toBe('agentguard:demo@1 asks for major version 1 of pack "demo", but this agentguard ships demo 2.0.0');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffPolicies, type PolicyDiff } from '../src/core/policy/diff.js';
import { Policy } from '../src/core/policy/policy.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const OLD = `version: 1
name: shop
rules:
  - { id: kb, effect: allow, when: { name: { glob: "kb.*" } } }
  - { id: no-drop, effect: deny, when: { name: db.query, input.sql: { regex: "drop", flags: i } }, message: No DROP }
  - { id: pay, effect: require_approval, when: { name: payments.transfer, input.amount: { gt: 1000 } } }
  - { id: legacy, effect: allow, when: { name: old.tool } }
`;
// Same kb and no-drop (written differently: key order, flow vs block style), pay's threshold and effect changed,
// legacy removed, search added with a rate limit, default changed.
const NEW = `version: 1
name: shop
default: deny
rules:
  - id: no-drop
    message: No DROP
    when:
      input.sql: { flags: i, regex: "drop" }
      name: db.query
    effect: deny
  - { id: kb, effect: allow, when: { name: { glob: "kb.*" } } }
  - { id: pay, effect: deny, when: { name: payments.transfer, input.amount: { gt: 500 } } }
  - { id: search, effect: allow, when: { name: web.search }, rate: { max: 10, per: 1m } }
`;

describe('policy diff', () => {
  it('reports rules added, removed and changed by id, with each changed field; formatting and order do not count', () => {
    const diff = diffPolicies(Policy.parse(OLD, { filename: 'old.yaml' }), Policy.parse(NEW, { filename: 'new.yaml' }));
    expect(diff.added).toEqual([{ id: 'search', effect: 'allow', index: 3 }]);
    expect(diff.removed).toEqual([{ id: 'legacy', effect: 'allow', index: 3 }]);
    expect(diff.changed).toEqual([
      {
        id: 'pay',
        fields: ['effect', 'when'],
        from: { effect: 'require_approval', when: { name: 'payments.transfer', 'input.amount': { gt: 1000 } } },
        to: { effect: 'deny', when: { name: 'payments.transfer', 'input.amount': { gt: 500 } } },
      },
    ]);
    expect(diff.unchanged).toBe(2);
    // `default: deny` written out is the default: not a change.
    expect(diff.settings).toEqual([]);
    expect(diff.same).toBe(false);
  });

  it('a policy compared with itself is the same; a changed default and a changed rate are reported', () => {
    expect(diffPolicies(Policy.parse(OLD), Policy.parse(OLD)).same).toBe(true);
    const a = Policy.parse(NEW);
    const b = Policy.parse(NEW.replace('default: deny', 'default: allow').replace('max: 10', 'max: 20'));
    const diff = diffPolicies(a, b);
    expect(diff.settings).toEqual([{ field: 'default', from: 'deny', to: 'allow' }]);
    expect(diff.changed).toEqual([{ id: 'search', fields: ['rate'], from: { rate: { max: 10, per: '1m' } }, to: { rate: { max: 20, per: '1m' } } }]);
  });

  it('agentguard policy diff prints text and --json, and --exit-code exits 1 only when the policies differ', async () => {
    const dir = makeTempDir('ag-diff-');
    writeFileSync(join(dir, 'old.yaml'), OLD);
    writeFileSync(join(dir, 'new.yaml'), NEW);
    const text = await runCliInProcess(['policy', 'diff', 'old.yaml', 'new.yaml', '--exit-code'], { cwd: dir });
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain('+ search (allow)');
    expect(text.stdout).toContain('- legacy (allow)');
    expect(text.stdout).toContain('~ pay: effect, when changed');
    expect(text.stdout).toContain('    - effect: require_approval');
    expect(text.stdout).toContain('    + effect: deny');
    expect(text.stdout).toContain('1 added, 1 removed, 1 changed, 2 unchanged');
    const json = await runCliInProcess(['policy', 'diff', 'old.yaml', 'new.yaml', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as PolicyDiff;
    expect(parsed.added.map((r) => r.id)).toEqual(['search']);
    expect(parsed.old.file).toContain('old.yaml');
    const same = await runCliInProcess(['policy', 'diff', 'old.yaml', 'old.yaml', '--exit-code'], { cwd: dir });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('The policies have the same rules and settings.');
    const missing = await runCliInProcess(['policy', 'diff', 'old.yaml', 'nope.yaml'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
  });

  it('--replay replays the recorded decisions under the new policy (an empty data folder is a clear error)', async () => {
    const dir = makeTempDir('ag-diff-replay-');
    writeFileSync(join(dir, 'old.yaml'), OLD);
    writeFileSync(join(dir, 'new.yaml'), NEW);
    const { openEngine } = await import('../src/core/engine/open-engine.js');
    const dataDir = join(dir, 'data');
    const engine = await openEngine({ policy: Policy.parse(OLD), record: true, dataDir });
    try {
      await engine.decide({ kind: 'tool', name: 'payments.transfer', input: { amount: 1500 } });
      await engine.decide({ kind: 'tool', name: 'kb.search' });
    } finally {
      await engine.close();
    }
    const result = await runCliInProcess(['policy', 'diff', 'old.yaml', 'new.yaml', '--replay', '--data-dir', dataDir, '--fail-on-change'], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('Replayed 2 recorded decisions under new.yaml');
    expect(result.stdout).toContain('require_approval → deny: 1');
    expect(result.stdout).toContain('  pay: 1');
    expect(result.stdout).toContain('1 of 2 compared decisions would change');
    const none = await runCliInProcess(['policy', 'diff', 'old.yaml', 'new.yaml', '--replay', '--data-dir', join(dir, 'empty')], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no audit log yet');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = 'test/fixtures/simulate/policy.yaml';
const DROP = JSON.stringify({ kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } });

describe('agentguard policy simulate', () => {
  it('prints the decision and why', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', DROP]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('DENY  tool db.query');
    expect(r.stdout).toContain('no-destructive-sql: Destructive SQL is not allowed');
  });

  it('--json prints the Decision', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', DROP, '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ effect: 'deny', reasons: [{ rule: 'no-destructive-sql', effect: 'deny' }], policy: { name: 'support-bot' } });
    expect(d.id).toMatch(/^dec_/);
  });

  it('--explain shows every rule', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', DROP, '--explain']);
    expect(r.stdout).toMatch(/kb-read \(allow\): no match/);
    expect(r.stdout).toMatch(/no-destructive-sql \(deny\): matched/);
    expect(r.stdout).toMatch(/readonly-db \(transform\): skipped/);
    const j = JSON.parse((await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', DROP, '--explain', '--json'])).stdout);
    expect(j.explanation.map((t: { id: string; matched: boolean }) => [t.id, t.matched])).toEqual([
      ['kb-read', false], ['no-destructive-sql', true], ['readonly-db', false], ['big-transfer', false],
    ]);
  });

  it('reads @file actions', async () => {
    const dir = makeTempDir('ag-sim-');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ kind: 'tool', name: 'db.connect', input: {} }));
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', `@${join(dir, 'a.json')}`, '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ effect: 'transform', action: { input: { readOnly: true } } });
  });

  it('reads JSON Lines and prints one Decision per line with a summary on stderr', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--input', 'test/fixtures/simulate/actions.jsonl', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((d) => d.effect)).toEqual(['allow', 'deny', 'transform', 'require_approval']);
    expect(r.stderr).toContain('4 actions: 1 allow, 1 deny, 1 transform, 1 require_approval');
  });

  it('reads an action from stdin', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--json'], { input: DROP });
    expect(JSON.parse(r.stdout).effect).toBe('deny');
  });

  it('--exit-code fails on deny', async () => {
    expect((await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', DROP, '--exit-code'])).code).toBe(1);
    const ok = JSON.stringify({ kind: 'tool', name: 'kb.search' });
    expect((await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', ok, '--exit-code'])).code).toBe(0);
  });

  it('denies malformed actions instead of crashing', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--action', '{"kind":"tool"}', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).reasons[0]).toMatchObject({ code: 'invalid_action', message: expect.stringContaining('"name" is required') });
  });

  it.each([
    ['invalid JSON', ['--action', '{"kind":'], /ACTION_NOT_JSON/],
    ['empty stdin', [], /NO_ACTION/],
    ['missing action file', ['--action', '@/nonexistent.json'], /INPUT_UNREADABLE/],
    ['missing policy', ['--policy', '/nonexistent.yaml', '--action', DROP], /no such file/],
    ['both --action and --input', ['--action', DROP, '--input', 'x.jsonl'], /cannot also be provided|exclusive/i],
  ])('exits 2 on %s, without a stack trace', async (_label, extra, pattern) => {
    const args = ['policy', 'simulate', ...(extra.includes('--policy') ? [] : ['--policy', POLICY]), ...extra];
    const r = await runCliInProcess(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 and names the line of unreadable JSON Lines', async () => {
    const r = await runCliInProcess(['policy', 'simulate', '--policy', POLICY, '--json'], { input: '{"kind":"tool","name":"kb.a"}\n{oops\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stdin:2: not valid JSON');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('exits 1 with the position when the policy is invalid', async () => {
    const dir = makeTempDir('ag-sim-');
    writeFileSync(join(dir, 'p.yaml'), 'version: 1\nname: x\nrules:\n  - id: a\n    effect: permit\n');
    const r = await runCliInProcess(['policy', 'simulate', '--policy', join(dir, 'p.yaml'), '--action', DROP]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/p\.yaml:5:13 rules\[0\]\.effect: must be one of/);
  });
});

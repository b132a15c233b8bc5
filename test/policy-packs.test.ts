import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { TEMPLATE_IDS } from '../src/core/init/templates.js';
import { Policy } from '../src/core/policy/policy.js';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

const PACKS = ['readonly-db', 'shell-safety', 'outbound-allowlist', 'payment-limits', 'mcp-gateway', 'session-taint', 'coding-agent'];
const POLICIES = join(ROOT, 'policies');

interface TestFile {
  policy: string;
  cases: Array<{ name: string; action: unknown; expect: { effect?: string; rule?: string | string[] } }>;
}

async function readTests(pack: string): Promise<TestFile> {
  return parseYaml(await readFile(join(POLICIES, pack, 'policy.test.yaml'), 'utf8')) as TestFile;
}

describe('built-in policy packs', () => {
  it('ships exactly the documented packs, each listed in policies/README.md', async () => {
    const folders = (await readdir(POLICIES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.sort()).toEqual([...PACKS].sort());
    const readme = await readFile(join(POLICIES, 'README.md'), 'utf8');
    for (const pack of PACKS) expect(readme).toContain(`[\`${pack}\`](${pack}/policy.yaml)`);
  });

  describe.each(PACKS)('%s', (pack) => {
    it('is a valid policy named after its folder, pointing editors at the packaged schema', async () => {
      const file = join(POLICIES, pack, 'policy.yaml');
      const policy = await Policy.fromFile(file);
      expect(policy.name).toBe(pack);
      expect(policy.document.default ?? 'deny').toBe('deny');
      const first = (await readFile(file, 'utf8')).split('\n')[0];
      const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(match?.[1]).toBe('../../schemas/policy.schema.json');
      expect(existsSync(resolve(dirname(file), match![1]))).toBe(true);
    });

    it('has thorough tests: at least 10 uniquely named cases, both allowed and denied actions, every rule reached', async () => {
      const tests = await readTests(pack);
      expect(tests.policy).toBe('./policy.yaml');
      const names = tests.cases.map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
      expect(tests.cases.length).toBeGreaterThanOrEqual(10);
      const effects = tests.cases.map((c) => c.expect.effect);
      expect(effects.filter((e) => e === 'allow' || e === 'transform').length).toBeGreaterThanOrEqual(3);
      expect(effects.filter((e) => e === 'deny').length).toBeGreaterThanOrEqual(8);
      const expectedRules = new Set(tests.cases.flatMap((c) => (c.expect.rule === undefined ? [] : [c.expect.rule].flat())));
      const policy = await Policy.fromFile(join(POLICIES, pack, 'policy.yaml'));
      const unreached = policy.document.rules.map((r) => r.id).filter((id) => !expectedRules.has(id));
      expect(unreached, 'rules that no case names in expect.rule').toEqual([]);
    });

    it('passes its tests with `agentguard policy test`', async () => {
      const cases = (await readTests(pack)).cases.length;
      const out = await runCliInProcess(['policy', 'test', `policies/${pack}`, '--json']);
      expect(out.stderr).toBe('');
      const json = JSON.parse(out.stdout) as { passed: number; failed: number };
      expect(json).toMatchObject({ passed: cases, failed: 0 });
      expect(out.code).toBe(0);
    });
  });

  it('decide in milliseconds even on crafted 100 kB values built to make their regexes backtrack', async () => {
    const files = [...PACKS.map((p) => join(POLICIES, p, 'policy.yaml')), ...TEMPLATE_IDS.map((t) => join(ROOT, 'templates', t, 'policy.yaml'))];
    const pieces = ['rm ', 'rm\t', 'rm\t-', ' rm x', '/rm ', 'chmod ', 'git ', '|env ', '|sudo -u ', '| x ', 'sh ', 'curl ', '-- ', '--x\n', '/*', '/**/', "'", ';', ' ', '\t', 'a', '1.', '0x', '..', '@', 'https://a', 'http://', '\\'];
    const fields = (value: string) => ({ command: value, sql: value, url: value, path: value, destination: value, to: value, cc: [value], amount: value });
    for (const file of files) {
      const policy = await Policy.fromFile(file);
      for (const piece of pieces) {
        const value = piece.repeat(Math.ceil(100_000 / piece.length));
        for (const kind of ['shell', 'file', 'tool', 'http']) {
          const started = performance.now();
          policy.evaluate({ kind, name: kind === 'tool' ? 'db.query' : `${kind}.exec`, input: fields(value) });
          policy.evaluate({ kind, name: 'email.send', input: fields(`${value}x`) });
          expect(performance.now() - started, `${file} with ${JSON.stringify(piece)} repeated`).toBeLessThan(250);
        }
      }
    }
  }, 120_000);

  it(
    'packs and templates pass `policy validate`: no errors, and no warnings but ReDoS checks cut short by time',
    async () => {
      const files = [...PACKS.map((p) => `policies/${p}/policy.yaml`), ...TEMPLATE_IDS.map((t) => `templates/${t}/policy.yaml`)];
      const out = await runCliInProcess(['policy', 'validate', '--json', '--redos-timeout', '20000', ...files]);
      const json = JSON.parse(out.stdout) as { valid: boolean; files: Array<{ file: string; errors: unknown[]; warnings: Array<{ code: string }> }> };
      expect(json.files.map((f) => f.file)).toEqual(files);
      for (const f of json.files) {
        expect(f.errors, f.file).toEqual([]);
        expect(f.warnings.filter((w) => w.code !== 'redos-unknown'), f.file).toEqual([]);
      }
      expect(out.code).toBe(0);
    },
    600_000,
  );
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliResult } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

const VALID = 'test/fixtures/policies/valid';
const INVALID = 'test/fixtures/policies/invalid';

let last: CliResult | undefined;

async function validate(...args: string[]): Promise<CliResult> {
  last = await runCliInProcess(['policy', 'validate', ...args]);
  return last;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ag-validate-'));
  tempDirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

// Whatever a test does, the CLI must never show a stack trace.
afterEach(() => {
  if (last) {
    expect(last.stderr).not.toContain('    at ');
    expect(last.stdout).not.toContain('    at ');
  }
  last = undefined;
});

describe('agentguard policy validate: valid files', () => {
  it('exits 0 and lists each valid file', async () => {
    const r = await validate(`${VALID}/support-bot.yaml`, `${VALID}/minimal.json`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`✓ ${VALID}/support-bot.yaml`);
    expect(r.stdout).toContain(`✓ ${VALID}/minimal.json`);
    expect(r.stdout).toContain('2 files: 2 valid');
  });

  it('reports warnings without failing, and fails on them with --strict', async () => {
    const r = await validate(`${VALID}/with-warnings.yaml`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${VALID}/with-warnings.yaml:7:9 warning rules[1].id: allow rule "allow-query" never decides anything`);
    expect(r.stdout).toContain(`${VALID}/with-warnings.yaml:14:35 warning rules[2].when.input.amount.lt: rule "impossible" can never match`);
    expect(r.stdout).toMatch(/\n {4}hint: Narrow deny rule "block-db"/);
    expect(r.stdout).toContain(`✓ ${VALID}/with-warnings.yaml (2 warnings)`);
    expect(r.stdout).toContain('1 file: 1 valid (0 errors, 2 warnings)');

    const strict = await validate(`${VALID}/with-warnings.yaml`, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).not.toContain('✓');
    expect(strict.stdout).toContain('1 file: 0 valid, 1 failing on warnings (--strict) (0 errors, 2 warnings)');
  });
});

describe('agentguard policy validate: invalid files exit 1 with file:line:column and the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not YAML', 'not-yaml.yaml', /not-yaml\.yaml:5:13 error not valid YAML: /],
    ['not JSON', 'not-json.json', /not-json\.json:4:\d+ error not valid JSON: /],
    ['an empty file', 'empty.yaml', /empty\.yaml:1:1 error the file is empty/],
    ['wrong types', 'wrong-types.yaml', /wrong-types\.yaml:8:27 error rules\[0\]\.when\.input\.amount\.gt: must be a number, got the string "1000"/],
    ['unknown keys', 'unknown-keys.yaml', /unknown-keys\.yaml:6:5 error rules\[0\]\.condition: unknown field "condition"/],
    ['an unknown operator', 'unknown-keys.yaml', /unknown-keys\.yaml:10:20 error rules\[1\]\.when\.input\.sql\.regexp: unknown operator "regexp"[^\n]*\n {4}hint: [^\n]*Did you mean "regex"\?/],
    ['a YAML file with duplicate keys', 'duplicate-keys.yaml', /duplicate-keys\.yaml:6:5 error rules\[0\]\.effect: not valid YAML: Map keys must be unique: "effect" appears twice/],
    ['a regex that does not compile', 'bad-regex.yaml', /bad-regex\.yaml:7:27 error rules\[0\]\.when\.input\.sql\.regex: the regex does not compile/],
    ['duplicate rule ids', 'duplicate-ids.yaml', /duplicate-ids\.yaml:7:9 error rules\[1\]\.id: duplicate rule id "same"/],
    ['a regex that blows up', 'redos.yaml', /redos\.yaml:8:27 error rules\[0\]\.when\.input\.sql\.regex: regex "\^\(a\+\)\+\$" can take exponential time on input like [^\n]+\n {4}hint: /],
  ];
  it.each(cases)('%s', async (_what, file, expected) => {
    const r = await validate(`${INVALID}/${file}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(expected);
    expect(r.stdout).toMatch(/1 file: 0 valid, 1 with errors \(\d+ errors?, \d+ warnings?\)/);
  });

  it('conditions nested too deep', async () => {
    let when: unknown = { name: 'x' };
    for (let i = 0; i < 40; i++) when = { all: [when] };
    const file = tempFile('deep.json', JSON.stringify({ version: 1, name: 'deep', rules: [{ id: 'deep', effect: 'deny', when }] }, null, 1));
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/deep\.json:\d+:\d+ error rules\[0\]\.when(\.all\[0\])+[^\n]*: nested more than 64 levels deep/);
  });

  it('a transform step that cannot apply', async () => {
    const file = tempFile('transform.yaml', 'version: 1\nname: t\nrules:\n  - id: t\n    effect: transform\n    when: { input.q: abc }\n    transform: [ { set: input.q.limit, value: 10 } ]\n');
    const r = await validate(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/transform\.yaml:7:25 error rules\[0\]\.transform\[0\]\.set: rule "t" sets input\.q\.limit, but whenever the rule matches input\.q is a string/);
  });

  it('a regex the checker cannot finish in time is a warning', async () => {
    const file = tempFile('hard.yaml', 'version: 1\nname: hard\nrules:\n  - id: mail\n    effect: deny\n    when: { input.mail: { regex: \'(\\d+)*[a-z]{2,}(\\s|-)+\\w+@(\\w+\\.)+\\w{2,}$\' } }\n');
    const r = await validate(file, '--redos-timeout', '1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hard\.yaml:6:\d+ warning rules\[0\]\.when\.input\.mail\.regex: regex [^\n]* may be open to catastrophic backtracking: the check did not finish within 1 ms/);
  });
});

describe('agentguard policy validate: unreadable input and usage errors exit 2', () => {
  it('a missing file, a directory and a file over 5 MiB', async () => {
    const huge = tempFile('huge.yaml', `version: 1\nname: huge\nrules: []\n# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const r = await validate('no-such-policy.yaml', 'test/fixtures', huge);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('no-such-policy.yaml error cannot be read (no such file)');
    expect(r.stdout).toContain('test/fixtures error cannot be read (is a directory, not a file)');
    expect(r.stdout).toMatch(/huge\.yaml error cannot be read \(is \d+ bytes; the limit is 5242880 bytes\)/);
    expect(r.stdout).toContain('3 files: 0 valid, 3 unreadable');
  });

  it('an unreadable file wins over an invalid one', async () => {
    const r = await validate(`${INVALID}/redos.yaml`, 'no-such-policy.yaml', `${VALID}/minimal.json`);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('3 files: 1 valid, 1 with errors, 1 unreadable (1 error, 0 warnings)');
  });

  it('no file given', async () => {
    const r = await validate();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error (USAGE): no policy file given');
    expect(r.stderr).toContain('agentguard policy validate agentguard/policy.yaml');
    const json = await validate('--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'USAGE' } });
  });

  it('an unknown flag', async () => {
    const r = await validate('--bogus', `${VALID}/minimal.json`);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error (USAGE)');
  });
});

describe('agentguard policy validate --json', () => {
  it('prints exactly { valid, files: [{ file, valid, errors, warnings }] } with positioned problems', async () => {
    const r = await validate(`${VALID}/minimal.json`, `${INVALID}/wrong-types.yaml`, `${VALID}/with-warnings.yaml`, '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['files', 'valid']);
    expect(out.valid).toBe(false);
    expect(out.files.map((f: { file: string; valid: boolean }) => [f.file, f.valid])).toEqual([
      [`${VALID}/minimal.json`, true],
      [`${INVALID}/wrong-types.yaml`, false],
      [`${VALID}/with-warnings.yaml`, true],
    ]);
    for (const f of out.files) {
      expect(Object.keys(f).sort()).toEqual(['errors', 'file', 'valid', 'warnings']);
      for (const p of [...f.errors, ...f.warnings]) {
        expect(p).toEqual(expect.objectContaining({ message: expect.any(String), path: expect.any(String), line: expect.any(Number), column: expect.any(Number) }));
      }
    }
    expect(out.files[1].errors).toEqual([
      expect.objectContaining({ path: 'rules[0].when.input.amount.gt', line: 8, column: 27, code: 'schema' }),
      expect.objectContaining({ path: 'rules[1].id', line: 9, column: 9 }),
      expect.objectContaining({ path: 'rules[1].effect', line: 10, column: 13 }),
    ]);
    expect(out.files[2].warnings.map((w: { code: string }) => w.code)).toEqual(['shadowed-rule', 'never-matches']);
    expect(r.stderr).toBe('');
  });

  it('reports an unreadable file as an error without a position, and exits 2', async () => {
    const r = await validate('no-such-policy.yaml', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      files: [
        {
          file: 'no-such-policy.yaml',
          valid: false,
          errors: [expect.objectContaining({ message: 'cannot be read (no such file)', path: '', line: null, column: null, code: 'unreadable' })],
          warnings: [],
        },
      ],
    });
  });

  it('--strict makes warnings fail in the JSON too', async () => {
    const r = await validate(`${VALID}/with-warnings.yaml`, '--json', '--strict');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.files[0]).toMatchObject({ valid: false, errors: [] });
    expect(out.files[0].warnings).toHaveLength(2);
  });
});

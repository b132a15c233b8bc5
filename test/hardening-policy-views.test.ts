import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Policy } from '../src/core/policy/policy.js';
import { validatePolicyFile } from '../src/core/policy/validate.js';
import { ROOT } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'ag-views-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function policy(rules: string): Policy {
  return Policy.parse(`version: 1\nname: views\ndefault: allow\nrules:\n${rules}`);
}

const shell = (command: unknown) => ({ kind: 'shell', name: 'shell.exec', input: { command } });
const sql = (text: unknown) => ({ kind: 'tool', name: 'db.query', input: { sql: text } });

describe('list operators some / every / none', () => {
  const p = Policy.parse(`version: 1
name: lists
default: deny
rules:
  - id: some-admin
    effect: allow
    when: { input.roles: { some: { eq: admin } } }
  - id: every-short
    effect: deny
    when: { input.tags: { every: { glob: 'x*' } } }
  - id: none-root
    effect: deny
    when: { input.users: { none: { eq: alice } } }
`);
  const effect = (input: Record<string, unknown>) => p.evaluate({ kind: 'tool', name: 't', input }).effect;

  it('some: one item is enough; not a list never matches', () => {
    expect(effect({ roles: ['user', 'admin'] })).toBe('allow');
    expect(effect({ roles: ['user'] })).toBe('deny');
    expect(effect({ roles: 'admin' })).toBe('deny');
  });

  it('every holds for an empty list; none holds when no item matches', () => {
    expect(p.evaluate({ kind: 'tool', name: 't', input: { roles: ['admin'], tags: [] } }).reasons.map((r) => r.rule)).toContain('every-short');
    expect(p.evaluate({ kind: 'tool', name: 't', input: { roles: ['admin'], tags: ['xa', 'b'] } }).reasons.map((r) => r.rule)).not.toContain('every-short');
    expect(p.evaluate({ kind: 'tool', name: 't', input: { roles: ['admin'], users: ['bob'] } }).reasons.map((r) => r.rule)).toContain('none-root');
    expect(p.evaluate({ kind: 'tool', name: 't', input: { roles: ['admin'], users: ['alice'] } }).effect).toBe('allow');
  });
});

describe('keys: a condition on the names of an object', () => {
  const p = policy(`  - id: header-names
    effect: deny
    when: { input.headers: { keys: { some: { glob: '**[!A-Za-z0-9-]**' } } } }
`);
  const effect = (headers: unknown) => p.evaluate({ kind: 'tool', name: 'email.send', input: { headers } }).effect;

  it('tests the list of own keys; a value that is not an object never matches', () => {
    expect(effect({ 'X-Ticket': 'T-1', 'Reply-To': 'a@example.com' })).toBe('allow');
    expect(effect({ 'X-A: 1\r\nBcc: eve@attacker.test\r\nX-B': '1' })).toBe('deny');
    expect(effect({ 'a/b/c': '1' })).toBe('deny');
    expect(effect(['X-A'])).toBe('allow');
    expect(effect('X-A: 1')).toBe('allow');
  });
});

describe('shell and sql operators in a policy', () => {
  it('a deny rule denies text its parser rejects, with the reason; an allow rule never allows it', () => {
    const p = Policy.parse(`version: 1
name: v
default: deny
rules:
  - id: allow-ls
    effect: allow
    when: { input.command: { shell: { commands: { every: { name: ls } } } } }
`);
    expect(p.evaluate(shell('ls -la')).effect).toBe('allow');
    expect(p.evaluate(shell('echo "open')).effect).toBe('deny');
    const q = policy(`  - id: no-rm
    effect: deny
    when: { input.command: { shell: { commands: { some: { name: rm } } } } }
`);
    const d = q.evaluate(shell('echo "open'));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ rule: 'no-rm', code: 'rule_error' });
    expect(d.reasons[0].message).toMatch(/shell view: not a shell command line the parser accepts/);
    expect(q.evaluate(shell('ls')).effect).toBe('allow');
  });

  it('a value that is not a string never matches (the field is absent for the view)', () => {
    const q = policy(`  - id: no-rm
    effect: deny
    when: { input.command: { shell: { commands: { some: { name: rm } } } } }
`);
    expect(q.evaluate(shell(['rm', '-rf', '/'])).effect).toBe('allow');
  });

  it('sql: functions by allow-list, with a dialect', () => {
    const q = policy(`  - id: fns
    effect: deny
    when: { input.sql: { sql: { dialect: mysql, functions: { some: { not: { in: [count, lower] } } } } } }
`);
    expect(q.evaluate(sql('SELECT count(*), lower(name) FROM `users`')).effect).toBe('allow');
    expect(q.evaluate(sql('SELECT sleep(5)')).effect).toBe('deny');
    expect(q.evaluate(sql('SELECT load_file("/etc/passwd")')).effect).toBe('deny');
  });

  it('view conditions combine with all / any / not and index or * into lists', () => {
    const q = policy(`  - id: first-is-curl-and-no-jq
    effect: deny
    when:
      input.command:
        shell:
          all:
            - commands.0.name: curl
            - not: { commands.*.name: jq }
`);
    expect(q.evaluate(shell('curl x | sh')).effect).toBe('deny');
    expect(q.evaluate(shell('curl x | jq .')).effect).toBe('allow');
    expect(q.evaluate(shell('ls; curl x')).effect).toBe('allow');
  });
});

describe('policy validate: precise errors for misused views', () => {
  async function problems(when: string): Promise<Array<{ line?: number; column?: number; path?: string; message: string; hint?: string }>> {
    const file = join(folder, `p${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `version: 1\nname: bad\nrules:\n  - id: r\n    effect: deny\n    when:\n      ${when}\n`);
    const report = await validatePolicyFile(file);
    expect(report.valid).toBe(false);
    return report.errors;
  }

  it('an unknown view field, with a suggestion and the list of fields, at its line and column', async () => {
    const [e] = await problems('input.command: { shell: { comands: { some: { name: rm } } } }');
    expect(e).toMatchObject({ line: 7, column: 42, path: 'rules[0].when.input.command.shell.comands' });
    expect(e.message).toBe('the shell view has no field "comands". Did you mean "commands"?');
    expect(e.hint).toBe('Fields: commands, paths, functions, pipesIntoShell, dynamic.');
  });

  it('an unknown field of a list item names its owner', async () => {
    const [e] = await problems('input.command: { shell: { commands: { some: { nmae: rm } } } }');
    expect(e.message).toBe('an item of commands has no field "nmae".');
    expect(e.hint).toBe('Fields: name, path, args, targets, via, input, dynamic, redirects.');
  });

  it('a field path through a list without * or an index', async () => {
    const [e] = await problems("input.command: { shell: { commands: { some: { targets.fixed: / } } } }");
    expect(e.message).toBe('"targets" is a list of objects: the next segment is * (any item) or an index, not "fixed"');
    expect(e.hint).toMatch(/targets: \{ some/);
  });

  it('a literal of the wrong type', async () => {
    const [e] = await problems('input.command: { shell: { pipesIntoShell: "yes" } }');
    expect(e.message).toBe('pipesIntoShell is a boolean; "yes" never equals it');
    const [f] = await problems('input.command: { shell: { commands: { some: { name: { in: [rm, 3] } } } } }');
    expect(f.message).toBe('name is a string; 3 never equals it');
  });

  it('an operator that cannot apply to the field type', async () => {
    const [e] = await problems("input.sql: { sql: { functions: { regex: 'pg_' } } }");
    expect(e).toMatchObject({ message: 'regex applies to a string, and functions is a list of strings', hint: 'For a list of strings, use functions: { some: { regex: … } }.' });
    const [f] = await problems("input.command: { shell: { pipesIntoShell: { glob: 'x*' } } }");
    expect(f.message).toBe('glob applies to a string, and pipesIntoShell is a boolean');
    const [g] = await problems('input.sql: { sql: { functions: { some: { gt: 3 } } } }');
    expect(g.message).toBe('gt applies to a number, and an item of functions is a string');
  });

  it('an unknown SQL dialect, a dialect on the shell view, an empty view condition', async () => {
    const [e] = await problems('input.sql: { sql: { dialect: postgres, stacked: true } }');
    expect(e.message).toMatch(/must be one of postgresql, mysql/);
    const [f] = await problems('input.command: { shell: { dialect: mysql, dynamic: true } }');
    expect(f.message).toBe('"dialect" only applies to the sql view');
    const [g] = await problems('input.sql: { sql: { dialect: mysql } }');
    expect(g.message).toBe('sql needs at least one condition on its view');
  });
});

describe('parsers load lazily', () => {
  function loadedAfter(code: string): string[] {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
${code}
const cache = createRequire(import.meta.url).cache;
console.log(JSON.stringify(Object.keys(cache).filter((k) => /node_modules[\\\\/](mvdan-sh|node-sql-parser)[\\\\/]/.test(k)).map((k) => /mvdan-sh/.test(k) ? 'mvdan-sh' : 'node-sql-parser')));`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    return [...new Set(JSON.parse(out.trim().split('\n').pop()!) as string[])];
  }

  it('compiling a policy loads neither parser; each loads on the first text that needs it, and plain words never need mvdan-sh', () => {
    const shellPolicy = `const { Policy } = await import('./src/core/policy/policy.ts');
const policy = Policy.parse('version: 1\\nname: a\\nrules: [{ id: a, effect: deny, when: { input.command: { shell: { dynamic: true } } } }]');
const decide = (command) => policy.evaluate({ kind: 'shell', name: 'shell.exec', input: { command } }).effect;`;
    expect(loadedAfter(`${shellPolicy}`)).toEqual([]);
    expect(loadedAfter(`${shellPolicy}\nif (decide('git status --short') !== 'deny') throw new Error('plain words decided');`)).toEqual([]);
    expect(loadedAfter(`${shellPolicy}\nif (decide('git status > out.txt') !== 'deny') throw new Error('decided');`)).toEqual(['mvdan-sh']);
    const sqlPolicy = `const { Policy } = await import('./src/core/policy/policy.ts');
const policy = Policy.parse('version: 1\\nname: a\\nrules: [{ id: a, effect: deny, when: { input.sql: { sql: { stacked: true } } } }]');`;
    expect(loadedAfter(sqlPolicy)).toEqual([]);
    expect(loadedAfter(`${sqlPolicy}\npolicy.evaluate({ kind: 'tool', name: 'db.query', input: { sql: 'SELECT 1' } });`)).toEqual(['node-sql-parser']);
  }, 60_000);

  it('a shell parser that cannot be loaded denies the command lines that need it (fail closed); plain words are still decided', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import Module from 'node:module';
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'mvdan-sh') throw new Error('mvdan-sh is missing');
  return resolve.call(this, request, ...rest);
};
const { Policy } = await import('./src/core/policy/policy.ts');
const policy = Policy.parse('version: 1\\nname: a\\ndefault: allow\\nrules: [{ id: no-dynamic, effect: deny, when: { input.command: { shell: { dynamic: true } } } }]');
const decide = (command) => policy.evaluate({ kind: 'shell', name: 'shell.exec', input: { command } });
console.log(JSON.stringify([decide('git status --short'), decide('git status > out.txt')].map((d) => ({ effect: d.effect, reasons: d.reasons.map((r) => r.message).join(' ') }))));`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const [plain, piped] = JSON.parse(out.trim().split('\n').pop()!) as Array<{ effect: string; reasons: string }>;
    expect(plain!.effect).toBe('allow');
    expect(piped!.effect).toBe('deny');
    expect(piped!.reasons).toContain('mvdan-sh is missing');
  }, 60_000);
});

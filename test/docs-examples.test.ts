/**
 * Runs the shell examples the docs mark runnable, in a temporary project per page, with the built CLI
 * (`node bin/run.js`) standing in for `agentguard` / `npx agentguard`. Build first: npx tsc -p tsconfig.build.json.
 *
 * Marking an example in a page:
 *
 *   <!-- runnable -->
 *   ```sh
 *   npx agentguard policy test          # each line is one command; it must exit 0 …
 *   npx agentguard policy simulate …    # exit 1    … unless its comment ends with the expected exit code
 *   ```
 *   <!-- output -->
 *   ```text
 *   lines the commands must print, in this order (a line with … matches its parts in order)
 *   ```
 *
 * A page's runnable blocks run in order in one folder, so a page can build on its earlier steps.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Policy } from '../src/core/policy/policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'run.js');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Example {
  line: number;
  commands: Array<{ text: string; exit: number }>;
  output?: string[];
}

export function runnableExamples(markdown: string): Example[] {
  const tokens = new MarkdownIt({ html: true }).parse(markdown, {});
  const examples: Example[] = [];
  tokens.forEach((token, i) => {
    if (token.type !== 'html_block' || !/^<!--\s*runnable\s*-->\s*$/.test(token.content)) return;
    const code = tokens[i + 1];
    if (code?.type !== 'fence' || code.info.trim() !== 'sh') throw new Error(`line ${(token.map?.[0] ?? 0) + 1}: <!-- runnable --> must be followed by a \`\`\`sh block`);
    const marker = tokens[i + 2];
    const output = marker?.type === 'html_block' && /^<!--\s*output\s*-->\s*$/.test(marker.content) ? tokens[i + 3] : undefined;
    examples.push({
      line: (code.map?.[0] ?? 0) + 1,
      commands: code.content
        .replace(/\s*\\\n\s*/g, ' ')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
        .map((text) => ({ text, exit: Number(/#.*\bexit (\d+)\s*$/.exec(text)?.[1] ?? 0) })),
      output: output?.type === 'fence' ? output.content.split('\n').map((l) => l.trim()).filter(Boolean) : undefined,
    });
  });
  return examples;
}

/** `agentguard` and `npx agentguard` run the CLI of this checkout; other npx packages are not available offline. */
const PRELUDE = `agentguard() { node "$AG_BIN" "$@"; }
npx() { if [ "$1" = agentguard ]; then shift; agentguard "$@"; else echo "docs examples cannot run npx $1" >&2; return 127; fi; }
`;

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function projectFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ag-docs-examples-'));
  folders.push(dir);
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'project'));
  return dir;
}

function run(command: string, dir: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, AG_BIN: BIN, HOME: join(dir, 'home'), NO_COLOR: '1', GITHUB_ACTIONS: '', AGENTGUARD_TOKEN: '', AGENTGUARD_SIDECAR_URL: '' };
  // As a user runs it: the built commands in dist/. Under vitest NODE_ENV is `test`, which makes oclif load src/ through tsx.
  delete env.NODE_ENV;
  const result = spawnSync('bash', ['-c', `${PRELUDE}${command}`], { cwd: join(dir, 'project'), encoding: 'utf8', timeout: 60_000, env });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Whether `lines` appear in `text` in order; `…` in a line stands for anything. */
function missingLine(text: string, lines: string[]): string | undefined {
  const squash = (s: string): string => s.replace(/\s+/g, ' ');
  const haystack = squash(text);
  let at = 0;
  for (const line of lines) {
    for (const part of line.split('…').map((p) => squash(p.trim())).filter(Boolean)) {
      const found = haystack.indexOf(part, at);
      if (found < 0) return line;
      at = found + part.length;
    }
  }
  return undefined;
}

describe('runnable docs examples: the marker', () => {
  it('reads commands, expected exit codes and expected output', () => {
    const page = 'text\n\n<!-- runnable -->\n```sh\nagentguard a  # note\n# a comment\nagentguard b \\\n  --flag   # exit 1\n```\n<!-- output -->\n```text\nfirst\n  second … third\n```\n\n```sh\nnot runnable\n```\n';
    expect(runnableExamples(page)).toEqual([
      { line: 4, commands: [{ text: 'agentguard a  # note', exit: 0 }, { text: 'agentguard b --flag   # exit 1', exit: 1 }], output: ['first', 'second … third'] },
    ]);
    expect(() => runnableExamples('<!-- runnable -->\n```ts\nx\n```\n')).toThrow(/followed by a ```sh block/);
    expect(missingLine('a first b second c third', ['first', 'second … third'])).toBeUndefined();
    expect(missingLine('a third b second', ['second … third'])).toBe('second … third');
  });

  it('marks enough examples to matter', () => {
    const count = PAGES.reduce((n, page) => n + runnableExamples(readFileSync(join(ROOT, page), 'utf8')).length, 0);
    expect(count).toBeGreaterThanOrEqual(5);
  });
});

for (const page of PAGES) {
  const examples = runnableExamples(readFileSync(join(ROOT, page), 'utf8'));
  if (examples.length === 0) continue;
  describe.sequential(`runnable docs examples in ${page}`, () => {
    let dir: string | undefined;
    for (const example of examples) {
      it(`${page}:${example.line} runs`, { timeout: 180_000 }, () => {
        dir ??= projectFolder();
        let output = '';
        for (const command of example.commands) {
          const result = run(command.text, dir);
          output += result.output;
          expect(result.status, `${page}:${example.line}: \`${command.text}\` printed:\n${result.output}`).toBe(command.exit);
        }
        if (example.output) expect(missingLine(output, example.output), `${page}:${example.line}: output lacks this line; it printed:\n${output}`).toBeUndefined();
      });
    }
  });
}

/** Whole policies shown in the docs (a YAML block with `version: 1` and `rules`) must load: an example that does not is wrong. */
describe('policies shown in the docs', () => {
  const policies = PAGES.flatMap((page) =>
    new MarkdownIt({ html: true })
      .parse(readFileSync(join(ROOT, page), 'utf8'), {})
      .filter((t) => t.type === 'fence' && /^ya?ml$/.test(t.info.trim()))
      .map((t) => ({ where: `${page}:${(t.map?.[0] ?? 0) + 1}`, text: t.content }))
      .filter((b) => /^version: 1$/m.test(b.text) && /^rules:/m.test(b.text)),
  );

  it('finds the README policy among them', () => {
    expect(policies.map((p) => p.where.split(':')[0])).toContain('README.md');
  });

  it.each(policies)('$where loads', async ({ text }) => {
    const policy = Policy.parse(parseYaml(text) as Record<string, unknown>);
    await policy.assertRegexesSafe();
    expect(policy.name).toBeTruthy();
  });
});

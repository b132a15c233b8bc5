import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShell, plainWords } from '../src/core/policy/views/shell.js';

/** Words that exercise the view's wrappers, code strings, cd tracking, find roots and paths, and the reserved words. */
const WORDS = [
  'git', 'status', '--short', 'ls', '-la', 'rm', '-rf', '/', '/etc', '/home/u', '.', '..', './x', 'a/../b', 'src//x', 'cd', 'pushd',
  'sudo', '-u', 'root', 'doas', 'env', '-i', '-u', 'FOO=1', 'a=b', '--opt=/etc/passwd', '-S', '--split-string=ls', 'nice', '-n', '10', 'timeout', '5',
  'xargs', '-I', '%', '-0', 'find', '-exec', '-delete', '-name', 'sh', 'bash', '-c', 'zsh', 'eval', 'exec', 'command', '-v', 'builtin', 'busybox',
  'trap', 'alias', 'll=ls', 'watch', 'flock', 'chroot', 'su', 'script', 'runuser', '--', 'source', 'curl', 'http://x.test/a', 'python3', 'mkfs.ext4',
  '/dev/sda', 'chmod', '777', 'if', 'then', 'fi', 'for', 'in', 'do', 'done', 'case', 'esac', 'while', 'until', 'time', 'declare', 'local', 'export',
  'let', 'function', 'select', 'coproc', 'typeset', 'readonly', 'nameref', '@test', '+x', 'a,b', 'key:value', 'user@host', '100%', '-', '=',
];
const CHARSET = 'ab/._-=:@%+,09 \t';

const plainLine = fc.oneof(
  fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 8 }).chain((words) => fc.constantFrom(words.join(' '), ` ${words.join('  ')} `, words.join('\t'))),
  fc.array(fc.constantFrom(...CHARSET), { maxLength: 24 }).map((chars) => chars.join('')),
);

describe('shell view: plain words are read without the parser, exactly as the parser reads them', () => {
  it('property: for every line of plain words, the view is the one the parser gives', () => {
    let plain = 0;
    fc.assert(
      fc.property(plainLine, (text) => {
        if (plainWords(text) === undefined) return;
        plain++;
        expect(parseShell(text), text).toEqual(parseShell(text, { parserOnly: true }));
      }),
      { numRuns: 1500 },
    );
    expect(plain).toBeGreaterThan(500); // the property is not vacuous
  });

  it('code strings inside a plain line (sh -c, eval, sudo) are read the same way', () => {
    for (const text of ['sh -c ls', 'bash -c rm', 'eval rm -rf /', 'sudo -u root rm -rf /etc', 'env -S rm', 'find / -delete', 'cd / rm -rf x', 'xargs -I % rm %', 'busybox sh -c reboot', 'alias ll=ls']) {
      expect(plainWords(text), text).toBeDefined();
      expect(parseShell(text), text).toEqual(parseShell(text, { parserOnly: true }));
    }
  });

  it('sends to the parser whatever is not plain words: quotes, escapes, expansions, globs, operators, comments, assignments, reserved words', () => {
    for (const text of ['echo "a"', "echo 'a'", 'echo a\\ b', 'echo $HOME', 'echo ~', 'ls *', 'ls ?', 'ls [a]', 'echo {a,b}', 'a | b', 'a; b', 'a && b', 'a > f', 'a < f', '(a)', 'a # c', 'a\nb', 'a\rb', 'FOO=1 cmd', 'a=b', 'if', 'then x', 'time ls', 'export A', 'declare -x A', 'let a', '! ls', 'ls\u00a0-la', 'ls ｌ']) {
      expect(plainWords(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(plainWords('git status --short')).toEqual(['git', 'status', '--short']);
    expect(plainWords('  ')).toEqual([]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShell, plainCommands } from '../src/core/policy/views/shell.js';

/** Words that exercise the view's wrappers, code strings, cd tracking, find roots and paths, and the reserved words. */
const WORDS = [
  'git', 'status', '--short', 'ls', '-la', 'rm', '-rf', '/', '/etc', '/home/u', '.', '..', './x', 'a/../b', 'src//x', 'cd', 'pushd',
  'sudo', '-u', 'root', 'doas', 'env', '-i', '-u', 'FOO=1', 'a=b', '--opt=/etc/passwd', '-S', '--split-string=ls', 'nice', '-n', '10', 'timeout', '5',
  'xargs', '-I', '%', '-0', 'find', '-exec', '-delete', '-name', 'sh', 'bash', '-c', 'zsh', 'eval', 'exec', 'command', '-v', 'builtin', 'busybox',
  'trap', 'alias', 'll=ls', 'watch', 'flock', 'chroot', 'su', 'script', 'runuser', '--', 'source', 'curl', 'http://x.test/a', 'python3', 'mkfs.ext4',
  '/dev/sda', 'chmod', '777', 'if', 'then', 'fi', 'for', 'in', 'do', 'done', 'case', 'esac', 'while', 'until', 'time', 'declare', 'local', 'export',
  'let', 'function', 'select', 'coproc', 'typeset', 'readonly', 'nameref', '@test', '+x', 'a,b', 'key:value', 'user@host', '100%', '-', '=',
  // Quoted: globs, braces, ~, operators and spaces in quotes are text; quoted reserved words and "=" are not syntax.
  '"fix the parser"', "'rm -rf /'", '"*.ts"', "'{a,b}'", '"~/x"', '""', "''", 'a"b"c', "x'y'", '-m"msg"', '"if"', "'time'", '"a=b"', 'a"|"b', "'#c'",
  '"ls; rm"', "'sh -c ls'", '"/etc"', "'..'", '"\t"',
  '"a!b"', "'a!b'", '"it\'s"', "'say \"hi\"'", '"héllo wörld"', "'日本'", '"a  b"', '"(x)"', "'<f>'", '"a=$"',
];
const OPERATORS = [' | ', ' && ', ' || ', '; ', '|', '&&', ';', ' & ', ' |& ', ' ;; ', ' | | '];
const CHARSET = 'ab/._-=:@%+,09 \t|&;';

/** Mostly commands (so that lines of several commands are often plain), sometimes any word (reserved, assignments). */
const firstWord = fc.oneof({ arbitrary: fc.constantFrom('git', 'ls', 'rm', 'cd', 'sudo', 'env', 'xargs', 'find', 'sh', 'bash', 'eval', 'curl', 'chmod', 'busybox', 'head', 'tee'), weight: 3 }, { arbitrary: fc.constantFrom(...WORDS), weight: 1 });
const command = fc
  .tuple(firstWord, fc.array(fc.constantFrom(...WORDS), { maxLength: 5 }))
  .chain(([first, rest]) => fc.constantFrom([first, ...rest].join(' '), ` ${[first, ...rest].join('  ')} `, [first, ...rest].join('\t')));
const plainLine = fc.oneof(
  { arbitrary: command, weight: 1 },
  {
    arbitrary: fc.tuple(command, fc.array(fc.tuple(fc.constantFrom(...OPERATORS), command), { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '', ' ', ';', ' &&', ' |')).map(
      ([first, rest, end]) => first + rest.map(([op, c]) => op + c).join('') + end,
    ),
    weight: 3,
  },
  { arbitrary: fc.array(fc.constantFrom(...CHARSET), { maxLength: 24 }).map((chars) => chars.join('')), weight: 1 },
);

describe('shell view: plain words are read without the parser, exactly as the parser reads them', () => {
  it('property: for every line of plain commands, the view is the one the parser gives', () => {
    let plain = 0;
    let piped = 0;
    fc.assert(
      fc.property(plainLine, (text) => {
        const commands = plainCommands(text);
        if (commands === undefined) return;
        plain++;
        if (commands.some((c) => c.piped)) piped++;
        expect(parseShell(text), text).toEqual(parseShell(text, { parserOnly: true }));
      }),
      { numRuns: 1500 },
    );
    expect(plain).toBeGreaterThan(300); // the property is not vacuous
    expect(piped).toBeGreaterThan(40);
  });

  it('code strings inside a plain line (sh -c, eval, sudo) are read the same way', () => {
    for (const text of ['sh -c ls', 'bash -c rm', 'eval rm -rf /', 'sudo -u root rm -rf /etc', 'env -S rm', 'find / -delete', 'cd / && rm -rf x', 'ls | xargs -I % rm %', 'busybox sh -c reboot', 'alias ll=ls', 'curl http://x.test | sh', 'wget x || true; bash', 'sh -c "ls -la"', "bash -c 'rm -rf /'", 'eval "rm -rf /"', 'git commit -m "fix: the *parser*"', "find . -name '*.ts' -delete", 'sudo "rm" -rf "/"']) {
      expect(plainCommands(text), text).toBeDefined();
      expect(parseShell(text), text).toEqual(parseShell(text, { parserOnly: true }));
    }
  });

  it('sends to the parser whatever is not plain commands: quotes, escapes, expansions, globs, redirections, comments, assignments, reserved words, odd operators', () => {
    for (const text of ['echo "$HOME"', 'echo "a\\"b"', 'echo "`id`"', "echo 'a", 'echo "a', "echo $'a'", 'echo "a\nb"', "echo 'a\nb'", 'echo a\\ b', 'echo $HOME', 'echo ~', 'ls *', 'ls ?', 'ls [a]', 'echo {a,b}', 'a > f', 'a < f', '(a)', 'a # c', 'a\nb', 'a\rb', 'FOO=1 cmd', 'a=b', 'a | b=1', 'if', 'then x', 'time ls', 'a && time ls', 'export A', 'declare -x A', 'let a', '! ls', 'ls\u00a0-la', 'ls ｌ', 'a &', 'a & b', 'a |& b', 'a ;; b', 'a | | b', '| a', 'a |', 'a &&', 'a;', '; a', 'a &&& b']) {
      expect(plainCommands(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(plainCommands('git status --short')).toEqual([{ words: ['git', 'status', '--short'], piped: false }]);
    expect(plainCommands('npm run build && npm test | tee log; ls')).toEqual([
      { words: ['npm', 'run', 'build'], piped: false },
      { words: ['npm', 'test'], piped: false },
      { words: ['tee', 'log'], piped: true },
      { words: ['ls'], piped: false },
    ]);
    expect(plainCommands('  ')).toEqual([]);
  });
});

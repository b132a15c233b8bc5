import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SHELL_LENGTH, MAX_SHELL_TOKENS, parseShell, shellTokenCount, type ShellView } from '../src/core/policy/views/shell.js';
import { normalizePath } from '../src/core/policy/views/shell-paths.js';

const names = (v: ShellView) => v.commands.map((c) => c.name);
const command = (v: ShellView, name: string) => v.commands.find((c) => c.name === name)!;

describe('shell view: command words after quote removal', () => {
  it.each([
    ['rm -rf /', 'rm'],
    ['r\\m -rf /', 'rm'],
    ['"r"m -rf /', 'rm'],
    ["'rm' -rf /", 'rm'],
    ["$'\\x72m' -rf /", 'rm'],
    ["$'\\162m' -rf /", 'rm'],
    ['/bin/rm -rf /', 'rm'],
    ['\\\nrm -rf /', 'rm'],
  ])('%j runs rm', (text, name) => {
    const view = parseShell(text);
    expect(names(view)).toEqual([name]);
    expect(view.dynamic).toBe(false);
  });

  it('keeps the path of the command word', () => {
    expect(command(parseShell('/usr/bin/env bash'), 'env').path).toBe('/usr/bin/env');
  });

  it('a command word known only at run time is dynamic, with an empty name', () => {
    for (const text of ['$(echo rm) -rf /', 'a=rm; $a -rf /', '`echo rm` x', '${CMD} x', 'rm${IFS}-rf${IFS}/', '/bin/r? -rf /']) {
      const view = parseShell(text);
      expect(view.dynamic, text).toBe(true);
      expect(view.commands.some((c) => c.dynamic && c.name === ''), text).toBe(true);
    }
  });

  it('property: quoting or escaping letters of a command word never changes its name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9_-]{0,11}$/), fc.array(fc.constantFrom('plain', 'dq', 'sq', 'bs'), { minLength: 12, maxLength: 12 }), (word, styles) => {
        const spelt = [...word]
          .map((ch, i) => (styles[i] === 'dq' ? `"${ch}"` : styles[i] === 'sq' ? `'${ch}'` : styles[i] === 'bs' ? `\\${ch}` : ch))
          .join('');
        const view = parseShell(`${spelt} /x`);
        expect(view.commands[0].name).toBe(word);
        expect(view.commands[0].args).toEqual(['/x']);
      }),
      { numRuns: 300 },
    );
  });
});

describe('shell view: where commands hide', () => {
  it.each([
    ['sh -c "rm -rf /"', 'sh -c'],
    ["bash -lc 'rm -rf /'", 'bash -c'],
    ['eval rm -rf /', 'eval'],
    ['echo $(rm -rf /)', 'command substitution'],
    ['cat <(rm -rf /)', 'process substitution'],
    ['sudo -u root -- rm -rf /', 'sudo'],
    ['env -i FOO=1 rm -rf /', 'env'],
    ['nice -n 5 rm -rf /', 'nice'],
    ['timeout -s KILL 5 rm -rf /', 'timeout'],
    ['busybox rm -rf /', 'busybox'],
    ['find / -exec rm -rf {} +', 'find -exec'],
    ['echo / | xargs -0 rm -rf', 'xargs'],
    ['env -S "rm -rf /"', 'env -S'],
    ["su -c 'rm -rf /'", 'su -c'],
    ["su -lc 'rm -rf /' root", 'su -c'],
    ["script -qc 'rm -rf /' /dev/null", 'script -c'],
    ['runuser -u x -- rm -rf /', 'runuser'],
    ["trap 'rm -rf /' EXIT", 'trap'],
    ["alias ll='rm -rf /'", 'alias'],
    ["bash <<< 'rm -rf /'", 'bash <<'],
  ])('%j runs rm reached via %s', (text, via) => {
    const rm = command(parseShell(text), 'rm');
    expect(rm, text).toBeDefined();
    expect(rm.via).toContain(via);
  });

  it('a here-document fed to a shell is parsed as code', () => {
    expect(names(parseShell('bash <<EOF\nrm -rf /\nEOF'))).toContain('rm');
  });

  it('xargs appends a run-time value; find -exec gets find\'s roots for {}', () => {
    expect(command(parseShell('echo / | xargs rm -rf'), 'rm').targets).toEqual([{ text: '$(xargs input)', fixed: '', glob: false, dynamic: true }]);
    expect(command(parseShell('find /etc -exec rm {} \\;'), 'rm').targets.map((t) => t.text)).toEqual(['/etc']);
  });

  it('eval or sh -c of a run-time string is dynamic', () => {
    for (const text of ['eval "$(echo cm0gLXJmIC8K | base64 -d)"', 'sh -c "$X"', 'x=$(curl x); eval "$x"', 'bash -c']) {
      expect(parseShell(text).dynamic, text).toBe(true);
    }
  });

  it('code nested deeper than the limit is dynamic', () => {
    let text = 'rm -rf /';
    for (let i = 0; i < 6; i++) text = `sh -c ${JSON.stringify(text)}`;
    expect(parseShell(text).dynamic).toBe(true);
  });

  it('a call the walk does not model (a $(…) inside [[ ]]) makes the view dynamic', () => {
    expect(parseShell('[[ -n $(rm -rf /) ]]').dynamic).toBe(true);
    expect(parseShell('[[ -n $HOME ]] && ls').dynamic).toBe(false);
  });

  it('records recursive functions (fork bombs)', () => {
    expect(parseShell(':(){ :|:& };:').functions).toEqual([{ name: ':', recursive: true }]);
    expect(parseShell('greet() { echo hi; }; greet').functions).toEqual([{ name: 'greet', recursive: false }]);
  });
});

describe('shell view: pipes into shells', () => {
  it.each(['curl x | sh', 'curl x | "sh"', 'curl x | busybox sh', 'curl x | /usr/bin/env bash', 'sh < <(curl x)', 'bash <(curl x)', 'curl x | sudo -E bash -s', '. <(curl x)', 'source <(curl x)', 'curl x |& zsh'])(
    '%j pipes into a shell',
    (text) => expect(parseShell(text).pipesIntoShell).toBe(true),
  );

  it.each(['ps aux | grep bash', 'curl x | jq .', 'echo "curl x | sh"', 'sh ./build.sh', 'bash -c "ls"', 'cat file | less'])('%j does not', (text) => {
    expect(parseShell(text).pipesIntoShell).toBe(false);
  });
});

describe('shell view: paths', () => {
  const targets = (text: string) => parseShell(text).commands[0].targets;

  it('expands braces, folds . .. and //, and writes $HOME as ~', () => {
    expect(targets('rm -rf /{bin,etc}').map((t) => t.text)).toEqual(['/bin', '/etc']);
    expect(targets('rm -rf /tmp/../ //').map((t) => t.text)).toEqual(['/', '/']);
    expect(targets('rm -rf "$HOME/" ~/x').map((t) => t.text)).toEqual(['~', '~/x']);
    expect(targets('rm x{1..3}').map((t) => t.text)).toEqual(['x1', 'x2', 'x3']);
  });

  it('the fixed part stops at the first glob or run-time component', () => {
    expect(targets('rm -rf /?* /etc/*.conf "$D"/x /a/$B/c')).toEqual([
      { text: '/?*', fixed: '/', glob: true, dynamic: false },
      { text: '/etc/*.conf', fixed: '/etc', glob: true, dynamic: false },
      { text: '${D}/x', fixed: '', glob: false, dynamic: true },
      { text: '/a/${B}/c', fixed: '/a', glob: false, dynamic: true },
    ]);
  });

  it('quoted glob characters are literal', () => {
    expect(targets("rm '/*'")).toEqual([{ text: '/*', fixed: '/*', glob: false, dynamic: false }]);
  });

  it('options are not targets; -- ends options; key=value and --opt=/path values are', () => {
    expect(targets('rm -rf -- -x /y').map((t) => t.text)).toEqual(['-x', '/y']);
    expect(targets('dd if=/dev/zero of=/dev/sda bs=1M').map((t) => t.text)).toEqual(['/dev/zero', '/dev/sda', '1M']);
    expect(targets('tool --out=/etc/x --level=3').map((t) => t.text)).toEqual(['/etc/x']);
  });

  it('paths hold redirections, bare redirections, $(<file) and assigned values', () => {
    const paths = (text: string) => parseShell(text).paths.map((p) => p.text);
    expect(paths('cat a > /dev/sda')).toEqual(['a', '/dev/sda']);
    expect(paths('cat a >& /dev/sda 2>&1')).toEqual(['a', '/dev/sda']);
    expect(paths('> /dev/sda')).toEqual(['/dev/sda']);
    expect(paths('echo $(<.env)')).toContain('.env');
    expect(paths('f=.env; cat $f')).toContain('.env');
    expect(paths('export KUBECONFIG=~/.kube/config')).toContain('~/.kube/config');
  });

  it('relative operands are also read from every folder an earlier cd may have moved to', () => {
    const rm = (text: string) => parseShell(text).commands.find((c) => c.name === 'rm')!.targets.map((t) => `${t.text}|${t.fixed}`);
    expect(rm('cd / && rm -rf *')).toEqual(['*|', '/*|/']);
    expect(rm('cd /tmp || cd /etc; rm -rf ../x')).toEqual(['../x|../x', '/x|/x', '/x|/x']);
    expect(rm('cd /a; cd b; rm -rf c')).toEqual(['c|c', '/a/c|/a/c', 'b/c|b/c', '/a/b/c|/a/b/c']);
    expect(rm('cd "$D" && rm -rf build')).toEqual(['build|build']);
    expect(rm('cd "$D" && rm -rf ./*')).toEqual(['*|.', '${D}/*|']);
    expect(rm('rm -rf /abs && cd / && rm -rf /x').length).toBe(1);
  });

  it('normalizePath keeps relative .. at the start and never climbs above /', () => {
    expect(normalizePath('../../x')).toBe('../../x');
    expect(normalizePath('/../../etc/')).toBe('/etc');
    expect(normalizePath('./a/./b/..')).toBe('a');
    expect(normalizePath('~/a/../..')).toBe('~');
  });

  it('a brace expansion past the word limit makes the word dynamic', () => {
    const view = parseShell('rm {1..100000}');
    expect(view.commands[0].targets.some((t) => t.dynamic)).toBe(true);
  });
});

describe('shell view: input it refuses', () => {
  it('throws for text the parser rejects, saying where', () => {
    expect(() => parseShell('echo "unterminated')).toThrow(/not a shell command line the parser accepts \(at 1:/);
    expect(() => parseShell('if then fi')).toThrow(/parser accepts/);
  });

  it('throws for text longer than the limit', () => {
    expect(() => parseShell(`echo ${'a'.repeat(MAX_SHELL_LENGTH)}`)).toThrow(/longer than the 16384/);
  });

  it('throws for more words and operators than the parser may read (its time grows with them)', () => {
    expect(MAX_SHELL_TOKENS).toBe(400);
    expect(() => parseShell(`echo ${'a '.repeat(MAX_SHELL_TOKENS)}`)).toThrow(/more than 400 words and operators/);
    expect(() => parseShell('echo a; '.repeat(200))).toThrow(/more than 400/);
    expect(parseShell(`echo ${'a '.repeat(MAX_SHELL_TOKENS - 2)}`).commands).toHaveLength(1);
  });

  it('quoted strings and quoted here-documents count as one word, so long messages and files still parse', () => {
    expect(shellTokenCount(`git commit -m "${'word '.repeat(2000)}"`)).toBe(4);
    expect(shellTokenCount(`echo '${'a b; c | d '.repeat(500)}'`)).toBe(2);
    const heredoc = `cat > src/app.ts <<'EOF'\n${'const x = f(a, b); // $(rm -rf /) `x`\n'.repeat(300)}EOF\nnpm test`;
    expect(shellTokenCount(heredoc)).toBeLessThan(10);
    expect(parseShell(heredoc).commands.map((c) => c.name)).toEqual(['cat', 'npm']);
    expect(shellTokenCount('echo "a $(b) c"')).toBeGreaterThan(4); // an expansion inside double quotes is counted on
  });

  it('code nested in strings shares the budget: past it, the view is dynamic', () => {
    const many = `${'sh -c "' + 'echo a; '.repeat(60) + '"; '}`.repeat(20);
    expect(shellTokenCount(many)).toBeLessThan(MAX_SHELL_TOKENS);
    expect(parseShell(many).dynamic).toBe(true);
  });

  it('property: any text either gives a view or an Error with a message, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: fc.constantFrom(...'rm -f/\\"\'$(){}|&;<>*?[]`\n#=~.abc') }), (text) => {
        let view: ShellView | undefined;
        try {
          view = parseShell(text);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message.length).toBeGreaterThan(0);
          return;
        }
        expect(Array.isArray(view.commands)).toBe(true);
        expect(typeof view.dynamic).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

import { createRequire } from 'node:module';
import { toPath, type ShellPath } from './shell-paths.js';
import {
  decodeAnsiC, emptyWord, expandBraces, hasGlob, isDynamic, push, pushDoubleQuoted, pushUnquoted, wordText, type ShellWord,
} from './shell-words.js';
import type { ParsedView, ViewRecord } from './view-type.js';

/** Longest command line parsed (UTF-16 code units); a longer one makes the condition an error, which denies. */
export const MAX_SHELL_LENGTH = 16_384;
/**
 * Most words and operators a command line may have (here-document bodies in quotes count as one). The parser costs
 * tens of microseconds per node, on the decision path: a bound on nodes is a bound on time. More denies.
 */
export const MAX_SHELL_TOKENS = 400;
/** Deepest nesting of code in strings (`sh -c`, `eval`, here-documents into a shell) that is parsed; deeper is dynamic. */
export const MAX_SHELL_DEPTH = 4;

export type ShellInput = 'pipe' | 'process' | 'file' | 'heredoc' | 'none';

export interface ShellCommand {
  name: string;
  path: string;
  args: string[];
  targets: ShellPath[];
  via: string[];
  input: ShellInput;
  dynamic: boolean;
  redirects: Array<{ op: string; target: ShellPath }>;
}

export interface ShellView {
  commands: ShellCommand[];
  paths: ShellPath[];
  functions: Array<{ name: string; recursive: boolean }>;
  pipesIntoShell: boolean;
  dynamic: boolean;
}

const PATH_FIELDS: ViewRecord = {
  fields: {
    text: { type: 'string', doc: 'The path after quote removal and brace expansion, with //, . and .. folded and $HOME written ~.' },
    fixed: { type: 'string', doc: 'The folders before the first glob character or run-time value: /?* and /* give /, $DIR/x gives "".' },
    glob: { type: 'boolean', doc: 'Has an unquoted *, ? or [ that the shell expands.' },
    dynamic: { type: 'boolean', doc: 'Holds a variable, command substitution or xargs input: unknown until run time.' },
  },
};

export const SHELL_SCHEMA: ViewRecord = {
  fields: {
    commands: {
      doc: 'Every simple command, wherever it runs: in pipelines, lists, subshells, functions, $(…), `…`, <(…), sh -c and eval strings, here-documents fed to a shell, find -exec, and behind wrappers (sudo, env, xargs, busybox, nice, timeout, …; the wrapper is a command too).',
      type: {
        list: {
          fields: {
            name: { type: 'string', doc: 'The command word after quote removal, without its folder: rm for /bin/rm, r\\m, "r"m, $\'\\x72m\'. Empty when dynamic.' },
            path: { type: 'string', doc: 'The command word as the shell runs it (/usr/bin/env).' },
            args: { type: { list: 'string' }, doc: 'The arguments after quote removal and brace expansion.' },
            targets: { type: { list: PATH_FIELDS }, doc: 'Operands: arguments that are not options (all after --), values of key=value and --opt=/path, the search roots of find, and one dynamic path for what xargs appends; relative operands also as read from every folder an earlier cd may have moved to (cd / && rm -rf * has the target /*).' },
            via: { type: { list: 'string' }, doc: 'How it is reached: sudo, env, xargs, find -exec, sh -c, eval, command substitution, process substitution, …' },
            input: { type: 'string', doc: 'Where its standard input (or, for a shell, its script) comes from: pipe, process (< <(…) or a <(…) script), file, heredoc or none.' },
            dynamic: { type: 'boolean', doc: 'The command word is only known at run time ($cmd, $(echo rm), a glob).' },
            redirects: {
              type: { list: { fields: { op: { type: 'string', doc: '>, >>, <, &>, …' }, target: { type: PATH_FIELDS, doc: 'The redirected file.' } } } },
              doc: 'Its redirections to and from files.',
            },
          },
        },
      },
    },
    paths: { type: { list: PATH_FIELDS }, doc: 'Every target and redirected file of every command, files redirected without a command (> f, $(<f)), and values assigned to variables (f=.env).' },
    functions: {
      type: { list: { fields: { name: { type: 'string', doc: 'The function name.' }, recursive: { type: 'boolean', doc: 'Its body calls it (a fork bomb does).' } } } },
      doc: 'Functions the command line defines.',
    },
    pipesIntoShell: { type: 'boolean', doc: 'A shell (sh, bash, zsh, …, busybox sh) or source reads code from a pipe or a process substitution.' },
    dynamic: {
      type: 'boolean',
      doc: 'Something that decides what runs is unknown until run time: a dynamic command word, eval or sh -c of a run-time string, nesting deeper than the limit, or a construct the view does not model. Packs deny it.',
    },
  },
};

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ksh93', 'mksh', 'pdksh', 'oksh', 'ash', 'csh', 'tcsh', 'fish', 'yash', 'posh', 'rbash', 'hush', 'msh']);

/* eslint-disable @typescript-eslint/no-explicit-any -- the parser's nodes are GopherJS objects without types */
type Node = any;
interface Syntax {
  NewParser(...options: unknown[]): { Parse(src: string, name: string): Node };
  NodeType(node: Node): string;
  Walk(node: Node, visit: (node: Node) => boolean): void;
}

interface Ops {
  pipe: number;
  pipeAll: number;
  procIn: number;
  redirect: Map<number, string>;
}

interface LoadedParser {
  syntax: Syntax;
  ops: Ops;
  parser: { Parse(src: string, name: string): Node };
}

let loaded: LoadedParser | undefined;

/**
 * mvdan-sh is 1.5 MB (tens of milliseconds to load): loaded the first time a command line is not plain (see
 * plainCommands). Its token numbers are read from samples.
 */
export function loadShellParser(): LoadedParser {
  if (loaded) return loaded;
  const { syntax } = createRequire(import.meta.url)('mvdan-sh') as { syntax: Syntax };
  const parser = syntax.NewParser();
  const first = (src: string) => parser.Parse(src, 'probe').Stmts[0];
  const redirect = new Map<number, string>();
  for (const op of ['>', '>>', '<', '<>', '<&', '>&', '>|', '&>', '&>>', '<<<']) redirect.set(first(`a ${op} f`).Redirs[0].Op, op);
  redirect.set(first('a << E\nx\nE\n').Redirs[0].Op, '<<');
  redirect.set(first('a <<- E\nx\nE\n').Redirs[0].Op, '<<-');
  loaded = {
    syntax,
    // One parser for every parse: a new one per command line costs more in garbage collection than the parse itself.
    parser: syntax.NewParser(),
    ops: {
      pipe: first('a | b').Cmd.Op,
      pipeAll: first('a |& b').Cmd.Op,
      procIn: first('a <(b)').Cmd.Args[1].Parts[0].Op,
      redirect,
    },
  };
  return loaded;
}

function basename(text: string): string {
  const i = text.lastIndexOf('/');
  return i === -1 ? text : text.slice(i + 1);
}

interface Ctx {
  depth: number;
  via: string[];
}

interface Redir {
  op: string;
  word: ShellWord;
  /** The text of a here-document or here-string, when fully known. */
  heredoc?: string;
}

/** Builds the shell view of one command line (and of the code strings nested in it). */
class ShellAnalyzer {
  readonly commands: ShellCommand[] = [];
  readonly functions: Array<{ name: string; recursive: boolean }> = [];
  /** Files no command owns: redirections of a bare `> f` or `$(<f)`, and values assigned to variables (`f=.env; cat $f`). */
  readonly loosePaths: ShellPath[] = [];
  dynamic = false;
  private calls = 0;
  /** Words and operators parsed so far, nested code included: one budget for the whole command line. */
  private tokens = 0;
  /**
   * Folders an earlier `cd` (or `pushd`) may have moved to; relative operands are also read from each of them
   * (`cd / && rm -rf *` removes /*). Every cd seen counts, in any branch: a superset of where the shell can be.
   */
  private readonly cwds: ShellWord[] = [];
  private loadedParser?: LoadedParser;

  constructor(
    private readonly load: () => LoadedParser,
    private readonly plain: boolean,
  ) {}

  private get syntax(): Syntax {
    this.loadedParser ??= this.load();
    return this.loadedParser.syntax;
  }

  private get ops(): Ops {
    this.loadedParser ??= this.load();
    return this.loadedParser.ops;
  }

  private get parser(): LoadedParser['parser'] {
    this.loadedParser ??= this.load();
    return this.loadedParser.parser;
  }

  /** Parses and analyses `src`. Throws a parse error only for the top level; nested code that does not parse is dynamic. */
  analyze(src: string, ctx: Ctx): void {
    if (ctx.depth > MAX_SHELL_DEPTH) {
      this.dynamic = true;
      return;
    }
    this.tokens += shellTokenCount(src);
    if (this.tokens > MAX_SHELL_TOKENS) {
      if (ctx.depth === 0) throw new Error(`the command line has more than ${MAX_SHELL_TOKENS} words and operators, more than the shell view parses (write long files with a file tool, or in a quoted here-document)`);
      this.dynamic = true; // nested code past the budget is not read, so what it runs is unknown
      return;
    }
    const plain = this.plain ? plainCommands(src) : undefined;
    if (plain) {
      // What the parser gives for plain commands: one call per command, in order, each word one literal, reading a pipe
      // when a `|` comes right before it (none for a blank line).
      for (const command of plain) this.callWords(command.words.map(plainWord), ctx, command.piped ? 'pipe' : 'none', []);
      return;
    }
    const parser = this.parser; // outside the try: a parser that cannot be loaded is an error at any depth
    let file: Node;
    try {
      file = parser.Parse(src, 'command');
    } catch (error) {
      if (ctx.depth > 0) {
        this.dynamic = true;
        return;
      }
      throw new Error(`not a shell command line the parser accepts (${describeParseError(error)})`);
    }
    const outer = this.calls;
    this.calls = 0;
    this.stmts(file.Stmts, ctx, 'none');
    // Every call the parser sees must have been analysed; a construct this walk does not model makes the view dynamic.
    // Calls outside statements only live in substitutions, so text without $( ` <( >( needs no (costly) full walk.
    if (/\$\(|`|[<>]\(/.test(src)) {
      let seen = 0;
      this.syntax.Walk(file, (node: Node) => {
        if (node && this.syntax.NodeType(node) === 'CallExpr' && node.Args && node.Args.length > 0) seen++;
        return true;
      });
      if (seen !== this.calls) this.dynamic = true;
    }
    this.calls = outer;
  }

  private stmts(list: Node[] | null, ctx: Ctx, input: ShellInput): void {
    for (const s of list ?? []) this.stmt(s, ctx, input);
  }

  private stmt(s: Node, ctx: Ctx, input: ShellInput): void {
    const redirs: Redir[] = [];
    let stdin = input;
    for (const r of s.Redirs ?? []) {
      const op = this.ops.redirect.get(r.Op) ?? '?';
      if (op === '<<' || op === '<<-') {
        const body = r.Hdoc ? this.word(r.Hdoc, ctx, false) : emptyWord();
        redirs.push({ op, word: body, heredoc: isDynamic(body) ? undefined : wordText(body) });
        stdin = 'heredoc';
        continue;
      }
      const word = this.word(r.Word, ctx, true);
      if (op === '<<<') {
        redirs.push({ op, word, heredoc: isDynamic(word) ? undefined : wordText(word) });
        stdin = 'heredoc';
        continue;
      }
      redirs.push({ op, word });
      if (op === '<' || op === '<>') stdin = word.procSubst ? 'process' : 'file';
    }
    if (!s.Cmd) this.loosePaths.push(...redirectPaths(redirs));
    this.command(s.Cmd, ctx, stdin, redirs);
  }

  /** The value of an assignment: analysed for substitutions, and kept as a path, since a later $name may use it as one. */
  private assigned(value: Node, ctx: Ctx): void {
    const path = toPath(this.word(value, ctx, true));
    if (path) this.loosePaths.push(path);
  }

  private command(cmd: Node, ctx: Ctx, input: ShellInput, redirs: Redir[]): void {
    if (!cmd) return;
    switch (this.syntax.NodeType(cmd)) {
      case 'CallExpr':
        return this.call(cmd, ctx, input, redirs);
      case 'BinaryCmd': {
        const piped = cmd.Op === this.ops.pipe || cmd.Op === this.ops.pipeAll;
        this.stmt(cmd.X, ctx, input);
        this.stmt(cmd.Y, ctx, piped ? 'pipe' : input);
        return;
      }
      case 'Subshell':
      case 'Block':
        return this.stmts(cmd.Stmts, ctx, input);
      case 'IfClause':
        this.stmts(cmd.Cond, ctx, input);
        this.stmts(cmd.Then, ctx, input);
        if (cmd.Else) this.command(cmd.Else, ctx, input, []);
        return;
      case 'WhileClause':
        this.stmts(cmd.Cond, ctx, input);
        this.stmts(cmd.Do, ctx, input);
        return;
      case 'ForClause':
        if (cmd.Loop && this.syntax.NodeType(cmd.Loop) === 'WordIter') for (const w of cmd.Loop.Items ?? []) this.word(w, ctx, true);
        this.stmts(cmd.Do, ctx, input);
        return;
      case 'CaseClause':
        this.word(cmd.Word, ctx, true);
        for (const item of cmd.Items ?? []) this.stmts(item.Stmts, ctx, input);
        return;
      case 'FuncDecl': {
        const from = this.commands.length;
        this.stmt(cmd.Body, ctx, input);
        const name = cmd.Name?.Value ?? '';
        this.functions.push({ name, recursive: this.commands.slice(from).some((c) => c.name === name) });
        return;
      }
      case 'TimeClause':
      case 'CoprocClause':
        if (cmd.Stmt) this.stmt(cmd.Stmt, ctx, input);
        return;
      case 'DeclClause':
        for (const a of cmd.Args ?? []) if (a.Value) this.assigned(a.Value, ctx);
        return;
      case 'TestClause':
      case 'ArithmCmd':
      case 'LetClause':
      case 'TestDecl':
        return; // Calls hidden in them (a $(…) inside [[ ]]) are caught by the count in analyze().
      default:
        this.dynamic = true;
    }
  }

  private call(cmd: Node, ctx: Ctx, input: ShellInput, redirs: Redir[]): void {
    for (const a of cmd.Assigns ?? []) if (a.Value) this.assigned(a.Value, ctx);
    const args = cmd.Args ?? [];
    if (args.length === 0) {
      this.loosePaths.push(...redirectPaths(redirs));
      return;
    }
    this.calls++;
    this.callWords(args.map((w: Node) => this.word(w, ctx, true)), ctx, input, redirs);
  }

  /** The words of a call as written (quotes removed), brace-expanded, resolved into the commands it runs. */
  private callWords(written: ShellWord[], ctx: Ctx, input: ShellInput, redirs: Redir[]): void {
    const words: ShellWord[] = [];
    for (const word of written) {
      const expanded = expandBraces(word);
      if (!expanded) {
        word.dyn = word.dyn.map(() => true);
        words.push(word);
      } else words.push(...expanded);
    }
    this.resolve(words, ctx, input, redirs);
  }

  /** One word of the source, quotes removed; command and process substitutions in it are analysed as commands. */
  private word(w: Node, ctx: Ctx, unquoted: boolean): ShellWord {
    const out = emptyWord();
    if (!w) return out;
    this.parts(w.Parts ?? [], out, ctx, unquoted);
    return out;
  }

  private parts(parts: Node[], out: ShellWord, ctx: Ctx, unquoted: boolean): void {
    for (const part of parts) {
      switch (this.syntax.NodeType(part)) {
        case 'Lit':
          if (unquoted) pushUnquoted(out, part.Value);
          else pushDoubleQuoted(out, part.Value);
          break;
        case 'SglQuoted':
          push(out, part.Dollar ? decodeAnsiC(part.Value) : part.Value, false, false);
          break;
        case 'DblQuoted':
          this.parts(part.Parts ?? [], out, ctx, false);
          break;
        case 'ParamExp': {
          const name = part.Param?.Value ?? '';
          const plain = !part.Excl && !part.Length && !part.Width && !part.Index && !part.Slice && !part.Repl && !part.Exp && !part.Names;
          if (name === 'HOME' && plain) push(out, '~', false, false);
          else push(out, `\${${name}}`, false, true);
          break;
        }
        case 'CmdSubst':
          this.stmts(part.Stmts, { ...ctx, via: [...ctx.via, 'command substitution'] }, 'none');
          push(out, '$(…)', false, true);
          break;
        case 'ProcSubst':
          this.stmts(part.Stmts, { ...ctx, via: [...ctx.via, 'process substitution'] }, 'none');
          push(out, part.Op === this.ops.procIn ? '<(…)' : '>(…)', false, false);
          out.procSubst = true;
          break;
        case 'ExtGlob':
          push(out, '*', true, false);
          break;
        default: // arithmetic and anything else: a value known only at run time
          push(out, '$((…))', false, true);
      }
    }
  }

  /** Records the command `words` runs, then looks through wrappers and code strings for the commands they run. */
  private resolve(words: ShellWord[], ctx: Ctx, input: ShellInput, redirs: Redir[]): void {
    const head = words[0];
    if (!head) return;
    const dynamic = isDynamic(head) || hasGlob(head) || head.procSubst;
    const path = dynamic ? '' : wordText(head);
    const name = basename(path);
    const rest = words.slice(1);
    const stdin = input === 'none' && rest.some((w, i) => w.procSubst && rest.slice(0, i).every(isOption)) ? 'process' : input;
    const command: ShellCommand = {
      name,
      path,
      args: rest.map(wordText),
      targets: this.withCwds(name === 'find' ? findRoots(rest) : rest, name === 'find'),
      via: ctx.via,
      input: stdin,
      dynamic,
      redirects: redirs.flatMap((r) => {
        const target = isFileRedirect(r) ? toPath(r.word) : undefined;
        return target ? [{ op: r.op, target }] : [];
      }),
    };
    this.commands.push(command);
    if ((name === 'cd' || name === 'pushd') && !dynamic) this.changeDir(rest);
    if (dynamic) {
      this.dynamic = true;
      return;
    }
    const inner = (next: ShellWord[], how: string, nextInput: ShellInput = stdin) => this.resolve(next, { ...ctx, via: [...ctx.via, how] }, nextInput, redirs);
    const code = (text: ShellWord | ShellWord[] | undefined, how: string) => {
      const list = text === undefined ? [] : Array.isArray(text) ? text : [text];
      if (list.length === 0) return;
      if (list.some(isDynamic)) {
        this.dynamic = true;
        return;
      }
      this.analyze(list.map(wordText).join(' '), { depth: ctx.depth + 1, via: [...ctx.via, how] });
    };

    if (SHELLS.has(name)) {
      const c = shellCodeArg(rest);
      if (c === 'missing') this.dynamic = true;
      else if (c) code(c, `${name} -c`);
      else if (stdin === 'heredoc') {
        const doc = redirs.find((r) => r.op === '<<' || r.op === '<<-' || r.op === '<<<');
        if (doc?.heredoc === undefined) this.dynamic = true;
        else this.analyze(doc.heredoc, { depth: ctx.depth + 1, via: [...ctx.via, `${name} <<`] });
      }
      return;
    }
    switch (name) {
      case 'eval':
        return code(rest, 'eval');
      case 'sudo':
      case 'doas':
      case 'run0':
      case 'pkexec': {
        const after = skipOptions(rest, name === 'sudo' ? SUDO_VALUE_OPTIONS : new Set(['-u', '-C', '--user']));
        if (after.length > 0) return inner(after, name);
        if (rest.some((w) => /^-[a-zA-Z]*[si]/.test(wordText(w)))) return inner([literalWord('sh')], name);
        return;
      }
      case 'su':
      case 'runuser':
      case 'script': {
        const i = rest.findIndex((w) => wordText(w) === '--command' || /^-[a-zA-Z]*c$/.test(wordText(w)));
        if (i !== -1) return code(rest[i + 1] ?? literalWord(''), `${name} -c`);
        if (name === 'runuser') {
          const dash = rest.findIndex((w) => wordText(w) === '--');
          if (dash !== -1 && dash + 1 < rest.length) return inner(rest.slice(dash + 1), name);
        }
        return;
      }
      case 'trap': {
        // trap 'code' SIGNAL…: the code runs later, in this shell.
        const first = rest.find((w) => !isOption(w));
        if (first && rest.length > 1) return code(first, 'trap');
        return;
      }
      case 'alias': {
        // An alias body is code wherever the alias is used.
        for (const w of rest) {
          const t = wordText(w);
          const eq = t.indexOf('=');
          if (eq > 0) code(afterEquals(w), 'alias');
        }
        return;
      }
      case 'env': {
        const split = rest.findIndex((w) => /^(-S|--split-string)(=|$)/.test(wordText(w)));
        if (split !== -1) return code(wordText(rest[split]).includes('=') ? afterEquals(rest[split]) : rest[split + 1], 'env -S');
        let i = 0;
        while (i < rest.length) {
          const t = wordText(rest[i]);
          if (t === '--') {
            i++;
            break;
          }
          if (['-u', '--unset', '-C', '--chdir'].includes(t)) i += 2;
          else if (t.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(t)) i++;
          else break;
        }
        if (i < rest.length) return inner(rest.slice(i), 'env');
        return;
      }
      case 'nice':
      case 'ionice':
      case 'nohup':
      case 'stdbuf':
      case 'setsid':
      case 'builtin':
      case 'exec':
      case 'command':
      case 'time':
      case 'unbuffer':
      case 'chrt':
      case 'taskset':
      case 'strace':
      case 'ltrace':
      case 'caffeinate':
      case 'firejail': {
        if (name === 'command' && rest.some((w) => /^-[a-zA-Z]*[vV]/.test(wordText(w)))) return;
        const after = skipOptions(rest, WRAPPER_VALUE_OPTIONS[name] ?? new Set());
        const positional = name === 'chrt' || name === 'taskset' ? 1 : 0; // their priority / CPU mask
        if (after.length > positional) return inner(after.slice(positional), name);
        return;
      }
      case 'timeout':
      case 'chroot': {
        const after = skipOptions(rest, WRAPPER_VALUE_OPTIONS[name] ?? new Set());
        if (after.length > 1) return inner(after.slice(1), name);
        return;
      }
      case 'busybox':
      case 'toybox': {
        const after = skipOptions(rest, new Set());
        if (after.length > 0) return inner(after, name);
        return;
      }
      case 'xargs': {
        const { after, replace } = xargsCommand(rest);
        const appended = literalWord('$(xargs input)', true);
        const next = after.length > 0 ? after : [literalWord('echo')];
        const replaced = replace ? next.map((w) => (wordText(w).includes(replace) ? appended : w)) : [...next, appended];
        return inner(replaced, 'xargs', 'none');
      }
      case 'watch': {
        const after = skipOptions(rest, new Set(['-n', '--interval', '-d', '--differences', '-q', '--equexit']));
        return code(after, 'watch');
      }
      case 'flock': {
        const c = rest.findIndex((w) => ['-c', '--command'].includes(wordText(w)));
        if (c !== -1) return code(rest[c + 1] ?? literalWord(''), 'flock -c');
        const after = skipOptions(rest, new Set(['-w', '--timeout', '-E', '--conflict-exit-code']));
        if (after.length > 1) return inner(after.slice(1), 'flock');
        return;
      }
      case 'find':
        return this.findExec(rest, ctx, redirs);
      default:
        return;
    }
  }

  /** Records where `cd DIR` may have moved the shell (relative to every folder it may already be in). */
  private changeDir(rest: ShellWord[]): void {
    const dir = rest.find((w) => !isOption(w)) ?? literalWord('~');
    const text = wordText(dir);
    if (text === '-' || /^[+-]\d+$/.test(text)) {
      this.cwds.push(literalWord('$OLDPWD', true));
      return;
    }
    const relative = !text.startsWith('/') && !text.startsWith('~') && !isDynamic(dir.chars[0] === undefined ? dir : sliceChars(dir, 0, 1));
    const bases = relative ? this.cwds.slice() : [];
    this.cwds.push(dir);
    for (const base of bases) this.cwds.push(joinWords(base, dir));
  }

  /**
   * A command's operands, and the same relative operands read from each folder an earlier cd may have moved to. From a
   * folder known only at run time, an operand that names the folder itself or everything in it (`.`, `*`, `./*`) is a
   * run-time target; `build` or `src/x` are not (they cannot name a system folder).
   */
  private withCwds(words: ShellWord[], findRootsOnly: boolean): ShellPath[] {
    const targets = findRootsOnly ? words.map(toPath).filter(isPath) : targetsOf(words);
    if (this.cwds.length === 0) return targets;
    const operands = findRootsOnly ? words : operandWords(words);
    const rootsOnlyInFind = findRootsOnly && operands.length === 0 ? [literalWord('.')] : operands;
    for (const word of rootsOnlyInFind) {
      const text = wordText(word);
      if (text.startsWith('/') || text.startsWith('~') || (word.chars.length > 0 && word.dyn[0])) continue;
      for (const cwd of this.cwds) {
        const path = toPath(joinWords(cwd, word));
        if (!path) continue;
        if (path.dynamic && !/^(?:\.\/?)*(?:\*|\.)?$/.test(normalizeRelative(text))) continue;
        targets.push(path);
      }
    }
    return targets;
  }

  /** `find roots … -exec cmd {} +`: the command runs with each root (and what lies under it) in place of {}. */
  private findExec(rest: ShellWord[], ctx: Ctx, redirs: Redir[]): void {
    const roots = findRoots(rest);
    const rootWords = roots.length > 0 ? roots : [literalWord('.')];
    for (let i = 0; i < rest.length; i++) {
      const t = wordText(rest[i]);
      if (!['-exec', '-execdir', '-ok', '-okdir'].includes(t)) continue;
      let end = i + 1;
      while (end < rest.length && ![';', '+'].includes(wordText(rest[end]))) end++;
      const body = rest.slice(i + 1, end).flatMap((w) => (wordText(w) === '{}' ? rootWords : [w]));
      if (body.length > 0) this.resolve(body, { ...ctx, via: [...ctx.via, `find ${t}`] }, 'none', redirs);
      i = end;
    }
  }
}

const SUDO_VALUE_OPTIONS = new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '-R', '--user', '--group', '--host', '--prompt', '--close-from', '--chdir', '--role', '--type', '--other-user', '--command-timeout', '--chroot']);
const WRAPPER_VALUE_OPTIONS: Record<string, Set<string>> = {
  nice: new Set(['-n', '--adjustment']),
  ionice: new Set(['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid']),
  stdbuf: new Set(['-i', '-o', '-e', '--input', '--output', '--error']),
  exec: new Set(['-a']),
  time: new Set(['-f', '--format', '-o', '--output']),
  timeout: new Set(['-s', '--signal', '-k', '--kill-after']),
  chroot: new Set(['--userspec', '--groups']),
  strace: new Set(['-e', '-o', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-O', '-P', '-S', '-X']),
  ltrace: new Set(['-e', '-o', '-p', '-s', '-u', '-a', '-n', '-A', '-D', '-F', '-l', '-w']),
  firejail: new Set([]),
};

/** `base/word` as one word (the folder part keeps its run-time marks). */
function joinWords(base: ShellWord, word: ShellWord): ShellWord {
  const slash = literalWord('/');
  return {
    chars: [...base.chars, ...slash.chars, ...word.chars],
    active: [...base.active, false, ...word.active],
    dyn: [...base.dyn, false, ...word.dyn],
    procSubst: word.procSubst,
  };
}

function sliceChars(word: ShellWord, from: number, to: number): ShellWord {
  return { chars: word.chars.slice(from, to), active: word.active.slice(from, to), dyn: word.dyn.slice(from, to), procSubst: word.procSubst };
}

/** A relative operand with `./` and trailing slashes folded away (`./*` → `*`, `./` → `.`). */
function normalizeRelative(text: string): string {
  const folded = text.replace(/^(?:\.\/+)+/, '').replace(/\/+$/, '');
  return folded === '' ? '.' : folded;
}

type ArgumentRole = 'option' | 'assignment' | 'operand';

/** A command's arguments with their role: options until `--` (which is dropped), `key=value` words before it, operands. */
function* argumentRoles(words: ShellWord[]): Generator<{ word: ShellWord; text: string; role: ArgumentRole }> {
  let options = true;
  for (const word of words) {
    const text = wordText(word);
    if (options && text === '--') {
      options = false;
      continue;
    }
    if (options && text.startsWith('-') && text.length > 1 && !isDynamic(word)) yield { word, text, role: 'option' };
    else if (options && /^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) yield { word, text, role: 'assignment' };
    else yield { word, text, role: 'operand' };
  }
}

/** The operand words of a command: what targetsOf reads, without the key=value and --opt= values. */
function operandWords(words: ShellWord[]): ShellWord[] {
  const out: ShellWord[] = [];
  for (const { word, role } of argumentRoles(words)) if (role === 'operand') out.push(word);
  return out;
}

function redirectPaths(redirs: Redir[]): ShellPath[] {
  return redirs.filter(isFileRedirect).map((r) => toPath(r.word)).filter(isPath);
}

/** Not a here-document and not a descriptor copy (2>&1, <&-): `>& file` writes to the file, as bash does. */
function isFileRedirect(r: Redir): boolean {
  if (r.heredoc !== undefined || r.op === '<<' || r.op === '<<-') return false;
  return !(/&$/.test(r.op) && /^(?:\d+-?|-)$/.test(wordText(r.word)) && !isDynamic(r.word));
}

function isPath(p: ShellPath | undefined): p is ShellPath {
  return p !== undefined;
}

/** A plain word (see plainCommands) after quote removal: what the parser's literal and quoted parts give. */
function plainWord(text: string): ShellWord {
  const w = emptyWord();
  PLAIN_PART.lastIndex = 0;
  for (let part = PLAIN_PART.exec(text); part !== null && part[0] !== ''; part = PLAIN_PART.exec(text)) {
    if (part[1] !== undefined) pushUnquoted(w, part[1]);
    else push(w, part[2] ?? part[3]!, false, false);
  }
  return w;
}

function literalWord(text: string, dyn = false): ShellWord {
  const w = emptyWord();
  push(w, text, false, dyn);
  return w;
}

function isOption(w: ShellWord): boolean {
  const t = wordText(w);
  return t.length > 1 && t.startsWith('-') && !isDynamic(w);
}

function afterEquals(w: ShellWord): ShellWord {
  const i = w.chars.indexOf('=');
  return { chars: w.chars.slice(i + 1), active: w.active.slice(i + 1), dyn: w.dyn.slice(i + 1), procSubst: w.procSubst };
}

/** The words after a wrapper's options; `valueOptions` take the next word as their value (`-u root`). */
function skipOptions(words: ShellWord[], valueOptions: Set<string>): ShellWord[] {
  let i = 0;
  while (i < words.length) {
    const t = wordText(words[i]);
    if (t === '--') return words.slice(i + 1);
    if (!t.startsWith('-') || t === '-' || isDynamic(words[i])) break;
    i += valueOptions.has(t) ? 2 : 1;
  }
  return words.slice(i);
}

/** The code of `sh -c CODE` (undefined when the shell gets no -c; 'missing' for -c without code). */
function shellCodeArg(words: ShellWord[]): ShellWord | undefined | 'missing' {
  for (let i = 0; i < words.length; i++) {
    const t = wordText(words[i]);
    if (t === '--' || (!t.startsWith('-') && !t.startsWith('+'))) return undefined;
    if (/^[-+]o$/.test(t)) {
      i++;
      continue;
    }
    if (!/^-[a-zA-Z]*c[a-zA-Z]*$/.test(t)) continue;
    for (let j = i + 1; j < words.length; j++) {
      const u = wordText(words[j]);
      if (/^[-+]o$/.test(u)) j++;
      else if (u === '--') return words[j + 1] ?? 'missing';
      else if (!(u.length > 1 && /^[-+]/.test(u) && !isDynamic(words[j]))) return words[j];
    }
    return 'missing';
  }
  return undefined;
}

/** find's starting points: its arguments before the first expression word. */
function findRoots(words: ShellWord[]): ShellWord[] {
  let i = 0;
  while (i < words.length && /^-[HLP]$|^-O\d*$|^-D$/.test(wordText(words[i]))) i += wordText(words[i]) === '-D' ? 2 : 1;
  const roots: ShellWord[] = [];
  for (; i < words.length; i++) {
    const t = wordText(words[i]);
    if ((t.startsWith('-') && t.length > 1) || t === '(' || t === '!' || t === ',') break;
    roots.push(words[i]);
  }
  return roots;
}

function xargsCommand(words: ShellWord[]): { after: ShellWord[]; replace?: string } {
  const valued = new Set(['-a', '--arg-file', '-d', '--delimiter', '-E', '-e', '-I', '-L', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars']);
  let replace: string | undefined;
  let i = 0;
  while (i < words.length) {
    const t = wordText(words[i]);
    if (t === '--') {
      i++;
      break;
    }
    if (!t.startsWith('-') || t === '-') break;
    if (t === '-I') replace = wordText(words[i + 1] ?? literalWord(''));
    else if (t.startsWith('-I')) replace = t.slice(2);
    else if (t === '-i' || t === '--replace') replace = '{}';
    else if (t.startsWith('-i')) replace = t.slice(2);
    else if (t.startsWith('--replace=')) replace = t.slice('--replace='.length);
    i += valued.has(t) ? 2 : 1;
  }
  return { after: words.slice(i), replace: replace || undefined };
}

/** Operands: arguments that are not options (every one after --), and the values of key=value and --opt=/path. */
function targetsOf(words: ShellWord[]): ShellPath[] {
  const out: ShellPath[] = [];
  for (const { word, text, role } of argumentRoles(words)) {
    if (role === 'operand') addPath(out, word);
    else if (role === 'assignment' || /^[/~.$]/.test(text.slice(text.indexOf('=') + 1))) {
      if (text.includes('=')) addPath(out, afterEquals(word));
    }
  }
  return out;
}

function addPath(out: ShellPath[], w: ShellWord): void {
  const p = toPath(w);
  if (p) out.push(p);
}

function describeParseError(error: unknown): string {
  const e = error as { Error?: () => string; message?: string };
  const text = typeof e?.Error === 'function' ? e.Error() : e instanceof Error ? e.message : String(error);
  return text.replace(/^command:/, 'at ').slice(0, 200);
}

function pipesIntoShell(commands: ShellCommand[]): boolean {
  return commands.some((c) => (SHELLS.has(c.name) || c.name === 'source' || c.name === '.') && (c.input === 'pipe' || c.input === 'process'));
}

/** Quoted here-document bodies (`<<'EOF' … EOF`) are one literal for the parser. */
const QUOTED_HEREDOC = /<<-?[ \t]*(['"])([A-Za-z0-9_.-]+)\1[^\n]*\n[\s\S]*?(?:\n[ \t]*\2[ \t]*(?=\n|$)|$)/g;
// A quoted string is one literal for the parser unless $ or ` opens an expansion in it: those are counted on.
const TOKEN = /'[^']*'|"(?:[^"\\$`]|\\[\s\S])*"?|[^\s;&|()<>`$"'\\]+|\S/g;

/** An upper bound on the number of words and operators the parser will see, counted without parsing. */
export function shellTokenCount(text: string): number {
  const outside = text.replace(QUOTED_HEREDOC, ' x ');
  let count = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.exec(outside) !== null) if (++count > MAX_SHELL_TOKENS) break;
  return count;
}

/**
 * One token of a plain command line: an operator that joins commands, or a word of plain characters and quoted strings
 * with nothing the shell expands in them (no `$`, backquote, backslash or newline).
 */
const PLAIN_TOKEN = /[ \t]*(?:(\|\||&&|[|;])|((?:[A-Za-z0-9_.\/:@%+,=-]+|'[^'\n]*'|"[^"$`\\\n]*")+))/y;
/** The parts of a plain word: unquoted characters, a single-quoted string, a double-quoted string. */
const PLAIN_PART = /([A-Za-z0-9_.\/:@%+,=-]+)|'([^'\n]*)'|"([^"$`\\\n]*)"/y;
const TRAILING_BLANKS = /[ \t]*$/y;
/** Words the parser reads as syntax, not as a command, when they come first. */
const RESERVED = new Set(['if', 'then', 'elif', 'else', 'fi', 'for', 'in', 'do', 'done', 'while', 'until', 'case', 'esac', 'select', 'function', 'time', 'coproc', 'declare', 'local', 'export', 'readonly', 'typeset', 'nameref', 'let']);

/** One command of a plain command line, and whether a `|` comes right before it. */
export interface PlainCommand {
  words: string[];
  piped: boolean;
}

/**
 * The commands of a command line made only of plain words joined by `|`, `&&`, `||` and `;` (`git status --short`,
 * `npm run build && npm test`, `git commit -m "fix the parser"`), or undefined for anything else. Plain words have
 * no escapes, `$`, globs, braces, `~`, `#`, redirections or parentheses outside quotes, and no `$`, backquote,
 * backslash or newline inside them, so the parser's tree for such a line is one call per command, each word literal
 * and quoted parts, and the view is built from the words without loading the parser. A command whose first word is
 * reserved or has "=" (an assignment), an empty command, a lone `&` or `|&` and a trailing operator go to the parser.
 * test/hardening-shell-plain-words.test.ts checks this against the parser.
 */
export function plainCommands(text: string): PlainCommand[] | undefined {
  const commands: PlainCommand[] = [];
  let words: string[] = [];
  let piped = false;
  let operator = false;
  PLAIN_TOKEN.lastIndex = 0;
  while (PLAIN_TOKEN.lastIndex < text.length) {
    const at = PLAIN_TOKEN.lastIndex;
    const token = PLAIN_TOKEN.exec(text);
    if (token === null) {
      TRAILING_BLANKS.lastIndex = at;
      TRAILING_BLANKS.exec(text);
      if (TRAILING_BLANKS.lastIndex !== text.length) return undefined;
      break;
    }
    if (token[2] !== undefined) {
      words.push(token[2]);
      operator = false;
      continue;
    }
    if (words.length === 0) return undefined; // an operator with no command before it
    commands.push({ words, piped });
    words = [];
    piped = token[1] === '|';
    operator = true;
  }
  if (operator) return undefined;
  if (words.length > 0) commands.push({ words, piped });
  for (const command of commands) {
    const first = command.words[0]!;
    if (first.includes('=') || RESERVED.has(first)) return undefined;
  }
  return commands;
}

/**
 * Parses a command line into the view rules match (see SHELL_SCHEMA). Throws for text the parser rejects or that is too
 * long. `parserOnly` sends plain words through the parser too (to check that both give the same view).
 */
export function parseShell(text: string, options: { parserOnly?: boolean } = {}): ShellView {
  if (text.length > MAX_SHELL_LENGTH) throw new Error(`the command line is ${text.length} characters, longer than the ${MAX_SHELL_LENGTH} the shell view parses`);
  const analyzer = new ShellAnalyzer(loadShellParser, options.parserOnly !== true);
  try {
    analyzer.analyze(text, { depth: 0, via: [] });
  } catch (error) {
    if (error instanceof RangeError) throw new Error('the command line is nested too deeply to parse');
    throw error;
  }
  const commands = analyzer.commands;
  return {
    commands,
    paths: [...commands.flatMap((c) => [...c.targets, ...c.redirects.map((r) => r.target)]), ...analyzer.loosePaths],
    functions: analyzer.functions,
    pipesIntoShell: pipesIntoShell(commands),
    dynamic: analyzer.dynamic,
  };
}

export const shellView: ParsedView = { kind: 'shell', schema: SHELL_SCHEMA, parse: parseShell };

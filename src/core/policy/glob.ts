/**
 * Globs match the whole value. `*` is any run of characters except `/`, `**` any run including `/`,
 * `?` one character except `/`, `[abc]` / `[!abc]` a class, `{a,b}` alternatives, `\` escapes.
 * Dots are ordinary characters, so `kb.*` matches `kb.search` and `kb.search.v2` but not `xkb.search`.
 *
 * Matching runs a Thompson NFA over the value, so it takes time linear in the value's length times the glob's,
 * whatever the glob: compiled to a backtracking regex, `*a*a*a*a*a*b` took 17 s on 100 characters.
 */
export interface GlobMatcher {
  test(text: string): boolean;
}

/** True when the glob has no special characters, so it can be matched with `===`. */
export function isLiteralGlob(glob: string): boolean {
  return !/[*?[\]{}\\]/.test(glob);
}

type CharTest = (code: number) => boolean;
type Node = { kind: 'char'; test: CharTest } | { kind: 'star'; test: CharTest } | { kind: 'alt'; options: Node[][] };

const SLASH = 0x2f;
const notSlash: CharTest = (c) => c !== SLASH;
const anyChar: CharTest = () => true;

/** Parses a glob; throws an Error that says what is wrong with it. */
function parse(glob: string): Node[] {
  const root: Node[] = [];
  const groups: Array<{ options: Node[][]; parent: Node[] }> = [];
  let seq = root;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      i++;
      if (i >= glob.length) throw new Error('the glob ends with a lone backslash');
      seq.push(literal(glob.charCodeAt(i)));
    } else if (ch === '*') {
      if (glob[i + 1] === '*') {
        while (glob[i + 1] === '*') i++;
        seq.push({ kind: 'star', test: anyChar });
      } else seq.push({ kind: 'star', test: notSlash });
    } else if (ch === '?') seq.push({ kind: 'char', test: notSlash });
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new Error(`unclosed "[" at position ${i}`);
      seq.push({ kind: 'char', test: charClass(glob.slice(i + 1, end)) });
      i = end;
    } else if (ch === '{') {
      const group = { options: [[]] as Node[][], parent: seq };
      groups.push(group);
      seq = group.options[0];
    } else if (ch === '}' && groups.length > 0) {
      const group = groups.pop()!;
      seq = group.parent;
      seq.push({ kind: 'alt', options: group.options });
    } else if (ch === ',' && groups.length > 0) {
      const group = groups[groups.length - 1];
      group.options.push((seq = []));
    } else seq.push(literal(glob.charCodeAt(i)));
  }
  if (groups.length !== 0) throw new Error('unclosed "{" in the glob');
  return root;
}

function literal(code: number): Node {
  return { kind: 'char', test: (c) => c === code };
}

/** `[abc]`, `[!a-z]`, `[^…]`: one UTF-16 unit tested by a one-character regex (so ranges mean what they mean in a regex). */
function charClass(raw: string): CharTest {
  let body = raw;
  const negate = body.startsWith('!') || body.startsWith('^');
  if (negate) body = body.slice(1);
  const re = new RegExp(`^[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]$`, 's');
  return (c) => re.test(String.fromCharCode(c));
}

/** NFA states: `test` consumes one unit and goes to `out`; a split (no test) goes to every state in `next` at once. */
interface State {
  test?: CharTest;
  out: number;
  next?: number[];
}

const MATCH = -1;

function build(nodes: Node[], states: State[], next: number): number {
  let target = next;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.kind === 'char') {
      states.push({ test: node.test, out: target });
      target = states.length - 1;
    } else if (node.kind === 'star') {
      const loop = states.push({ out: MATCH, next: [] }) - 1;
      const step = states.push({ test: node.test, out: loop }) - 1;
      states[loop].next = [step, target];
      target = loop;
    } else {
      const starts = node.options.map((option) => build(option, states, target));
      target = states.push({ out: MATCH, next: starts }) - 1;
    }
  }
  return target;
}

/** Compiles a glob into a matcher of whole values. Throws an Error for an invalid glob. */
export function compileGlob(glob: string): GlobMatcher {
  const states: State[] = [];
  const start = build(parse(glob), states, MATCH);
  return {
    test(text: string): boolean {
      // Each state enters a step's set once (marked with the step's generation): linear in text × glob.
      const mark = new Int32Array(states.length);
      let generation = 1;
      let accepted = false;
      const add = (list: number[], state: number): void => {
        if (state === MATCH) {
          accepted = true;
          return;
        }
        if (mark[state] === generation) return;
        mark[state] = generation;
        const s = states[state];
        if (s.next) for (const n of s.next) add(list, n);
        else list.push(state);
      };
      let current: number[] = [];
      add(current, start);
      for (let i = 0; i < text.length; i++) {
        if (current.length === 0) return false;
        generation++;
        accepted = false;
        const code = text.charCodeAt(i);
        const next: number[] = [];
        for (const state of current) if (states[state].test!(code)) add(next, states[state].out);
        current = next;
      }
      return accepted;
    },
  };
}

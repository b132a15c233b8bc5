/**
 * Globs match the whole value. `*` is any run of characters except `/`, `**` any run including `/`,
 * `?` one character except `/`, `[abc]` / `[!abc]` a class, `{a,b}` alternatives, `\` escapes.
 * Dots are ordinary characters, so `kb.*` matches `kb.search` and `kb.search.v2` but not `xkb.search`.
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^(?:${globToSource(glob)})$`, 's');
}

/** True when the glob has no special characters, so it can be matched with `===`. */
export function isLiteralGlob(glob: string): boolean {
  return !/[*?[\]{}\\]/.test(glob);
}

function escape(ch: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(ch) ? `\\${ch}` : ch;
}

function globToSource(glob: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '\\') {
      i++;
      if (i >= glob.length) throw new Error('the glob ends with a lone backslash');
      out += escape(glob[i]);
    } else if (ch === '*') {
      if (glob[i + 1] === '*') {
        while (glob[i + 1] === '*') i++;
        out += '.*';
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new Error(`unclosed "[" at position ${i}`);
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else if (ch === '{') {
      depth++;
      out += '(?:';
    } else if (ch === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (ch === ',' && depth > 0) out += '|';
    else out += escape(ch);
  }
  if (depth !== 0) throw new Error('unclosed "{" in the glob');
  return out;
}

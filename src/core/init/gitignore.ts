/** The .gitignore line that keeps the runtime data folder (database, keys) out of git. */
export function ignoreLine(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}/`;
}

/** True when some line of a .gitignore already ignores `dataDir` at the project root (`.agentguard`, `/.agentguard/`, `.agentguard/**`…). */
export function ignoresDataDir(gitignore: string, dataDir: string): boolean {
  const name = dataDir.replace(/^\/+|\/+$/g, '');
  const forms = new Set([name, `${name}/`, `${name}/*`, `${name}/**`].flatMap((f) => [f, `/${f}`]));
  return gitignore.split(/\r?\n/).some((line) => forms.has(line.trim()));
}

/**
 * The text to append to a .gitignore so that it ignores `dataDir`, or undefined when it already does.
 * Keeps the file's line endings and adds the missing final newline of the last line first.
 *
 * @example
 * gitignoreAddition('node_modules/\n', '.agentguard') // → '\n# agentguard: local database and keys\n.agentguard/\n'
 */
export function gitignoreAddition(existing: string | undefined, dataDir: string): string | undefined {
  const text = existing ?? '';
  if (ignoresDataDir(text, dataDir)) return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lead = text === '' || text.endsWith('\n') ? '' : eol;
  return `${lead}${text === '' ? '' : eol}# agentguard: local database and keys${eol}${ignoreLine(dataDir)}${eol}`;
}

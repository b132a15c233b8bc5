/** A tool of another server, as the store knows it. */
export interface OtherTool {
  server: string;
  tool: string;
}

/** The tools of other servers with this tool's name: a client that merges tool lists may call the wrong one. */
export function sameNameTools(tool: string, others: readonly OtherTool[]): string[] {
  return others.filter((o) => o.tool === tool).map((o) => `${o.server}.${o.tool}`);
}

/**
 * A name distinctive enough that its appearance in another tool's text is a reference, not an ordinary word: it has a
 * separator or an inner capital (`send_email`, `read-file`, `createIssue`). Plain words (`search`, `fetch`) are
 * left out: every description uses them.
 */
function distinctive(name: string): boolean {
  return /[_\-.]/.test(name) || /[a-z][A-Z]/.test(name);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The tools of other servers that these texts name (by a distinctive tool name, or as `<server>.<tool>`): a tool
 * whose description gives instructions about another server's tools is shadowing them.
 */
export function mentionedTools(texts: readonly string[], others: readonly OtherTool[]): string[] {
  const found = new Set<string>();
  const text = texts.join('\n');
  for (const other of others) {
    const qualified = `${other.server}.${other.tool}`;
    const names = distinctive(other.tool) ? [qualified, other.tool] : [qualified];
    if (names.some((name) => new RegExp(`(?<![A-Za-z0-9_\\-.])${escape(name)}(?![A-Za-z0-9_\\-])`).test(text))) found.add(qualified);
  }
  return [...found];
}

import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { isAgentGuardError } from '../../core/errors.js';
import { formatAttributes } from '../../core/tokens/attributes.js';
import { formatScope } from '../../core/tokens/scope.js';
import type { TokenInfo } from '../../core/tokens/types.js';
import { renderTable } from '../../cli/table.js';

/** One token as listed: never the token or its hash. Times are ISO 8601 UTC; `lastUsedAt` is accurate to a minute. */
export interface TokenListEntry {
  id: string;
  scope: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  /** The Action fields the token vouches for, by path (`agent.role`, `context.env`); {} when none. */
  attributes: Record<string, string>;
}

/** `--json` output: every token, oldest first. */
export type TokenListResult = TokenListEntry[];

const messages = {
  summary: 'List the sidecar\'s API tokens: id, scope, name, attributes, when created and last used, and whether revoked.',
  description: 'Tokens themselves are never shown (only their hashes are stored). "Last used" is updated at most once a minute per token.',
  none: (dataDir: string) => `No API tokens in ${dataDir}. Create one with \`agentguard token create --agent <id>\` or \`--admin\`.`,
};

export default class TokenList extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'All tokens', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Tokens not used for a while, with jq', command: '<%= config.bin %> <%= command.id %> --json | jq \'.[] | select(.revoked | not) | [.id, .lastUsedAt]\'' },
  ];

  static flags = { ...dataDirFlag };

  async run(): Promise<TokenListResult> {
    const { flags } = await this.parse(TokenList);
    const dataDir = await resolveDataDir(flags['data-dir']);
    const { openStore } = await import('../../core/store/open-store.js');
    let tokens: TokenInfo[] = [];
    try {
      const store = await openStore({ dataDir, create: false });
      try {
        tokens = await store.tokens.list();
      } finally {
        await store.close();
      }
    } catch (error) {
      // No database yet means no tokens yet, not an error.
      if (!(isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND')) throw error;
    }
    const result = tokens.map(toEntry);
    if (!this.jsonEnabled()) {
      if (result.length === 0) this.note(messages.none(dataDir));
      else process.stdout.write(renderTokenTable(result));
    }
    return result;
  }
}

function toEntry(t: TokenInfo): TokenListEntry {
  return { id: t.id, scope: formatScope(t.scope), name: t.name, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, revoked: t.revokedAt !== null, revokedAt: t.revokedAt, attributes: { ...t.attributes } };
}

function minute(iso: string | null): string {
  return iso === null ? 'never' : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function renderTokenTable(entries: TokenListEntry[]): string {
  const heading = ['ID', 'SCOPE', 'NAME', 'ATTRIBUTES', 'CREATED (UTC)', 'LAST USED', 'STATUS'];
  const rows = entries.map((e) => [e.id, e.scope, e.name ?? '-', formatAttributes(e.attributes) || '-', minute(e.createdAt), minute(e.lastUsedAt), e.revoked ? `revoked ${minute(e.revokedAt)}` : 'active']);
  return renderTable(heading, rows, { rowPaint: (i) => (entries[i].revoked ? paint.dim : undefined) });
}

import { Args } from '@oclif/core';
import { dataDirFlag, resolveDataDir } from '../../cli/data-dir.js';
import { BaseCommand } from '../../cli/base-command.js';
import { paint } from '../../cli/style.js';
import { AgentGuardError, isAgentGuardError } from '../../core/errors.js';
import { formatScope } from '../../core/tokens/scope.js';
import { isTokenId, isWellFormedToken, TOKEN_PREFIX } from '../../core/tokens/token-format.js';
import { revokeToken } from '../../core/tokens/tokens.js';
import type { RevokeOutcome } from '../../core/tokens/types.js';

/** `--json` output: the revoked token's id and scope, when it was revoked, and whether it already was before this call. */
export interface TokenRevokeResult {
  id: string;
  scope: string;
  revokedAt: string;
  alreadyRevoked: boolean;
}

// Messages never repeat the argument when it could be a token (or part of one): errors end up in terminals and logs.
const messages = {
  summary: 'Revoke an API token: a running sidecar refuses it within a second.',
  description: `Takes the token id from \`agentguard token list\` (tok_…). For a leaked token whose id you do not have, pass the token itself: it is looked up by its hash.

Revoking is permanent and idempotent: revoking a revoked token changes nothing and says so. Exit codes: 0 revoked (now or before); 1 no such token; 2 the argument is not a token id or token.`,
  revoked: (id: string, scope: string) => `Revoked token ${id} (scope ${scope}).`,
  already: (id: string, at: string) => `Token ${id} was already revoked at ${at}; nothing changed.`,
  notFoundId: (id: string, dataDir: string) => `no token with id ${id} in ${dataDir}`,
  notFoundToken: (dataDir: string) => `the token given is not one of the tokens in ${dataDir}`,
  notFoundActions: ['List the tokens with `agentguard token list` and copy the id from there.', 'If the tokens live in another data folder, pass --data-dir <folder>.'],
  partialToken: `the argument starts with "${TOKEN_PREFIX}" but is not a whole token (it is not shown here, since it may be part of a secret)`,
  notAnId: 'the argument is not a token id: ids are "tok_" followed by 12 hex digits (e.g. tok_3f9a0c1b2d4e)',
};

export default class TokenRevoke extends BaseCommand {
  static summary = messages.summary;
  static description = messages.description;
  static examples = [
    { description: 'Revoke a token by id', command: '<%= config.bin %> <%= command.id %> tok_3f9a0c1b2d4e' },
    { description: 'Revoke a leaked token found by a secret scanner, read from a variable', command: '<%= config.bin %> <%= command.id %> "$LEAKED_TOKEN"' },
  ];

  static args = {
    id: Args.string({ required: true, description: 'The token id (tok_…) from `agentguard token list`, or the token itself.' }),
  };

  static flags = { ...dataDirFlag };

  async run(): Promise<TokenRevokeResult> {
    const { args, flags } = await this.parse(TokenRevoke);
    const isToken = isWellFormedToken(args.id);
    if (!isToken && !isTokenId(args.id)) {
      throw new AgentGuardError('TOKEN_ID_INVALID', args.id.startsWith(TOKEN_PREFIX) ? messages.partialToken : messages.notAnId, {
        actions: messages.notFoundActions,
      });
    }
    const dataDir = await resolveDataDir(flags['data-dir']);
    const { openStore } = await import('../../core/store/open-store.js');
    let outcome: RevokeOutcome = { status: 'not_found' };
    try {
      const store = await openStore({ dataDir, create: false });
      try {
        outcome = await revokeToken(store.tokens, args.id);
      } finally {
        await store.close();
      }
    } catch (error) {
      // No database yet: there are no tokens to revoke, reported as not found below.
      if (!(isAgentGuardError(error) && error.code === 'STORE_NOT_FOUND')) throw error;
    }
    if (outcome.status === 'not_found') {
      throw new AgentGuardError('TOKEN_NOT_FOUND', isToken ? messages.notFoundToken(dataDir) : messages.notFoundId(args.id, dataDir), {
        actions: messages.notFoundActions,
      });
    }
    const { token } = outcome;
    const result: TokenRevokeResult = { id: token.id, scope: formatScope(token.scope), revokedAt: token.revokedAt!, alreadyRevoked: outcome.status === 'already_revoked' };
    if (!this.jsonEnabled()) {
      process.stdout.write(
        result.alreadyRevoked ? `${messages.already(result.id, result.revokedAt)}\n` : `${paint.green(messages.revoked(result.id, result.scope))}\n`,
      );
    }
    return result;
  }
}

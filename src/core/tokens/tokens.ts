import { AgentGuardError } from '../errors.js';
import { attributePathProblem, type TokenAttributes } from './attributes.js';
import type { TokenScope } from './scope.js';
import { generateToken, generateTokenId, hashToken, isTokenId, isWellFormedToken } from './token-format.js';
import type { RevokeOutcome, TokenInfo, TokenStore } from './types.js';

/** Longest token name (a label for people; never used for authorisation). */
export const MAX_TOKEN_NAME_LENGTH = 200;

/** A token just created: the only time the token text exists outside the caller's hands. */
export interface CreatedToken {
  token: string;
  info: TokenInfo;
}

/**
 * Creates a token for `scope` and stores only its hash. The returned token text must be shown to the user once and
 * then dropped: it cannot be recovered later.
 *
 * @example
 * const { token, info } = await createToken(store.tokens, { scope: { kind: 'agent', agentId: 'support-bot' } });
 */
export async function createToken(
  tokens: TokenStore,
  options: { scope: TokenScope; name?: string; now?: Date; attributes?: TokenAttributes },
): Promise<CreatedToken> {
  const name = options.name === undefined ? null : checkName(options.name);
  const attributes = checkAttributes(options.scope, options.attributes ?? {});
  const createdAt = (options.now ?? new Date()).toISOString();
  // Ids have 48 random bits: a collision is unlikely but would be a constraint error, so try again with fresh values.
  for (let attempt = 1; ; attempt++) {
    const token = generateToken();
    const info: TokenInfo = { id: generateTokenId(), scope: options.scope, name, createdAt, lastUsedAt: null, revokedAt: null, attributes };
    try {
      await tokens.insert({ ...info, hash: hashToken(token) });
      return { token, info };
    } catch (error) {
      if (attempt >= 3 || !isConstraintError(error)) throw error;
    }
  }
}

/**
 * Revokes a token, named by its id or (for a leaked token whose id is not at hand) by the token itself. Revoking a
 * revoked token changes nothing and says so. The token text never appears in what this returns or throws.
 */
export async function revokeToken(tokens: TokenStore, idOrToken: string, now: Date = new Date()): Promise<RevokeOutcome> {
  let id = idOrToken;
  if (isWellFormedToken(idOrToken)) {
    const stored = await tokens.findByHash(hashToken(idOrToken));
    if (stored === null) return { status: 'not_found' };
    id = stored.id;
  } else if (!isTokenId(idOrToken)) {
    return { status: 'not_found' };
  }
  return tokens.revoke(id, now.toISOString());
}

function checkName(name: string): string {
  let problem: string | null = null;
  if (name.trim() === '') problem = 'it is empty';
  else if (name.length > MAX_TOKEN_NAME_LENGTH) problem = `it is ${name.length} characters long; the limit is ${MAX_TOKEN_NAME_LENGTH}`;
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(name)) problem = 'it contains control characters';
  if (problem === null) return name;
  throw new AgentGuardError('TOKEN_NAME_INVALID', `--name cannot be used: ${problem}`, {
    actions: [`Pass a short label on one line, up to ${MAX_TOKEN_NAME_LENGTH} characters, e.g. --name "support-bot prod".`],
  });
}

/** Attributes are for agent tokens: an admin acts for any agent and an approver for none, so there is nothing to bind. */
function checkAttributes(scope: TokenScope, attributes: TokenAttributes): TokenAttributes {
  const paths = Object.keys(attributes);
  if (paths.length === 0) return {};
  if (scope.kind !== 'agent') {
    throw new AgentGuardError('TOKEN_ATTRIBUTE_INVALID', `--attr binds fields of an agent's actions; an ${scope.kind} token has no agent to bind them for`, {
      actions: ['Use --attr with --agent <id>.'],
    });
  }
  for (const path of paths) {
    const problem = attributePathProblem(path);
    if (problem !== null) throw new AgentGuardError('TOKEN_ATTRIBUTE_INVALID', `attribute ${path.slice(0, 80)} cannot be bound: ${problem}`);
  }
  return { ...attributes };
}

function isConstraintError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('SQLITE_CONSTRAINT');
}

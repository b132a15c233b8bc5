/**
 * The one JSON shape of an error, printed by `--json` commands on stdout and answered by the sidecar:
 * `{ "error": { "code", "message", "actions", "details"? } }`. `actions` is always a list (maybe empty);
 * `details` holds what more there is to say (a validation's `problems`, a size `limit`).
 */
export interface ErrorBody {
  error: { code: string; message: string; actions: string[]; details?: Record<string, unknown> };
}

/** Builds an ErrorBody; `details` is left out when there is none. */
export function errorBody(code: string, message: string, actions: readonly string[], details?: Record<string, unknown>): ErrorBody {
  const error: ErrorBody['error'] = { code, message, actions: [...actions] };
  if (details !== undefined && Object.keys(details).length > 0) error.details = details;
  return { error };
}

/** JSON Schema of ErrorBody: the sidecar's ErrorResponse (OpenAPI) and what tests check CLI `--json` errors against. */
export const errorBodyJsonSchema = {
  type: 'object',
  description:
    'Every error has this shape, from the sidecar and from `--json` commands. `code` is listed in docs/errors.md; `actions` says what to do next; `details` is present when there is more to say (a validation\'s problems, a limit).',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'actions'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', description: 'Stable, machine-readable code, e.g. INVALID_REQUEST, UNAUTHORIZED, AGENT_MISMATCH (docs/errors.md).' },
        message: { type: 'string', description: 'What went wrong, and where.' },
        actions: { type: 'array', items: { type: 'string' }, description: 'What to do next, most useful first (may be empty).' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

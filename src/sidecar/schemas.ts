import { EFFECTS } from '../core/action.js';
import { actionSchema, decisionSchema, previewSchema } from '../core/contracts/decision-schema.js';
import { RECORD_TYPES } from '../core/audit/filters.js';
import type { AuditRecord } from '../core/audit/types.js';
import type { Agree, MustBeTrue } from '../core/contracts/type-agreement.js';
import { errorBodyJsonSchema } from '../core/errors/body.js';

/**
 * JSON Schemas of the sidecar's HTTP API. Request schemas validate (ajv, unknown fields rejected); response schemas
 * serialize (fast-json-stringify, so undeclared fields never leak) and feed the OpenAPI document.
 *
 * Shared schemas carry a short `$id` (`Action`, `Decision`, …): routes refer to them as `{ $ref: 'Decision#' }`, and
 * they appear under those names in `components.schemas` of `/openapi.json`.
 */

/** Longest decision id accepted in a path (`dec_` and 32 hex digits today). */
const MAX_ID_LENGTH = 128;
/** Longest audit filter value accepted in a query string. */
const MAX_FILTER_LENGTH = 256;

/** The Action as a request body: `actionSchema` from core, named for OpenAPI. */
export const actionRequestSchema = { ...actionSchema, $id: 'Action' } as const;

/** The Decision (from core, the one definition of it), named for OpenAPI. */
export const decisionResponseSchema = { ...decisionSchema, $id: 'Decision' } as const;

/** The answer of POST /v1/preview (core's Preview schema), its decision referring to the shared Decision. */
export const previewResponse = {
  type: previewSchema.type,
  description: 'A decision that was not recorded, and how much text a stream of such actions must hold back.',
  required: previewSchema.required,
  additionalProperties: previewSchema.additionalProperties,
  properties: { ...previewSchema.properties, decision: { $ref: 'Decision#' } },
} as const;

/** The one error shape of agentguard (src/core/errors/body.ts), shared with the CLI's `--json` errors. */
export const errorResponseSchema = { $id: 'ErrorResponse', ...errorBodyJsonSchema } as const;

export const auditRecordSchema = {
  $id: 'AuditRecord',
  type: 'object',
  required: ['seq', 'time', 'type', 'agentId', 'decisionId', 'effect', 'rules', 'data', 'prevHash', 'hash'],
  additionalProperties: false,
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string' },
    type: { type: 'string', enum: [...RECORD_TYPES] },
    agentId: { type: ['string', 'null'] },
    decisionId: { type: ['string', 'null'] },
    effect: { type: ['string', 'null'] },
    rules: { type: 'array', items: { type: 'string' } },
    data: { type: 'object', additionalProperties: true },
    prevHash: { type: 'string' },
    hash: { type: 'string' },
    chain: { type: 'string', description: 'The instance chain of the record, when the store holds several (PostgreSQL); seq is per chain.' },
  },
} as const;

/** Shared schemas, added to the app once with `addSchema`. */
export const sharedSchemas = [actionRequestSchema, decisionResponseSchema, errorResponseSchema, auditRecordSchema] as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: malformed JSON, an unknown or missing field, a value of the wrong type or size, JSON nested too deeply',
  401: 'Missing, invalid or revoked bearer token',
  403: 'The token may not do this (wrong scope or another agent)',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body larger than the limit',
  415: 'Content type is not application/json',
  422: 'The new policy is invalid; the previous policy stays in force',
  500: 'Internal error (details are in the sidecar log)',
  503: 'A dependency (token store, audit store) is unavailable',
};

/** Response schemas of error status codes, each the ErrorResponse shape. */
export function errorResponses(...codes: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const code of [...codes, 500]) out[code] = { description: ERROR_DESCRIPTIONS[code], $ref: 'ErrorResponse#' };
  return out;
}

/** The error codes of every authenticated route, plus any listed. */
export function authedErrors(...codes: number[]): Record<number, unknown> {
  return errorResponses(401, 403, 503, ...codes);
}

/** A body that must be a JSON object with no properties at all (or absent). */
export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

export const decideBody = {
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: { action: { $ref: 'Action#' } },
} as const;

export const decisionIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, description: 'The `id` of a Decision.' } },
} as const;

function tokenCount(description: string) {
  return { type: 'integer', minimum: 0, maximum: 1_000_000_000, description } as const;
}

export const outcomeBody = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ok', 'error'], description: 'Whether the action ran successfully.' },
    durationMs: { type: 'number', minimum: 0, maximum: 86_400_000 * 365, description: 'How long the action ran.' },
    error: { type: 'string', maxLength: 4096, description: 'What went wrong; secrets in it are masked before it is recorded.' },
    usage: {
      type: 'object',
      additionalProperties: false,
      description: 'Tokens an LLM call used, by kind, as the provider reported them.',
      properties: {
        model: { type: 'string', minLength: 1, maxLength: 256, description: 'The model that served the call.' },
        inputTokens: tokenCount('Prompt tokens not read from a cache.'),
        outputTokens: tokenCount('Completion tokens, reasoning included.'),
        cacheReadInputTokens: tokenCount('Prompt tokens read from the prompt cache.'),
        cacheCreationInputTokens: tokenCount('Prompt tokens written to the prompt cache.'),
        cacheCreation1hInputTokens: tokenCount('Of cacheCreationInputTokens, those written with a 1-hour lifetime.'),
        reasoningTokens: tokenCount('Output tokens spent on hidden reasoning (part of outputTokens).'),
        estimated: { type: 'boolean', description: 'True when the tokens were counted by the client because the provider never reported them.' },
      },
    },
  },
} as const;

const filter = (description: string) => ({ type: 'string', minLength: 1, maxLength: MAX_FILTER_LENGTH, description });

/** Query string of GET /v1/audit: the filters of `agentguard audit query`, as strings checked by parseAuditFilters. */
export const auditQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent: filter('Only records of this agent. Agent tokens always see only their own agent.'),
    effect: { type: 'string', enum: [...EFFECTS], description: 'Only decisions with this effect.' },
    rule: filter('Only decisions this rule took part in.'),
    type: { type: 'string', enum: [...RECORD_TYPES], description: 'Only records of this type.' },
    since: filter('Inclusive start: ISO 8601 (2025-01-31, 2025-01-31T14:00:00Z) or a duration back from now (30s, 15m, 2h, 7d).'),
    until: filter('Exclusive end, in the same forms as since.'),
    limit: { type: 'string', pattern: '^[0-9]{1,6}$', description: 'At most this many records, newest first (default 100, at most 1000).' },
  },
} as const;

export const auditQueryResponse = {
  type: 'object',
  required: ['records'],
  additionalProperties: false,
  properties: { records: { type: 'array', items: { $ref: 'AuditRecord#' }, description: 'Newest first.' } },
} as const;

export const verifyResponse = {
  type: 'object',
  required: ['ok', 'records', 'checkpoints', 'problems'],
  additionalProperties: false,
  properties: {
    ok: { type: 'boolean' },
    records: { type: 'integer' },
    checkpoints: { type: 'integer' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['seq', 'kind', 'message'],
        additionalProperties: false,
        properties: { seq: { type: 'integer' }, kind: { type: 'string' }, message: { type: 'string' } },
      },
    },
    omittedProblems: { type: 'integer' },
    notes: { type: 'array', items: { type: 'string' } },
  },
} as const;

const reloadStatus = {
  type: 'object',
  required: ['ok', 'at'],
  additionalProperties: false,
  properties: {
    ok: { type: 'boolean' },
    at: { type: 'string', description: 'When the reload was attempted (ISO 8601).' },
    error: { type: 'string', description: 'Why the last reload failed; the policy before it stayed in force.' },
  },
} as const;

export const policyInfoSchema = {
  type: 'object',
  required: ['name', 'hash', 'rules', 'source', 'loadedAt'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    hash: { type: 'string' },
    rules: { type: 'integer', description: 'Number of rules.' },
    source: { type: 'string', description: 'The file the policy was read from, or <policy> for one given in memory.' },
    loadedAt: { type: 'string' },
    lastReload: reloadStatus,
  },
} as const;

export const reloadResponse = {
  type: 'object',
  required: ['changed', 'policy'],
  additionalProperties: false,
  properties: {
    changed: { type: 'boolean', description: 'False when the file held the policy already in force (same hash).' },
    policy: policyInfoSchema,
  },
} as const;

export const healthResponse = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['ok'] } },
} as const;

export const readyResponse = {
  type: 'object',
  required: ['status', 'checks'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ok'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' } },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: 'string' }, hash: { type: 'string' }, lastReload: reloadStatus },
    },
  },
} as const;

/** OpenAPI security requirement of the `/v1` routes (the `bearer` scheme of the document). */
export const BEARER = [{ bearer: [] as string[] }];

/** Query string of routes that take none: unknown parameters are refused rather than ignored. */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

// The audit record as the sidecar serialises it must have the fields of core's AuditRecord (see type-agreement.ts).
export type AuditRecordSchemaAgrees = MustBeTrue<Agree<AuditRecord, typeof auditRecordSchema>>;

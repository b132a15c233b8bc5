import { actionSchema, EFFECTS, type Decision, type Finding, type Reason } from '../action.js';
import type { Preview } from '../pipeline.js';
import type { Agree, MustBeTrue, Same } from './type-agreement.js';

/**
 * The JSON Schemas of the Action and the Decision: the one definition the sidecar's routes (request validation,
 * response serialisation, OpenAPI), the SDK's check of a sidecar's answer (a standalone validator generated from
 * these objects, see scripts/contracts/decision-validator.ts) and schemas/decision.schema.json are all made from.
 */

export const SCHEMA_BASE = 'https://agentguard.dev/schemas/';

export { actionSchema };

const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;

/**
 * The Action inside a Decision: what may run. Unlike a request's Action it is not closed: objects pass through whole,
 * so a serializer never drops what the agent sent.
 */
export const decisionActionSchema = {
  type: 'object',
  required: ['kind', 'name'],
  properties: {
    agent: { type: 'object', additionalProperties: true, properties: { id: { type: 'string' } } },
    kind: { type: 'string' },
    name: { type: 'string' },
    input: { type: 'object', additionalProperties: true },
    context: { type: 'object', additionalProperties: true },
  },
  additionalProperties: true,
} as const;

export const reasonSchema = {
  type: 'object',
  required: ['effect', 'message'],
  additionalProperties: false,
  properties: {
    rule: { type: 'string', description: 'The rule that gave this reason; absent for the default, an error or a check outside the policy.' },
    effect: { type: 'string', enum: [...EFFECTS] },
    message: { type: 'string' },
    code: { type: 'string', description: 'Machine-readable cause when not a plain rule match, e.g. default, invalid_action, rule_error, budget_exceeded, rate_limited.' },
    retryAfter: { type: 'integer', minimum: 1, description: 'With code rate_limited: seconds until the rule\'s rate limit has room again.' },
  },
} as const;

export const findingSchema = {
  type: 'object',
  required: ['guardrail', 'type', 'start', 'end', 'score'],
  additionalProperties: false,
  properties: {
    guardrail: { type: 'string', description: 'The guardrail that reported it, e.g. pii.' },
    type: { type: 'string', description: 'What was found, e.g. EMAIL_ADDRESS (never the matched text).' },
    start: { type: 'integer', description: 'UTF-16 index of the start of the span in the inspected text.' },
    end: { type: 'integer', description: 'UTF-16 index just past the end of the span.' },
    score: { type: 'number', description: 'Confidence in [0, 1].' },
    path: { type: 'string', description: 'Where in the action the text was, e.g. input.sql.' },
  },
} as const;

export const decisionSchema = {
  $id: `${SCHEMA_BASE}decision.schema.json`,
  title: 'Decision',
  type: 'object',
  description: 'The answer to an action. Run the action only when effect is allow or transform (then run `action`, which holds the transformed copy).',
  required: ['id', 'effect', 'action', 'reasons', 'findings', 'policy', 'elapsedUs'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^dec_[0-9A-Za-z_]{1,124}$', description: 'Decision id, e.g. dec_3f2b8c1e9a0d4c7e8b5f6a1d2c3e4f50; use it to report the outcome.' },
    effect: { type: 'string', enum: [...EFFECTS] },
    action: decisionActionSchema,
    reasons: { type: 'array', items: reasonSchema },
    findings: { type: 'array', items: findingSchema },
    policy: {
      type: 'object',
      required: ['name', 'hash'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, hash: { type: 'string', description: 'sha256: of the canonical policy.' } },
    },
    elapsedUs: { type: 'number', description: 'Time the policy took, in microseconds.' },
    approval: {
      type: 'object',
      required: ['id', 'status', 'expiresAt'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', description: 'The approval to wait for: GET /v1/approvals/{id}?wait=30s.' },
        status: { type: 'string', enum: [...APPROVAL_STATUSES] },
        expiresAt: { type: 'string', description: 'When an undecided approval becomes a deny.' },
      },
      description: 'For require_approval: the approval a person must give before the action may run.',
    },
  },
} as const;

/** `POST /v1/preview`'s answer: a decision that was not recorded, and how much text a stream must hold back. */
export const previewSchema = {
  $id: `${SCHEMA_BASE}preview.schema.json`,
  title: 'Preview',
  type: 'object',
  required: ['decision', 'holdBack'],
  additionalProperties: false,
  properties: {
    decision: { $ref: 'decision.schema.json' },
    holdBack: { type: 'integer', minimum: 0, description: 'The longest span the guardrails of the rules that may apply can find, in characters.' },
  },
} as const;

// Compile-time agreement of the schemas with the TypeScript types (see type-agreement.ts).
export type SchemaAgreesWithTypes = [
  MustBeTrue<Agree<Decision, typeof decisionSchema>>,
  MustBeTrue<Agree<Reason, typeof reasonSchema>>,
  MustBeTrue<Agree<Finding, typeof findingSchema>>,
  MustBeTrue<Agree<NonNullable<Decision['approval']>, typeof decisionSchema.properties.approval>>,
  MustBeTrue<Agree<Decision['policy'], typeof decisionSchema.properties.policy>>,
  MustBeTrue<Agree<Preview, typeof previewSchema>>,
  MustBeTrue<Same<keyof Decision['action'], keyof typeof actionSchema.properties>>,
  MustBeTrue<Same<NonNullable<Decision['approval']>['status'], (typeof APPROVAL_STATUSES)[number]>>,
];

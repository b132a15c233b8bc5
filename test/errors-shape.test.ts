import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, errorBodyJsonSchema, isErrorCode } from '../src/core/errors.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { bearer, hardeningSidecar, type HardeningHarness } from './helpers/hardening-sidecar.js';

const validBody = new Ajv({ allErrors: true, strict: false }).compile(errorBodyJsonSchema);

/** Checks a body against the one error shape and returns its error, with the code's registry entry. */
function oneShape(body: unknown): { code: string; message: string; actions: string[]; details?: Record<string, unknown> } {
  expect(validBody(body), JSON.stringify(validBody.errors)).toBe(true);
  const { error } = body as { error: { code: string; message: string; actions: string[] } };
  expect(isErrorCode(error.code), `${error.code} is registered`).toBe(true);
  expect(error.actions.length).toBeGreaterThan(0);
  return error;
}

describe('one JSON error shape for the CLI (--json) and the sidecar', () => {
  let sidecar: HardeningHarness;
  beforeAll(async () => {
    sidecar = await hardeningSidecar();
  });
  afterAll(async () => {
    await sidecar.close();
  });

  it('a command\'s --json error and a sidecar 4xx have the same keys, and each its registry exit code or status', async () => {
    const cli = await runCliInProcess(['guardrails', 'check', 'hello', '--guardrail', 'no-such-guardrail', '--json']);
    const printed = oneShape(JSON.parse(cli.stdout));
    expect(printed.code).toBe('UNKNOWN_GUARDRAIL');
    expect(cli.code).toBe(ERRORS.UNKNOWN_GUARDRAIL.exit);

    const res = await sidecar.app.inject({ method: 'POST', url: '/v1/decide', headers: bearer(sidecar.bot), payload: { action: { kind: 'tool', name: 'kb.search', agent: { id: 'finance-bot' } } } });
    const answered = oneShape(res.json());
    expect(answered.code).toBe('AGENT_MISMATCH');
    expect(res.statusCode).toBe(ERRORS.AGENT_MISMATCH.status);

    expect(Object.keys(answered).sort()).toEqual(Object.keys(printed).sort());
    expect(Object.keys(printed).sort()).toEqual(['actions', 'code', 'message']);
  });

  it('an oclif usage error prints the same shape as USAGE with exit 2', async () => {
    const cli = await runCliInProcess(['guardrails', 'check', '--no-such-flag', 'x', '--json']);
    expect(oneShape(JSON.parse(cli.stdout)).code).toBe('USAGE');
    expect(cli.code).toBe(2);
  });

  it.each([
    ['no token', { method: 'POST', url: '/v1/decide', payload: { action: { kind: 'tool', name: 'x' } } }, 'UNAUTHORIZED'],
    ['an unknown field', { method: 'POST', url: '/v1/decide', bot: true, payload: { action: { kind: 'tool', name: 'x' }, extra: 1 } }, 'INVALID_REQUEST'],
    ['an agent token on an admin route', { method: 'GET', url: '/v1/audit/verify', bot: true }, 'FORBIDDEN'],
    ['an unknown route', { method: 'GET', url: '/v1/nothing-here', bot: true }, 'NOT_FOUND'],
    ['an unknown decision', { method: 'POST', url: '/v1/decisions/dec_0000/outcome', bot: true, payload: { status: 'ok' } }, 'DECISION_NOT_FOUND'],
  ] as const)('the sidecar answers %s with the shape and the registry status of its code', async (_name, request, code) => {
    const { bot, ...rest } = request as { bot?: boolean; method: 'GET' | 'POST'; url: string; payload?: object };
    const res = await sidecar.app.inject({ ...rest, headers: bot ? bearer(sidecar.bot) : {} });
    const error = oneShape(res.json());
    expect(error.code).toBe(code);
    expect(res.statusCode).toBe(ERRORS[code].status);
  });

  it('a validation error keeps its problems under details', async () => {
    const res = await sidecar.app.inject({ method: 'POST', url: '/v1/decide', headers: bearer(sidecar.bot), payload: { action: { kind: 'tool' } } });
    const error = oneShape(res.json());
    expect(error.details).toEqual({ problems: [{ path: 'body.action.name', message: 'is required' }] });
  });

  it('the OpenAPI ErrorResponse is the same schema', async () => {
    const openapi = (await sidecar.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { components: { schemas: Record<string, { required?: string[]; properties?: Record<string, { required?: string[] }> }> } };
    const schema = openapi.components.schemas.ErrorResponse!;
    expect(schema.properties?.error?.required).toEqual(errorBodyJsonSchema.properties.error.required);
    expect(Object.keys(schema.properties?.error ?? {})).toContain('properties');
  });
});

import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '../src/core/action.js';
import { decisionSchema, previewSchema } from '../src/core/contracts/decision-schema.js';
import { decisionProblem, previewProblem } from '../src/core/contracts/validate-decision.js';
import { openEngine } from '../src/core/engine/open-engine.js';
import type { Engine } from '../src/core/engine/types.js';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp } from '../src/sidecar/app.js';
import { tempDataDir } from './helpers/audit-log.js';

const POLICY = Policy.parse({
  version: 1,
  name: 'contracts',
  rules: [
    { id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } },
    { id: 'no-drop', effect: 'deny', when: { name: 'db.query', 'input.sql': { regex: '^\\s*drop\\b', flags: 'i' } }, message: 'No DROP' },
    { id: 'no-ssn', effect: 'deny', when: { name: 'email.send', detect: { guardrail: 'pii', in: 'input.body', types: ['US_SSN'] } } },
    {
      id: 'hash-emails',
      effect: 'transform',
      when: { name: 'email.send' },
      transform: [{ redact: 'input.body', guardrail: 'pii', types: ['EMAIL_ADDRESS'], mode: 'hash' }, { set: 'input.checked', value: true }],
    },
    { id: 'big', effect: 'require_approval', when: { name: 'payments.transfer', 'input.amount': { gt: 100 } }, approval: { timeout: '10m', approvers: ['finance'] } },
  ],
});

const ACTIONS = {
  allow: { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } },
  deny: { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } },
  denyWithFindings: { kind: 'tool', name: 'email.send', input: { body: 'SSN: 536-22-1847' } },
  transform: { kind: 'tool', name: 'email.send', input: { body: 'write to ann@example.com' }, context: { session: 's-1' } },
  require_approval: { kind: 'tool', name: 'payments.transfer', input: { amount: 5000, to: 'acme' } },
  default: { kind: 'http', name: 'example.com' },
};

/** The schema compiled afresh by ajv: what the precompiled validator must agree with. */
const fresh = (() => {
  const ajv = new Ajv({ strict: true, removeAdditional: true });
  ajv.addSchema(decisionSchema);
  ajv.addSchema(previewSchema);
  return { decision: ajv.getSchema(decisionSchema.$id)!, preview: ajv.getSchema(previewSchema.$id)! };
})();

let engine: Engine;
let dataDir: string;
const decisions: Record<string, Decision> = {};

beforeAll(async () => {
  dataDir = tempDataDir('ag-contracts-decision-');
  engine = await openEngine({ policy: POLICY, record: true, dataDir, agentId: 'contracts-bot' });
  for (const [name, action] of Object.entries(ACTIONS)) decisions[name] = await engine.decide(action);
});

afterAll(async () => {
  await engine?.close();
  if (dataDir) rmSync(dirname(dataDir), { recursive: true, force: true });
});

/** A decision as it crosses HTTP: plain JSON. */
const overTheWire = (value: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

describe('the Decision schema (core) and the decisions of the real engine', () => {
  it('the engine gives every effect, with findings, a transformed action and an approval', () => {
    expect(Object.fromEntries(Object.entries(decisions).map(([name, d]) => [name, d.effect]))).toEqual({
      allow: 'allow',
      deny: 'deny',
      denyWithFindings: 'deny',
      transform: 'transform',
      require_approval: 'require_approval',
      default: 'deny',
    });
    expect(decisions.denyWithFindings.findings.length).toBeGreaterThan(0);
    expect(decisions.transform.action.input).toMatchObject({ checked: true });
    expect(decisions.require_approval.approval).toMatchObject({ status: 'pending' });
  });

  it('every one of them validates against the schema, compiled afresh and precompiled, and so does a preview', async () => {
    for (const [name, decision] of Object.entries(decisions)) {
      const json = overTheWire(decision);
      expect(fresh.decision(json), `${name}: ${JSON.stringify(fresh.decision.errors)}`).toBe(true);
      expect(decisionProblem(json), name).toBeUndefined();
      expect(json, `${name}: validation removes nothing from a real decision`).toEqual(overTheWire(decision));
    }
    const preview = overTheWire(await engine.preview(ACTIONS.transform));
    expect(previewProblem(preview)).toBeUndefined();
    expect(fresh.preview(preview)).toBe(true);
  });

  it('a decision missing any required field fails, naming the field', () => {
    for (const decision of Object.values(decisions)) {
      for (const field of decisionSchema.required) {
        const json = overTheWire(decision);
        delete json[field];
        expect(decisionProblem(json)).toBe(`"${field}" is missing`);
      }
    }
    const noMessage = overTheWire(decisions.deny);
    delete (noMessage.reasons as Array<Record<string, unknown>>)[0].message;
    expect(decisionProblem(noMessage)).toBe('"reasons.0.message" is missing');
    const approval = overTheWire(decisions.require_approval);
    (approval.approval as Record<string, unknown>).status = 'maybe';
    expect(decisionProblem(approval)).toBe('"approval.status" must be one of pending, approved, denied, expired, cancelled');
    expect(decisionProblem({ ...overTheWire(decisions.allow), effect: 'maybe' })).toBe('"effect" must be one of allow, deny, transform, require_approval');
    expect(decisionProblem({ ...overTheWire(decisions.allow), action: { kind: 'tool', name: 'x', input: 'rm -rf /' } })).toBe('"action.input" must be object');
    expect(decisionProblem([])).toBe('the body must be object');
    expect(previewProblem({ decision: overTheWire(decisions.allow), holdBack: -1 })).toBe('"holdBack" must be >= 0');
  });

  it('fields the schema does not know are removed, not refused (a newer sidecar may add some); the action passes whole', () => {
    const json = { ...overTheWire(decisions.transform), addedLater: 1 };
    (json.action as Record<string, unknown>).extra = { kept: true };
    (json.policy as Record<string, unknown>).version = 3;
    expect(decisionProblem(json)).toBeUndefined();
    expect(json).not.toHaveProperty('addedLater');
    expect(json.policy).toEqual(decisions.transform.policy);
    expect(json.action).toMatchObject({ extra: { kept: true } });
  });

  it('the precompiled validator gives the same verdict as the schema compiled afresh, on any change to a real decision', () => {
    const paths = ['id', 'effect', 'action', 'action.kind', 'action.name', 'action.input', 'reasons', 'findings', 'policy', 'policy.hash', 'elapsedUs', 'approval', 'approval.expiresAt'];
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(decisions)), fc.constantFrom(...paths), fc.option(fc.jsonValue(), { nil: undefined }), (name, path, value) => {
        const a = overTheWire(decisions[name]);
        const keys = path.split('.');
        let target = a as Record<string, unknown>;
        for (const key of keys.slice(0, -1)) {
          if (target[key] === null || typeof target[key] !== 'object') return;
          target = target[key] as Record<string, unknown>;
        }
        if (value === undefined) delete target[keys.at(-1)!];
        else target[keys.at(-1)!] = value;
        const b = structuredClone(a);
        expect(decisionProblem(a) === undefined).toBe(fresh.decision(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('the sidecar answers with the same schema', () => {
  it("POST /v1/decide and /v1/preview answers pass the SDK's check, and nothing of the engine's decision is dropped", async () => {
    const sidecarDir = tempDataDir('ag-contracts-sidecar-');
    const recorder = await AuditRecorder.open({ dataDir: sidecarDir });
    const app = await buildSidecarApp({
      policy: POLICY,
      recorder,
      dataDir: sidecarDir,
      authenticate: async () => ({ ok: true, token: { id: 'tok_admin', scope: { kind: 'admin' } } }),
    });
    try {
      for (const [name, action] of Object.entries(ACTIONS)) {
        const response = await app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: 'Bearer x' }, payload: { action } });
        expect(response.statusCode, name).toBe(200);
        const answer = response.json() as Record<string, unknown>;
        expect(decisionProblem(structuredClone(answer)), name).toBeUndefined();
        // The same fields as the engine's own decision for that action: the serializer drops none.
        expect(Object.keys(answer).sort(), name).toEqual(Object.keys(overTheWire(decisions[name])).sort());
        const preview = await app.inject({ method: 'POST', url: '/v1/preview', headers: { authorization: 'Bearer x' }, payload: { action } });
        expect(previewProblem(preview.json()), name).toBeUndefined();
      }
    } finally {
      await app.close();
      await recorder.close();
      rmSync(dirname(sidecarDir), { recursive: true, force: true });
    }
  });
});

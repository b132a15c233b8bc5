import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { openStore } from '../src/core/store/open-store.js';
import { bindAttributes, parseAttributeFlags } from '../src/core/tokens/attributes.js';
import { authenticate } from '../src/core/tokens/authenticate.js';
import { agentScope } from '../src/core/tokens/scope.js';
import { createToken } from '../src/core/tokens/tokens.js';
import { validatePolicyFile } from '../src/core/policy/validate.js';
import { tempDataDir } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { bearer, errorOf, hardeningSidecar, type HardeningHarness } from './helpers/hardening-sidecar.js';

const POLICY = `version: 1
name: roles
default: deny
rules:
  - id: admin-tools
    effect: allow
    when: { name: { glob: "admin.*" }, agent.role: admin }
  - id: support-read
    effect: allow
    when: { name: kb.read, agent.role: support }
  - id: staging-anything
    effect: allow
    when: { context.env: staging }
`;

const open: HardeningHarness[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

async function sidecar(): Promise<HardeningHarness> {
  const h = await hardeningSidecar({ policyText: POLICY });
  open.push(h);
  return h;
}

const decide = (h: HardeningHarness, token: string, action: unknown) => h.app.inject({ method: 'POST', url: '/v1/decide', headers: bearer(token), payload: { action } });

describe('a token vouches for agent.* and context.* attributes; the agent cannot choose them', () => {
  it('refuses (403) a request that sets a bound attribute to another value, on decide and preview', async () => {
    const h = await sidecar();
    const token = await h.token('bot-2', { 'agent.role': 'support', 'context.env': 'prod' });
    for (const action of [
      { kind: 'tool', name: 'admin.drop', agent: { role: 'admin' } },
      { kind: 'tool', name: 'kb.read', context: { env: 'staging' } },
      { kind: 'tool', name: 'kb.read', agent: { role: ['support'] } },
      { kind: 'tool', name: 'kb.read', agent: { role: null } },
    ]) {
      for (const url of ['/v1/decide', '/v1/preview']) {
        const res = await h.app.inject({ method: 'POST', url, headers: bearer(token), payload: { action } });
        expect(res.statusCode, `${url} ${JSON.stringify(action)}`).toBe(403);
        expect(errorOf(res).code).toBe('ATTRIBUTE_MISMATCH');
      }
    }
    expect(await h.recorder.store.audit.head()).toBeNull();
  });

  it('fills the attributes in, so rules see what the token vouches for; repeating the same value is fine', async () => {
    const h = await sidecar();
    const token = await h.token('bot-2', { 'agent.role': 'support', 'context.env': 'prod' });
    const filled = (await decide(h, token, { kind: 'tool', name: 'kb.read', context: { session: 's1' } })).json();
    expect(filled.effect).toBe('allow');
    expect(filled.action.agent).toEqual({ id: 'bot-2', role: 'support' });
    expect(filled.action.context).toEqual({ session: 's1', env: 'prod' });
    expect((await decide(h, token, { kind: 'tool', name: 'kb.read', agent: { role: 'support' }, context: { env: 'prod' } })).json().effect).toBe('allow');
    expect((await decide(h, token, { kind: 'tool', name: 'admin.drop' })).json().effect).toBe('deny');
  });

  it('a token without attributes leaves them to the agent (what policy validate --strict warns about)', async () => {
    const h = await sidecar();
    const res = await decide(h, h.bot, { kind: 'tool', name: 'admin.drop', agent: { role: 'admin' } });
    expect(res.json().effect).toBe('allow');
  });

  it('bindAttributes: any action either keeps every bound value or is a conflict, and never loses other fields', async () => {
    const attrs = { 'agent.role': 'support', 'context.env': 'prod' };
    fc.assert(
      fc.property(
        fc.record({ agent: fc.option(fc.dictionary(fc.constantFrom('id', 'role', 'team'), fc.jsonValue()), { nil: undefined }), context: fc.option(fc.oneof(fc.dictionary(fc.constantFrom('env', 'session'), fc.jsonValue()), fc.string()), { nil: undefined }) }, { requiredKeys: [] }),
        (parts) => {
          const action = { kind: 'tool', name: 'x', ...parts } as unknown as Action;
          const before = JSON.stringify(action);
          const result = bindAttributes(action, attrs);
          expect(JSON.stringify(action)).toBe(before);
          if ('conflict' in result) return;
          const bound = result.action as unknown as { agent: Record<string, unknown>; context: Record<string, unknown> };
          expect(bound.agent.role).toBe('support');
          expect(bound.context.env).toBe('prod');
          for (const [k, v] of Object.entries((parts.agent ?? {}) as Record<string, unknown>)) if (k !== 'role') expect(bound.agent[k]).toEqual(v);
        },
      ),
    );
  });
});

describe('token attributes are stored with the token and shown', () => {
  it('parses --attr: name=value binds agent.<name>, context.<name>=value binds context; bad ones say why', async () => {
    expect(parseAttributeFlags(['role=support', 'context.env=prod', 'agent.team=a=b'])).toEqual({ 'agent.role': 'support', 'context.env': 'prod', 'agent.team': 'a=b' });
    for (const [flag, why] of [
      ['role', /name=value/],
      ['=x', /name=value/],
      ['id=other', /agent\.id/],
      ['agent.id=other', /agent\.id/],
      ['input.amount=5', /agent\.<name> or context\.<name>/],
      ['context.a.b=1', /not a name/],
      ['role=a\nb', /control/],
    ] as const) {
      expect(() => parseAttributeFlags([flag]), flag).toThrow(why);
    }
    expect(() => parseAttributeFlags(['role=a', 'agent.role=b'])).toThrow(/twice/);
  });

  it('keeps attributes in the store, returns them on authentication, and refuses them on admin tokens', async () => {
    const dataDir = tempDataDir('ag-attr-');
    folders.push(dirname(dataDir));
    const store = await openStore({ dataDir });
    try {
      const { token, info } = await createToken(store.tokens, { scope: agentScope('bot'), attributes: { 'agent.role': 'support' } });
      expect(info.attributes).toEqual({ 'agent.role': 'support' });
      expect((await store.tokens.list())[0].attributes).toEqual({ 'agent.role': 'support' });
      expect(await authenticate(store.tokens, `Bearer ${token}`)).toEqual({ ok: true, token: { id: info.id, scope: { kind: 'agent', agentId: 'bot' }, attributes: { 'agent.role': 'support' } } });
      await expect(createToken(store.tokens, { scope: { kind: 'admin' }, attributes: { 'agent.role': 'x' } })).rejects.toThrow(/agent/);
    } finally {
      await store.close();
    }
  });

  it('token create --attr and token list show them (CLI)', async () => {
    const dataDir = tempDataDir('ag-attr-cli-');
    folders.push(dirname(dataDir));
    const created = await runCliInProcess(['token', 'create', '--agent', 'bot', '--attr', 'role=support', '--attr', 'context.env=prod', '--json', '--data-dir', dataDir]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).attributes).toEqual({ 'agent.role': 'support', 'context.env': 'prod' });
    const list = await runCliInProcess(['token', 'list', '--data-dir', dataDir]);
    expect(list.stdout).toContain('ATTRIBUTES');
    expect(list.stdout).toContain('role=support, context.env=prod');
    const json = JSON.parse((await runCliInProcess(['token', 'list', '--json', '--data-dir', dataDir])).stdout);
    expect(json[0].attributes).toEqual({ 'agent.role': 'support', 'context.env': 'prod' });
    const bad = await runCliInProcess(['token', 'create', '--admin', '--attr', 'role=x', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    const badAttr = await runCliInProcess(['token', 'create', '--agent', 'bot', '--attr', 'input.x=1', '--data-dir', dataDir]);
    expect(badAttr.code).toBe(2);
    expect(badAttr.stderr).toContain('agent.<name> or context.<name>');
  }, 120_000);
});

describe('policy validate --strict warns on conditions over fields an agent can choose', () => {
  const write = (): { file: string; dataDir: string } => {
    const dataDir = tempDataDir('ag-lint-');
    const root = dirname(dataDir);
    folders.push(root);
    mkdirSync(root, { recursive: true });
    const file = join(root, 'policy.yaml');
    writeFileSync(file, POLICY);
    return { file, dataDir };
  };

  it('with no tokens: every agent.* / context.* condition is a warning at its key, file:line:column', async () => {
    const { file } = write();
    const report = await validatePolicyFile(file, { strict: true, skipRedos: true, attributeBindings: { source: '/data', agentTokens: [] } });
    const warnings = report.warnings.filter((w) => w.code === 'unbound-attribute');
    expect(warnings.map((w) => [w.path, w.line, w.column])).toEqual([
      ['rules[0].when.agent.role', 7, 40],
      ['rules[1].when.agent.role', 10, 28],
      ['rules[2].when.context.env', 13, 13],
    ]);
    expect(warnings[0].message).toMatch(/agent\.role is chosen by the agent: no agent token in \/data binds it/);
    expect(warnings[0].hint).toContain('--attr role=<value>');
    expect(warnings[2].hint).toContain('--attr context.env=<value>');
    expect(report.valid).toBe(false);
  });

  it('a field every agent token binds is not warned; one bound by only some names the others', async () => {
    const { file } = write();
    const agentTokens = [
      { id: 'tok_a', agentId: 'a', attributes: { 'agent.role': 'support', 'context.env': 'prod' } },
      { id: 'tok_b', agentId: 'b', attributes: { 'agent.role': 'admin' } },
    ];
    const report = await validatePolicyFile(file, { strict: true, skipRedos: true, attributeBindings: { source: '/data', agentTokens } });
    const warnings = report.warnings.filter((w) => w.code === 'unbound-attribute');
    expect(warnings.map((w) => w.path)).toEqual(['rules[2].when.context.env']);
    expect(warnings[0].message).toContain('1 of 2 agent tokens');
    expect(warnings[0].message).toContain('tok_b (b)');
  });

  it('the CLI reads the tokens of the data folder (revoked ones do not count)', async () => {
    const { file, dataDir } = write();
    await runCliInProcess(['token', 'create', '--agent', 'a', '--attr', 'role=support', '--attr', 'context.env=prod', '--data-dir', dataDir]);
    const before = JSON.parse((await runCliInProcess(['policy', 'validate', file, '--strict', '--json', '--data-dir', dataDir])).stdout);
    expect(before.files[0].warnings.filter((w: { code: string }) => w.code === 'unbound-attribute')).toEqual([]);
    const other = JSON.parse((await runCliInProcess(['token', 'create', '--agent', 'b', '--json', '--data-dir', dataDir])).stdout);
    const after = await runCliInProcess(['policy', 'validate', file, '--strict', '--data-dir', dataDir]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/policy\.yaml:7:40 warning rules\[0\]\.when\.agent\.role: agent\.role is chosen by the agent for 1 of 2 agent tokens/);
    await runCliInProcess(['token', 'revoke', other.id, '--data-dir', dataDir]);
    expect((await runCliInProcess(['policy', 'validate', file, '--strict', '--data-dir', dataDir])).code).toBe(0);
    // Without --strict the check does not run.
    expect((await runCliInProcess(['policy', 'validate', file, '--data-dir', dataDir])).code).toBe(0);
  }, 120_000);
});

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { isPolicyError } from '../src/core/policy/policy-error.js';
import { Policy } from '../src/core/policy/policy.js';
import { DEFAULT_REGEX_MAX_LENGTH } from '../src/core/policy/regex-limits.js';
import { buildSidecarApp, type Authenticate } from '../src/sidecar/app.js';
import { startSidecarServer } from '../src/sidecar/server.js';
import { AgentGuard } from '../src/sdk/agent-guard.js';
import { runCli } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// A regex with exponential backtracking: `a`×40 + `!` would take longer than the age of the universe.
const CATASTROPHIC = `version: 1
name: redos
default: allow
rules:
  - id: only-as
    effect: deny
    when:
      input.q: { regex: '^(a+)+$' }
`;

const SAFE = `version: 1
name: safe
default: allow
rules:
  - id: only-as
    effect: deny
    when:
      input.q: { regex: '^a+$' }
`;

const ATTACK = `${'a'.repeat(40)}!`;

const folders: string[] = [];
function tempFolder(): string {
  const dir = makeTempDir('ag-regex-');
  folders.push(dir);
  return dir;
}
function policyFile(text: string): string {
  const file = join(tempFolder(), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

const authenticate: Authenticate = async (header) =>
  header === 'Bearer admin-1' ? { ok: true, token: { id: 'tok_admin', scope: { kind: 'admin' } } } : { ok: false, reason: 'unknown' };

const apps: Array<{ app: FastifyInstance; recorder: AuditRecorder }> = [];
const guards: AgentGuard[] = [];

afterEach(async () => {
  for (const { app, recorder } of apps.splice(0)) {
    await app.close();
    await recorder.close().catch(() => undefined);
  }
  for (const guard of guards.splice(0)) await guard.close().catch(() => undefined);
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPolicyError(error), String(error)).toBe(true);
  return error as import('../src/core/policy/policy-error.js').PolicyError;
}

describe('a policy with a catastrophic regex is refused by every path that enforces it', () => {
  it('Policy.fromFile refuses it, naming the rule, the problem and file:line:column', async () => {
    const file = policyFile(CATASTROPHIC);
    const error = await refusal(Policy.fromFile(file));
    expect(error.message).toContain(`${file}:8:`);
    expect(error.message).toMatch(/exponential/);
    expect(error.problems).toEqual([expect.objectContaining({ severity: 'error', code: 'redos', path: 'rules[0].when.input.q.regex', line: 8 })]);
    expect(error.actions.join(' ')).toMatch(/unsafeRegex: true/);
  });

  it('loads the same regex when the policy opts in for it by name (unsafeRegex: true)', async () => {
    const policy = await Policy.fromFile(policyFile(CATASTROPHIC.replace("'^(a+)+$' }", () => "'^(a+)+$', unsafeRegex: true, maxLength: 20 }")));
    expect(policy.name).toBe('redos');
    // The cap is the safety net of an accepted regex: input over it is an error, so the deny rule denies.
    const decision = policy.evaluate({ kind: 'tool', name: 't', input: { q: ATTACK } });
    expect(decision.effect).toBe('deny');
    expect(decision.reasons[0]).toMatchObject({ code: 'rule_error', message: expect.stringContaining('maxLength') });
  });

  it('new AgentGuard({ policy }) with a parsed Policy refuses to decide', async () => {
    const guard = new AgentGuard({ policy: Policy.parse(CATASTROPHIC), agentId: 'bot', audit: false });
    guards.push(guard);
    await refusal(guard.decide({ kind: 'tool', name: 't', input: { q: ATTACK } }));
    const path = new AgentGuard({ policy: policyFile(CATASTROPHIC), agentId: 'bot', audit: false });
    guards.push(path);
    await refusal(path.decide({ kind: 'tool', name: 't', input: { q: 'a' } }));
  });

  it('sidecar start refuses it and leaves nothing open', async () => {
    const dir = tempFolder();
    const error = await refusal(startSidecarServer({ dataDir: join(dir, 'data'), policyPath: policyFile(CATASTROPHIC), host: '127.0.0.1', port: 0 }));
    expect(error.problems[0].code).toBe('redos');
  });

  it('POST /v1/policy/reload (and SIGHUP, the same reload) answers 422 with the problem; the old policy stays in force', async () => {
    const dir = tempFolder();
    const policyPath = join(dir, 'policy.yaml');
    writeFileSync(policyPath, SAFE);
    const recorder = await AuditRecorder.open({ dataDir: join(dir, 'data'), checkpointIntervalMs: 0 });
    const app = await buildSidecarApp({ policy: await Policy.fromFile(policyPath), policyPath, recorder, dataDir: join(dir, 'data'), authenticate, logger: false });
    apps.push({ app, recorder });
    writeFileSync(policyPath, CATASTROPHIC);
    const res = await app.inject({ method: 'POST', url: '/v1/policy/reload', headers: { authorization: 'Bearer admin-1' } });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error.code).toBe('POLICY_INVALID');
    expect(body.error.details.problems).toEqual([expect.objectContaining({ code: 'redos', line: 8 })]);
    expect(app.sidecar.services.policy.current.name).toBe('safe');
    const signal = await app.sidecar.reloadPolicy();
    expect(signal).toMatchObject({ ok: false, code: 'POLICY_INVALID' });
    expect(app.sidecar.services.policy.current.name).toBe('safe');
  });

  it('buildSidecarApp refuses a policy given in memory', async () => {
    const dir = tempFolder();
    const recorder = await AuditRecorder.open({ dataDir: join(dir, 'data'), checkpointIntervalMs: 0 });
    try {
      await refusal(buildSidecarApp({ policy: Policy.parse(CATASTROPHIC), recorder, dataDir: join(dir, 'data'), authenticate, logger: false }));
    } finally {
      await recorder.close();
    }
  });

  it('the CLI: sidecar start exits 1 with file:line:column and the fix; nothing is left running', async () => {
    const file = policyFile(CATASTROPHIC);
    const dataDir = join(tempFolder(), 'data');
    const result = runCli(['sidecar', 'start', '--port', '0', '--data-dir', dataDir, '--policy', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:8:`);
    expect(result.stderr).toMatch(/exponential/);
    expect(result.stderr).toMatch(/unsafeRegex: true/);
    expect(existsSync(join(dataDir, 'sidecar.pid'))).toBe(false);
  });

  it('finds regexes at any depth: under list quantifiers and inside parsed views', async () => {
    const inList = `version: 1
name: nested
rules:
  - id: r
    effect: deny
    when:
      input.args: { some: { regex: '^(a+)+$' } }
`;
    expect((await refusal(Policy.fromFile(policyFile(inList)))).problems[0]).toMatchObject({ code: 'redos', path: 'rules[0].when.input.args.some.regex' });
    const inView = `version: 1
name: nested
rules:
  - id: r
    effect: deny
    when:
      input.command: { shell: { commands: { some: { name: { regex: '^(a+)+$' } } } } }
`;
    Policy.parse(inView); // compiles: the view and its fields exist
    expect((await refusal(Policy.fromFile(policyFile(inView)))).problems[0]).toMatchObject({ code: 'redos', path: 'rules[0].when.input.command.shell.commands.some.name.regex' });
  });

  it('checks replace steps too', async () => {
    const text = `version: 1
name: replace
rules:
  - id: scrub
    effect: transform
    transform:
      - { replace: input.q, pattern: '(\\w+\\s?)*$', with: x }
`;
    const error = await refusal(Policy.fromFile(policyFile(text)));
    expect(error.problems[0]).toMatchObject({ code: 'redos', path: 'rules[0].transform[0].pattern' });
  });
});

describe('regex input cap (maxLength)', () => {
  const doc = (extra = '') => `version: 1
name: cap
default: deny
rules:
  - id: block-drop
    effect: deny
    when: { input.sql: { regex: 'drop'${extra} } }
  - id: selects
    effect: allow
    when: { input.sql: { regex: '^select'${extra} } }
`;

  it(`defaults to ${DEFAULT_REGEX_MAX_LENGTH} characters: longer input is an error, so a deny rule denies and an allow rule does not allow`, async () => {
    const policy = Policy.parse(doc());
    const long = `select ${'x'.repeat(DEFAULT_REGEX_MAX_LENGTH)}`;
    const decision = policy.evaluate({ kind: 'tool', name: 'db', input: { sql: long } });
    expect(decision.effect).toBe('deny');
    expect(decision.reasons.map((r) => r.code)).toEqual(['rule_error']);
    expect(decision.reasons[0].message).toMatch(/longer than the regex's maxLength/);
    expect(policy.evaluate({ kind: 'tool', name: 'db', input: { sql: 'select 1' } }).effect).toBe('allow');
  });

  it('is configurable per regex', async () => {
    const policy = Policy.parse(doc(', maxLength: 10'));
    expect(policy.evaluate({ kind: 'tool', name: 'db', input: { sql: 'select 1' } }).effect).toBe('allow');
    expect(policy.evaluate({ kind: 'tool', name: 'db', input: { sql: 'select 1, 2, 3' } }).effect).toBe('deny');
    const roomy = Policy.parse(doc(`, maxLength: ${DEFAULT_REGEX_MAX_LENGTH * 4}`));
    expect(roomy.evaluate({ kind: 'tool', name: 'db', input: { sql: `select ${'x'.repeat(DEFAULT_REGEX_MAX_LENGTH)}` } }).effect).toBe('allow');
  });

  it('a replace step over its cap is a transform error (deny)', async () => {
    const policy = Policy.parse(`version: 1
name: cap
rules:
  - id: scrub
    effect: transform
    transform: [ { replace: input.q, pattern: 'a', with: b, maxLength: 5 } ]
`);
    expect(policy.evaluate({ kind: 'tool', name: 't', input: { q: 'aaa' } })).toMatchObject({ effect: 'transform', action: { input: { q: 'bbb' } } });
    expect(policy.evaluate({ kind: 'tool', name: 't', input: { q: 'aaaaaa' } })).toMatchObject({ effect: 'deny', reasons: [{ code: 'transform_error' }] });
  });

  it('the schema checks the new fields', async () => {
    const bad = (ops: string) => () => Policy.parse(`version: 1\nname: x\nrules:\n  - id: r\n    effect: deny\n    when: { input.q: ${ops} }\n`);
    expect(bad("{ regex: 'a', maxLength: 0 }")).toThrow(/maxLength/);
    expect(bad("{ regex: 'a', unsafeRegex: 'yes' }")).toThrow(/unsafeRegex/);
    expect(bad('{ eq: 1, unsafeRegex: true }')).toThrow(/unsafeRegex.*regex|needs "regex"/);
  });
});

describe('confirming a fuzzing finding in this engine', () => {
  it('a worker runs the regex: a catastrophic one is stopped at the budget, a linear one finishes', async () => {
    const { finishesWithin, scaledAttack } = await import('../src/core/policy/lint/redos-confirm.js');
    expect(await finishesWithin('^(a+)+$', '', ATTACK, 200)).toBe(false);
    expect(await finishesWithin('^a+$', '', `${'a'.repeat(100_000)}!`, 200)).toBe(true);
    const pumped = scaledAttack({ pumps: [{ prefix: 'rm\t', pump: 'r', bias: 0 }], suffix: '!', base: 10, string: 'rm\trrrrrrrrrr!', pattern: '' }, 1000);
    expect(pumped.length).toBeGreaterThan(990);
    expect(pumped.length).toBeLessThanOrEqual(1000);
    expect(pumped).toMatch(/^rm\tr+!$/);
  });
});

describe('shipped verdicts', () => {
  it('every regex of the shipped packs, templates, demo policy and built-in MCP description policy has its verdict in policies/regex-safety.json (else run `npm run regex-safety:build`)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const { readSourceFile } = await import('../src/core/policy/load.js');
    const { diskKey, regexSites } = await import('../src/core/policy/lint/redos.js');
    const { SHIPPED_VERDICTS } = await import('../src/core/policy/lint/redos-cache.js');
    const shipped = new Set((JSON.parse(readFileSync(SHIPPED_VERDICTS, 'utf8')) as { safe: string[] }).safe);
    const root = fileURLToPath(new URL('..', import.meta.url));
    const { DESCRIPTION_POLICY_DOCUMENT } = await import('../src/mcp/pins/description-policy.js');
    type Document = import('../src/core/policy/types.js').PolicyDocument;
    const documents: Array<[string, Document]> = [[ '<built-in mcp-tool-descriptions>', DESCRIPTION_POLICY_DOCUMENT as unknown as Document ]];
    for (const dir of ['policies', 'templates']) {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).filter((e) => e.isDirectory())) {
        documents.push([`${dir}/${entry.name}`, (await readSourceFile(join(root, dir, entry.name, 'policy.yaml'))).data as Document]);
      }
    }
    documents.push(['demo', (await readSourceFile(join(root, 'demo', 'policy.yaml'))).data as Document]);
    const missing: string[] = [];
    for (const [name, document] of documents) {
      for (const site of regexSites(document)) if (!site.unsafe && !shipped.has(diskKey(site))) missing.push(`${name}: ${site.source}`);
    }
    expect(missing).toEqual([]);
  });
});

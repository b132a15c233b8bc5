import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import { authenticate } from '../src/core/tokens/authenticate.js';
import { hashToken } from '../src/core/tokens/token-format.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { tempDataDir } from './helpers/audit-log.js';

interface Created {
  id: string;
  token: string;
  scope: string;
}

async function create(dataDir: string, ...flags: string[]): Promise<Created> {
  const result = await runCliInProcess(['token', 'create', ...flags, '--json', '--data-dir', dataDir]);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  return JSON.parse(result.stdout) as Created;
}

describe('agentguard token create', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = tempDataDir('ag-cli-token-');
  });

  it('--json prints exactly { id, token, scope }, and the token authenticates', async () => {
    const agent = await create(dataDir, '--agent', 'support-bot', '--name', 'prod');
    expect(Object.keys(agent).sort()).toEqual(['id', 'scope', 'token']);
    expect(agent.id).toMatch(/^tok_[0-9a-f]{12}$/);
    expect(agent.token).toMatch(/^agk_[A-Za-z0-9_-]{43}$/);
    expect(agent.scope).toBe('agent:support-bot');
    const admin = await create(dataDir, '--admin');
    expect(admin.scope).toBe('admin');
    expect(admin.token).not.toBe(agent.token);
    const approver = await create(dataDir, '--approver', 'alice@example.com');
    expect(approver.scope).toBe('approver:alice@example.com');

    const store = await openStore({ dataDir, create: false });
    expect(await authenticate(store.tokens, `Bearer ${agent.token}`)).toEqual({ ok: true, token: { id: agent.id, scope: { kind: 'agent', agentId: 'support-bot' } } });
    expect(await authenticate(store.tokens, `Bearer ${admin.token}`)).toEqual({ ok: true, token: { id: admin.id, scope: { kind: 'admin' } } });
    expect(await authenticate(store.tokens, `Bearer ${approver.token}`)).toEqual({ ok: true, token: { id: approver.id, scope: { kind: 'approver', approver: 'alice@example.com' } } });
    await store.close();
  });

  it('for people, prints only the token on stdout (for $(…)) and the id and a warning on stderr', async () => {
    const result = await runCliInProcess(['token', 'create', '--agent', 'billing', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^agk_[A-Za-z0-9_-]{43}\n$/);
    expect(result.stderr).toMatch(/Created token tok_[0-9a-f]{12} \(scope agent:billing\)/);
    expect(result.stderr).toContain('only time the token is shown');
    expect(result.stderr).not.toContain(result.stdout.trim());
  });

  it('creates the data folder and database when there is none yet', async () => {
    const fresh = tempDataDir('ag-cli-token-new-');
    expect((await create(fresh, '--admin')).scope).toBe('admin');
  });

  it.each([
    ['both --agent and --admin', ['--agent', 'a', '--admin'], /--admin cannot also be provided when using --agent/],
    ['neither --agent nor --admin', [], /Exactly one of the following must be provided: --admin, --agent/],
  ])('exits 2 with %s', async (_, flags, message) => {
    const dir = tempDataDir('ag-cli-token-usage-');
    const result = await runCliInProcess(['token', 'create', ...flags, '--data-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error \(USAGE\)/);
    expect(result.stderr).toMatch(message);
    const list = await runCliInProcess(['token', 'list', '--json', '--data-dir', dir]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('exits 2 for an agent id that no action could carry', async () => {
    const result = await runCliInProcess(['token', 'create', '--agent', ' bot', '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe('TOKEN_AGENT_ID_INVALID');
  });
});

describe('agentguard token list and revoke', () => {
  it('lists tokens without their text or hash; revoke marks one revoked, idempotently', async () => {
    const dataDir = tempDataDir('ag-cli-token-');
    const a = await create(dataDir, '--agent', 'support-bot', '--name', 'prod');
    const b = await create(dataDir, '--admin');
    const store = await openStore({ dataDir, create: false });
    const usedAt = new Date('2025-03-01T10:00:00.000Z');
    expect((await authenticate(store.tokens, `Bearer ${b.token}`, { now: usedAt })).ok).toBe(true);
    await store.close();

    let list = await runCliInProcess(['token', 'list', '--json', '--data-dir', dataDir]);
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(entries.map((e) => [e.id, e.scope, e.name, e.revoked, e.lastUsedAt])).toEqual([
      [a.id, 'agent:support-bot', 'prod', false, null],
      [b.id, 'admin', null, false, usedAt.toISOString()],
    ]);
    expect(Object.keys(entries[0]).sort()).toEqual(['attributes', 'createdAt', 'id', 'lastUsedAt', 'name', 'revoked', 'revokedAt', 'scope']);
    const human = await runCliInProcess(['token', 'list', '--data-dir', dataDir]);
    for (const output of [list.stdout, human.stdout, human.stderr]) {
      for (const { token } of [a, b]) {
        expect(output).not.toContain(token.slice(4));
        expect(output).not.toContain(hashToken(token));
      }
    }
    expect(human.stdout).toMatch(/^ID\s+SCOPE\s+NAME\s+ATTRIBUTES\s+CREATED \(UTC\)\s+LAST USED\s+STATUS\n/);
    expect(human.stdout).toMatch(new RegExp(`${a.id}\\s+agent:support-bot\\s+prod\\s+-\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+never\\s+active`));
    expect(human.stdout).toMatch(new RegExp(`${b.id}\\s+admin\\s+-\\s+-\\s+\\S+ \\S+\\s+2025-03-01 10:00\\s+active`));

    const revoke = await runCliInProcess(['token', 'revoke', a.id, '--data-dir', dataDir]);
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toContain(`Revoked token ${a.id} (scope agent:support-bot).`);
    const again = await runCliInProcess(['token', 'revoke', a.id, '--json', '--data-dir', dataDir]);
    expect(again.code).toBe(0);
    const againJson = JSON.parse(again.stdout);
    expect(againJson).toMatchObject({ id: a.id, scope: 'agent:support-bot', alreadyRevoked: true });
    const againHuman = await runCliInProcess(['token', 'revoke', a.id, '--data-dir', dataDir]);
    expect(againHuman.code).toBe(0);
    expect(againHuman.stdout).toContain(`Token ${a.id} was already revoked at ${againJson.revokedAt}; nothing changed.`);

    list = await runCliInProcess(['token', 'list', '--json', '--data-dir', dataDir]);
    const after = JSON.parse(list.stdout) as { id: string; revoked: boolean; revokedAt: string | null }[];
    expect(after.find((e) => e.id === a.id)).toMatchObject({ revoked: true, revokedAt: againJson.revokedAt });
    expect(after.find((e) => e.id === b.id)).toMatchObject({ revoked: false, revokedAt: null });
    expect((await runCliInProcess(['token', 'list', '--data-dir', dataDir])).stdout).toMatch(new RegExp(`${a.id}.*revoked \\d{4}-`));
  });

  it('revokes a leaked token given as text, without printing it', async () => {
    const dataDir = tempDataDir('ag-cli-token-');
    const a = await create(dataDir, '--agent', 'bot');
    const result = await runCliInProcess(['token', 'revoke', a.token, '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Revoked token ${a.id}`);
    expect(result.stdout + result.stderr).not.toContain(a.token);
  });

  it('exits 1 for an id that does not exist, and 2 for an argument that is not an id, never echoing token-like text', async () => {
    const dataDir = tempDataDir('ag-cli-token-');
    const a = await create(dataDir, '--agent', 'bot');

    const missing = await runCliInProcess(['token', 'revoke', 'tok_000000000000', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error (TOKEN_NOT_FOUND): no token with id tok_000000000000');
    expect(missing.stderr).toContain('agentguard token list');

    const unknownToken = `agk_${'A'.repeat(43)}`;
    const unknown = await runCliInProcess(['token', 'revoke', unknownToken, '--json', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).error.code).toBe('TOKEN_NOT_FOUND');
    expect(unknown.stdout + unknown.stderr).not.toContain(unknownToken);

    const partial = await runCliInProcess(['token', 'revoke', a.token.slice(0, 20), '--data-dir', dataDir]);
    expect(partial.code).toBe(2);
    expect(partial.stderr).toContain('Error (TOKEN_ID_INVALID)');
    expect(partial.stderr).not.toContain(a.token.slice(0, 20));

    const nonsense = await runCliInProcess(['token', 'revoke', 'nonsense', '--data-dir', dataDir]);
    expect(nonsense.code).toBe(2);
    expect(nonsense.stderr).toContain('is not a token id');

    const noArg = await runCliInProcess(['token', 'revoke', '--data-dir', dataDir]);
    expect(noArg.code).toBe(2);

    const list = JSON.parse((await runCliInProcess(['token', 'list', '--json', '--data-dir', dataDir])).stdout) as { revoked: boolean }[];
    expect(list.map((e) => e.revoked)).toEqual([false]);
  });

  it('with no database yet: list is empty (exit 0), revoke finds nothing (exit 1), and neither creates one', async () => {
    const dataDir = tempDataDir('ag-cli-token-none-');
    const list = await runCliInProcess(['token', 'list', '--data-dir', dataDir]);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain('No API tokens in');
    expect((await runCliInProcess(['token', 'revoke', 'tok_0123456789ab', '--data-dir', dataDir])).code).toBe(1);
    expect(JSON.parse((await runCliInProcess(['token', 'list', '--json', '--data-dir', dataDir])).stdout)).toEqual([]);
    expect(existsSync(databasePath({ dataDir }))).toBe(false);
  });
});

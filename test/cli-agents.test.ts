import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AgentEntry } from '../src/core/agents/registry.js';
import { databasePath, openStore } from '../src/core/store/open-store.js';
import { tempDataDir } from './helpers/audit-log.js';
import { runCliInProcess } from './helpers/cli-in-process.js';

const T1 = '2025-03-01T10:00:00.000Z';

async function json<T>(args: string[], dataDir: string, code = 0): Promise<T> {
  const result = await runCliInProcess([...args, '--json', '--data-dir', dataDir]);
  expect(result.code, result.stderr + result.stdout).toBe(code);
  return JSON.parse(result.stdout) as T;
}

/** A data folder holding what a scan found: one secured and two unsecured projects, a model server, and a config secret. */
async function scannedDataDir(): Promise<string> {
  const dataDir = tempDataDir('ag-cli-agents-');
  const store = await openStore({ dataDir });
  await store.agents.upsertFromScan(
    [
      { id: 'project:/src/safe', kind: 'project', name: 'safe', frameworks: [{ name: 'openai', version: '6.1.0' }], location: '/src/safe', status: 'secured', risk: 'low', details: {}, notes: [] },
      { id: 'project:/src/bot', kind: 'project', name: 'bot', frameworks: [{ name: 'langchain', version: '0.3.1' }], location: '/src/bot', status: 'unsecured', risk: 'medium', details: { manifest: 'package.json' }, notes: ['no agentguard dependency'] },
      {
        id: 'mcp:cursor:/home/me/.cursor/mcp.json#github',
        kind: 'mcp-server',
        name: 'github',
        frameworks: [],
        location: '/home/me/.cursor/mcp.json',
        status: 'unsecured',
        risk: 'high',
        details: { command: 'npx', transport: 'stdio' },
        notes: ['env.GITHUB_TOKEN is written in the config'],
      },
      { id: 'model-server:127.0.0.1:11434', kind: 'model-server', name: 'Ollama', frameworks: [], location: '127.0.0.1:11434', status: 'unknown', risk: 'info', details: { models: 3 }, notes: [] },
    ],
    T1,
  );
  await store.close();
  return dataDir;
}

describe('agentguard agents, with no database yet', () => {
  it('list and status print an empty result with a hint to scan, and create nothing', async () => {
    const dataDir = tempDataDir('ag-cli-agents-none-');
    const list = await runCliInProcess(['agents', 'list', '--data-dir', dataDir]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('');
    expect(list.stderr).toContain('No agents known in');
    expect(list.stderr).toContain('agentguard scan');
    expect(await json<unknown[]>(['agents', 'list'], dataDir)).toEqual([]);

    const status = await runCliInProcess(['agents', 'status', '--data-dir', dataDir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('no agents known yet');
    expect(status.stderr).toContain('agentguard scan');
    expect(await json(['agents', 'status'], dataDir)).toEqual({ total: 0, secured: 0, unsecured: 0, unknown: 0, coverage: null, text: 'no agents known yet', unsecuredAgents: [] });

    const show = await runCliInProcess(['agents', 'show', 'bot', '--data-dir', dataDir]);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('Error (AGENT_NOT_FOUND)');
    expect((await runCliInProcess(['agents', 'deregister', 'bot', '--data-dir', dataDir])).code).toBe(1);
    expect(existsSync(databasePath({ dataDir }))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});

describe('agentguard agents list, show and status over scan results', () => {
  it('list: a table of id, name, kind, frameworks, status and last seen; --status filters; --json has every field', async () => {
    const dataDir = await scannedDataDir();
    const human = await runCliInProcess(['agents', 'list', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ID\s+NAME\s+KIND\s+FRAMEWORKS\s+STATUS\s+LAST SEEN \(UTC\)\n/);
    expect(human.stdout).toMatch(/project:\/src\/bot\s+bot\s+project\s+langchain@0\.3\.1\s+unsecured\s+2025-03-01 10:00\n/);
    expect(human.stdout).toMatch(/model-server:127\.0\.0\.1:11434\s+Ollama\s+model-server\s+-\s+unknown\s+2025-03-01 10:00\n/);
    expect(human.stdout.trim().split('\n')).toHaveLength(5);

    const all = await json<AgentEntry[]>(['agents', 'list'], dataDir);
    expect(all.map((e) => e.id).sort()).toEqual(['mcp:cursor:/home/me/.cursor/mcp.json#github', 'model-server:127.0.0.1:11434', 'project:/src/bot', 'project:/src/safe']);
    expect(Object.keys(all[0]).sort()).toEqual([
      'deregisteredAt', 'details', 'firstSeen', 'frameworks', 'goneAt', 'id', 'kind', 'lastSeen', 'location', 'name', 'notes', 'registeredAgentId', 'risk', 'source', 'status',
    ]);
    const unsecured = await json<AgentEntry[]>(['agents', 'list', '--status', 'unsecured'], dataDir);
    expect(unsecured.map((e) => e.id).sort()).toEqual(['mcp:cursor:/home/me/.cursor/mcp.json#github', 'project:/src/bot']);

    const none = await runCliInProcess(['agents', 'list', '--status', 'secured', '--data-dir', tempDataDir('ag-cli-agents-x-')]);
    expect(none.code).toBe(0);
    const bad = await runCliInProcess(['agents', 'list', '--status', 'safe', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Error (USAGE)');
  }, 60_000);

  it('show: every field for people and as JSON; an unknown id exits 1 with a hint', async () => {
    const dataDir = await scannedDataDir();
    const id = 'mcp:cursor:/home/me/.cursor/mcp.json#github';
    const human = await runCliInProcess(['agents', 'show', id, '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    for (const line of [
      `id:               ${id}`,
      'kind:             mcp-server',
      'status:           unsecured',
      'risk:             high',
      'source:           scan',
      'location:         /home/me/.cursor/mcp.json',
      `first seen:       ${T1}`,
      '  * env.GITHUB_TOKEN is written in the config',
      '    "transport": "stdio"',
    ]) {
      expect(human.stdout).toContain(line);
    }
    expect(await json<AgentEntry>(['agents', 'show', id], dataDir)).toEqual({
      id,
      kind: 'mcp-server',
      name: 'github',
      frameworks: [],
      location: '/home/me/.cursor/mcp.json',
      status: 'unsecured',
      risk: 'high',
      source: 'scan',
      firstSeen: T1,
      lastSeen: T1,
      details: { command: 'npx', transport: 'stdio' },
      notes: ['env.GITHUB_TOKEN is written in the config'],
      registeredAgentId: null,
      deregisteredAt: null,
      goneAt: null,
    });

    const missing = await runCliInProcess(['agents', 'show', 'project:/nowhere', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('Error (AGENT_NOT_FOUND): no agent with id "project:/nowhere"');
    expect(missing.stderr).toContain('agentguard agents list --all');
    const missingJson = await json<{ error: { code: string; actions: string[] } }>(['agents', 'show', 'nowhere'], dataDir, 1);
    expect(missingJson.error.code).toBe('AGENT_NOT_FOUND');
    expect((await runCliInProcess(['agents', 'show', '--data-dir', dataDir])).code).toBe(2);
  }, 60_000);

  it('status: the coverage sentence, counts by status, and the unsecured agents listed', async () => {
    const dataDir = await scannedDataDir();
    const human = await runCliInProcess(['agents', 'status', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^1 of 3 known agents secured \(33%\)\n {2}secured {4}1\n {2}unsecured {2}2\n {2}unknown {4}1\n {2}total {6}4\n/);
    expect(human.stdout).toContain('Unsecured:\n');
    expect(human.stdout).toContain('  project:/src/bot  bot  (/src/bot)');
    expect(human.stdout).toContain('  mcp:cursor:/home/me/.cursor/mcp.json#github  github  (/home/me/.cursor/mcp.json)');
    expect(human.stdout).not.toContain('project:/src/safe');
    expect(human.stderr).toContain('agentguard agents register NAME --agent-id ID');

    const status = await json<{ total: number; coverage: number; text: string; unsecuredAgents: AgentEntry[] }>(['agents', 'status'], dataDir);
    expect(status).toMatchObject({ total: 4, secured: 1, unsecured: 2, unknown: 1, text: '1 of 3 known agents secured (33%)' });
    expect(status.coverage).toBeCloseTo(1 / 3, 10);
    expect(status.unsecuredAgents.map((e) => e.id).sort()).toEqual(['mcp:cursor:/home/me/.cursor/mcp.json#github', 'project:/src/bot']);
  });
});

describe('agentguard agents register and deregister', () => {
  it('register creates the database, marks an agent with --agent-id secured, and updates on a second call', async () => {
    const dataDir = tempDataDir('ag-cli-agents-reg-');
    const human = await runCliInProcess(['agents', 'register', 'crawler', '--status', 'unsecured', '--location', '/srv/crawler', '--data-dir', dataDir]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('Registered agent:crawler: unsecured.\n');
    expect(existsSync(databasePath({ dataDir }))).toBe(true);

    const updated = await json<AgentEntry>(['agents', 'register', 'crawler', '--agent-id', 'crawler-prod', '--framework', 'crewai@0.80.0'], dataDir);
    expect(updated).toMatchObject({
      id: 'agent:crawler',
      kind: 'agent',
      name: 'crawler',
      status: 'secured',
      source: 'registered',
      registeredAgentId: 'crawler-prod',
      location: '/srv/crawler',
      frameworks: [{ name: 'crewai', version: '0.80.0' }],
    });
    expect(await json<AgentEntry>(['agents', 'show', 'crawler'], dataDir)).toEqual(updated);
    const again = await runCliInProcess(['agents', 'register', 'crawler', '--data-dir', dataDir]);
    expect(again.stdout).toBe('Registered agent:crawler: secured, runs as agent id crawler-prod.\n');
    expect(await json(['agents', 'status'], dataDir)).toMatchObject({ total: 1, secured: 1, coverage: 1, text: '1 of 1 known agent secured (100%)' });
  }, 60_000);

  it.each([
    ['a name with surrounding spaces', [' bot'], 'AGENT_NAME_INVALID'],
    ['an agent id with a control character', ['bot', '--agent-id', 'a\u0007b'], 'AGENT_NAME_INVALID'],
    ['an empty --framework', ['bot', '--framework', ' '], 'USAGE'],
    ['an unknown --status', ['bot', '--status', 'fine'], 'USAGE'],
    ['no name', [], 'USAGE'],
  ])('register exits 2 for %s and writes nothing', async (_, args, code) => {
    const dataDir = tempDataDir('ag-cli-agents-bad-');
    const result = await runCliInProcess(['agents', 'register', ...args, '--json', '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe(code);
    expect(existsSync(databasePath({ dataDir }))).toBe(false);
  });

  it('deregister takes an id or a registered name, is idempotent, and exits 1 for an unknown id', async () => {
    const dataDir = await scannedDataDir();
    const store = await openStore({ dataDir, create: false });
    await store.agents.register({ name: 'helper', agentId: 'helper' }, T1);
    await store.close();

    const human = await runCliInProcess(['agents', 'deregister', 'project:/src/bot', '--data-dir', dataDir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('Deregistered project:/src/bot.\n');
    const byName = await json<{ id: string; deregisteredAt: string; alreadyDeregistered: boolean }>(['agents', 'deregister', 'helper'], dataDir);
    expect(byName).toMatchObject({ id: 'agent:helper', alreadyDeregistered: false });
    const againHuman = await runCliInProcess(['agents', 'deregister', 'agent:helper', '--data-dir', dataDir]);
    expect(againHuman.code).toBe(0);
    expect(againHuman.stdout).toBe(`agent:helper was already deregistered at ${byName.deregisteredAt}; nothing changed.\n`);

    const missing = await runCliInProcess(['agents', 'deregister', 'nobody', '--json', '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ code: 'AGENT_NOT_FOUND', message: expect.stringContaining('no agent with id "nobody"') });

    const after = await openStore({ dataDir, create: false });
    expect((await after.agents.get('project:/src/bot'))?.deregisteredAt).toEqual(expect.any(String));
    expect((await after.agents.get('agent:helper'))?.deregisteredAt).toBe(byName.deregisteredAt);
    await after.close();
  }, 60_000);

  it('deregistered agents leave list and status, show with --all, and stay deregistered when scanned again', async () => {
    const dataDir = await scannedDataDir();
    const store = await openStore({ dataDir, create: false });
    await store.agents.deregister('project:/src/bot', '2025-03-02T00:00:00.000Z');
    const bot = { id: 'project:/src/bot', kind: 'project', name: 'bot', frameworks: [], location: '/src/bot', status: 'unsecured', risk: 'medium', details: {}, notes: [] } as const;
    expect(await store.agents.upsertFromScan([{ ...bot, frameworks: [], details: {}, notes: [] }], '2025-03-05T00:00:00.000Z')).toEqual({ added: [], updated: [bot.id], gone: [] });
    await store.close();

    expect((await json<AgentEntry[]>(['agents', 'list', '--status', 'unsecured'], dataDir)).map((e) => e.id)).toEqual(['mcp:cursor:/home/me/.cursor/mcp.json#github']);
    const all = await runCliInProcess(['agents', 'list', '--all', '--data-dir', dataDir]);
    expect(all.stdout).toMatch(/project:\/src\/bot .*unsecured \(deregistered\)\s+2025-03-05 00:00\n/);
    expect(await json(['agents', 'status'], dataDir)).toMatchObject({ total: 3, secured: 1, unsecured: 1, unknown: 1, text: '1 of 2 known agents secured (50%)' });
  }, 60_000);
});

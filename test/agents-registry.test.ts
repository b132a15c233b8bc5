import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAgentName, describeCoverage, findAgent, parseFramework } from '../src/core/agents/registration.js';
import type { ScannedAgent } from '../src/core/agents/registry.js';
import { AgentGuardError } from '../src/core/errors.js';
import { SqliteStore } from '../src/core/store/sqlite/sqlite-store.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/core/store/sqlite/migrations.js';
import { rawDb } from './helpers/audit-log.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const T1 = '2025-03-01T10:00:00.000Z';
const T2 = '2025-03-02T11:30:00.000Z';
const T3 = '2025-03-03T09:15:00.000Z';

const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function tempFile(): string {
  return join(makeTempDir('ag-agents-'), 'agentguard.db');
}

function open(file = tempFile()): SqliteStore {
  const store = SqliteStore.open(file);
  stores.push(store);
  return store;
}

function finding(id: string, overrides: Partial<ScannedAgent> = {}): ScannedAgent {
  return {
    id,
    kind: 'project',
    name: id.split('/').pop() ?? id,
    frameworks: [{ name: 'langchain', version: '0.3.1' }],
    location: id.replace(/^project:/, ''),
    status: 'unsecured',
    risk: 'medium',
    details: { manifest: 'package.json' },
    notes: ['no agentguard dependency'],
    ...overrides,
  };
}

describe('migration 4: the agents table', () => {
  it('adds the agents table with every column and the last_seen index, upgrading a version-3 database in place', async () => {
    const file = tempFile();
    const old = rawDb(file);
    migrate(old, file, MIGRATIONS.slice(0, 3));
    expect(old.pragma('user_version', { simple: true })).toBe(3);
    old.close();
    const { agents } = open(file);
    expect((await agents.upsertFromScan([finding('project:/src/bot')], T1)).added).toEqual(['project:/src/bot']);
    const db = rawDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const columns = db.prepare("SELECT name FROM pragma_table_info('agents') ORDER BY cid").pluck().all();
    expect(columns).toEqual([
      'id', 'kind', 'name', 'framework', 'location', 'status', 'risk', 'source',
      'first_seen', 'last_seen', 'details', 'notes', 'registered_agent_id', 'deregistered_at', 'gone_at',
    ]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agents' AND sql IS NOT NULL").pluck().all()).toEqual(['agents_last_seen']);
    const row = db.prepare('SELECT framework, details, notes, source FROM agents').get();
    expect(row).toEqual({
      framework: '[{"name":"langchain","version":"0.3.1"}]',
      details: '{"manifest":"package.json"}',
      notes: '["no agentguard dependency"]',
      source: 'scan',
    });
    db.close();
  });
});

describe('upsertFromScan', () => {
  it('adds new ids, then keeps first_seen and updates last_seen, status and everything else', async () => {
    const { agents } = open();
    const a = finding('project:/src/a');
    const b = finding('mcp:cursor:/home/me/.cursor/mcp.json#github', { kind: 'mcp-server', status: 'unknown', risk: 'high', frameworks: [] });
    expect(await agents.upsertFromScan([a, b], T1)).toEqual({ added: [a.id, b.id], updated: [], gone: [] });

    const secured = { ...a, status: 'secured' as const, risk: 'low' as const, name: 'a (renamed)', frameworks: [{ name: 'langgraph' }], notes: [], details: { uses: 'agentguard' } };
    const c = finding('project:/src/c');
    expect(await agents.upsertFromScan([secured, c], T2)).toEqual({ added: [c.id], updated: [a.id], gone: [] });

    expect(await agents.get(a.id)).toEqual({
      id: a.id,
      kind: 'project',
      name: 'a (renamed)',
      frameworks: [{ name: 'langgraph' }],
      location: '/src/a',
      status: 'secured',
      risk: 'low',
      source: 'scan',
      firstSeen: T1,
      lastSeen: T2,
      details: { uses: 'agentguard' },
      notes: [],
      registeredAgentId: null,
      deregisteredAt: null,
      goneAt: null,
    });
    // Not seen in the second scan: untouched.
    expect(await agents.get(b.id)).toMatchObject({ firstSeen: T1, lastSeen: T1, status: 'unknown', risk: 'high', kind: 'mcp-server' });
    expect(await agents.get(c.id)).toMatchObject({ firstSeen: T2, lastSeen: T2 });
  });

  it('reports an id given twice in one scan once, and stores the last version', async () => {
    const { agents } = open();
    const id = 'project:/src/dup';
    expect(await agents.upsertFromScan([finding(id), finding(id, { status: 'secured' })], T1)).toEqual({ added: [id], updated: [], gone: [] });
    expect((await agents.get(id))?.status).toBe('secured');
  });

  it('a deregistered entry seen again stays deregistered, and is updated', async () => {
    const { agents } = open();
    const a = finding('project:/src/a');
    await agents.upsertFromScan([a], T1);
    expect(await agents.deregister(a.id, T2)).toBe(true);
    expect(await agents.upsertFromScan([{ ...a, status: 'secured' }], T3)).toEqual({ added: [], updated: [a.id], gone: [] });
    expect(await agents.get(a.id)).toMatchObject({ deregisteredAt: T2, lastSeen: T3, firstSeen: T1, status: 'secured' });
    expect(await agents.list()).toEqual([]);
  });

  it('refuses a time that is not ISO 8601 UTC (a programming error)', async () => {
    const { agents } = open();
    await expect(agents.upsertFromScan([finding('project:/x')], '2025-03-01 10:00')).rejects.toThrow(TypeError);
    expect(await agents.get('project:/x')).toBeNull();
  });
});

describe('register and deregister', () => {
  it('registers agent:<name>; an agentId marks it secured; registering again updates only what is given', async () => {
    const { agents } = open();
    const first = await agents.register({ name: 'crawler', framework: '@mastra/core@0.10.1', location: '/srv/crawler' }, T1);
    expect(first).toEqual({
      id: 'agent:crawler',
      kind: 'agent',
      name: 'crawler',
      frameworks: [{ name: '@mastra/core', version: '0.10.1' }],
      location: '/srv/crawler',
      status: 'unknown',
      risk: 'info',
      source: 'registered',
      firstSeen: T1,
      lastSeen: T1,
      details: {},
      notes: [],
      registeredAgentId: null,
      deregisteredAt: null,
      goneAt: null,
    });
    expect(await agents.get('agent:crawler')).toEqual(first);

    const unsecured = await agents.register({ name: 'crawler', status: 'unsecured' }, T2);
    expect(unsecured).toMatchObject({ status: 'unsecured', location: '/srv/crawler', frameworks: first.frameworks, firstSeen: T1, lastSeen: T2 });

    const secured = await agents.register({ name: 'crawler', agentId: 'crawler-prod', status: 'unsecured' }, T3);
    expect(secured).toMatchObject({ status: 'secured', registeredAgentId: 'crawler-prod', firstSeen: T1, lastSeen: T3 });
    expect(await agents.list({ includeDeregistered: true })).toHaveLength(1);
  });

  it('deregister returns false for an unknown id, keeps the first time, and registering again undoes it', async () => {
    const { agents } = open();
    expect(await agents.deregister('agent:nobody', T1)).toBe(false);
    await agents.register({ name: 'bot', agentId: 'bot' }, T1);
    expect(await agents.deregister('agent:bot', T2)).toBe(true);
    expect(await agents.deregister('agent:bot', T3)).toBe(true);
    expect((await agents.get('agent:bot'))?.deregisteredAt).toBe(T2);
    expect(await agents.summary()).toEqual({ total: 0, secured: 0, unsecured: 0, unknown: 0, coverage: null });

    expect((await agents.register({ name: 'bot' }, T3)).deregisteredAt).toBeNull();
    expect(await agents.get('agent:bot')).toMatchObject({ status: 'secured', registeredAgentId: 'bot', firstSeen: T1 });
  });
});

describe('list, get, summary', () => {
  async function fleet() {
    const { agents } = open();
    await agents.upsertFromScan(
      [
        finding('project:/a', { status: 'secured' }),
        finding('project:/b', { status: 'unsecured' }),
        finding('project:/c', { status: 'unsecured' }),
        finding('model:127.0.0.1:11434', { kind: 'model-server', status: 'unknown' }),
      ],
      T1,
    );
    await agents.register({ name: 'x', agentId: 'x' }, T2);
    await agents.register({ name: 'gone', agentId: 'gone' }, T2);
    await agents.deregister('agent:gone', T3);
    return agents;
  }

  it('filters by status, hides deregistered entries unless asked, newest first', async () => {
    const agents = await fleet();
    expect((await agents.list()).map((e) => e.id)).toEqual(['agent:x', 'model:127.0.0.1:11434', 'project:/a', 'project:/b', 'project:/c']);
    expect((await agents.list({ status: 'unsecured' })).map((e) => e.id)).toEqual(['project:/b', 'project:/c']);
    expect((await agents.list({ status: 'secured' })).map((e) => e.id)).toEqual(['agent:x', 'project:/a']);
    expect((await agents.list({ status: 'secured', includeDeregistered: true })).map((e) => e.id)).toEqual(['agent:gone', 'agent:x', 'project:/a']);
    expect(await agents.list({ includeDeregistered: true })).toHaveLength(6);
    expect(await agents.get('agent:gone')).toMatchObject({ deregisteredAt: T3 });
    expect(await agents.get('nope')).toBeNull();
  });

  it('summary counts the live entries; coverage is secured / (secured + unsecured)', async () => {
    const agents = await fleet();
    const summary = await agents.summary();
    expect(summary).toEqual({ total: 5, secured: 2, unsecured: 2, unknown: 1, coverage: 0.5 });
    expect(describeCoverage(summary)).toBe('2 of 4 known agents secured (50%)');
  });

  it('findAgent takes an id or the name of a registered agent', async () => {
    const agents = await fleet();
    expect((await findAgent(agents, 'x'))?.id).toBe('agent:x');
    expect((await findAgent(agents, 'agent:x'))?.id).toBe('agent:x');
    expect((await findAgent(agents, 'project:/a'))?.id).toBe('project:/a');
    expect(await findAgent(agents, 'agent:project:/a')).toBeNull();
  });

  it('reads a hand-edited row with malformed JSON as empty rather than failing', async () => {
    const file = tempFile();
    const { agents } = open(file);
    await agents.upsertFromScan([finding('project:/a')], T1);
    const db = rawDb(file);
    db.prepare("UPDATE agents SET framework = 'not json', details = '[1]', notes = '{}', status = 'weird'").run();
    db.close();
    expect(await agents.get('project:/a')).toMatchObject({ frameworks: [], details: {}, notes: [], status: 'unknown' });
    expect(await agents.summary()).toMatchObject({ unknown: 1, total: 1 });
  });
});

describe('coverage text and framework parsing', () => {
  it.each([
    [{ total: 12, secured: 7, unsecured: 2, unknown: 3, coverage: 7 / 9 }, '7 of 9 known agents secured (78%)'],
    [{ total: 1, secured: 1, unsecured: 0, unknown: 0, coverage: 1 }, '1 of 1 known agent secured (100%)'],
    [{ total: 200, secured: 199, unsecured: 1, unknown: 0, coverage: 199 / 200 }, '199 of 200 known agents secured (99%)'],
    [{ total: 300, secured: 1, unsecured: 299, unknown: 0, coverage: 1 / 300 }, '1 of 300 known agents secured (1%)'],
    [{ total: 2, secured: 0, unsecured: 0, unknown: 2, coverage: null }, 'no agent with a known status (2 unknown)'],
    [{ total: 0, secured: 0, unsecured: 0, unknown: 0, coverage: null }, 'no agents known yet'],
  ])('%o → %s', (summary, text) => {
    expect(describeCoverage(summary)).toBe(text);
  });

  it.each([
    ['langchain', { name: 'langchain' }],
    ['langchain@0.3.1', { name: 'langchain', version: '0.3.1' }],
    ['@mastra/core', { name: '@mastra/core' }],
    ['@mastra/core@0.10.1', { name: '@mastra/core', version: '0.10.1' }],
    ['crewai@', { name: 'crewai@' }],
  ])('parseFramework(%s)', (text, expected) => {
    expect(parseFramework(text)).toEqual(expected);
  });

  it('checkAgentName: surrounding whitespace or control characters are a usage error (exit 2)', () => {
    for (const bad of [' bot', 'bot\n', '', 'a\u0007b']) {
      const error = (() => { try { checkAgentName(bad, 'name'); } catch (e) { return e; } return undefined; })();
      expect(error).toBeInstanceOf(AgentGuardError);
      expect((error as AgentGuardError).exitCode).toBe(2);
    }
    expect(checkAgentName('support bot', 'agent id')).toBe('support bot');
  });
});

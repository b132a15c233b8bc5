import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/core/store/open-store.js';
import type { Store } from '../src/core/store/store.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const T0 = '2026-12-07T10:00:00.000Z';
const T1 = '2026-12-07T11:00:00.000Z';
const seen = (tool: string, hash: string, flags: { type: string; message: string }[] = []) => ({ tool, hash, definition: { description: hash }, flags });

describe('SqliteMcpPinStore', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const open = async () => (store = await openStore({ dataDir: makeTempDir('ag-pins-store-') }));

  it('pins the unflagged tools of a first listing, and nothing at later listings', async () => {
    const { mcpPins } = await open();
    const first = await mcpPins.recordListing('fs', [seen('read', 'h1'), seen('bad', 'h2', [{ type: 'injection', message: 'x' }])], T0, 'session-1');
    expect(first.firstListing).toBe(true);
    expect(first.pins.map((p) => [p.tool, p.pinnedHash, p.pinnedBy])).toEqual([['read', 'h1', 'first-sight'], ['bad', null, null]]);
    const second = await mcpPins.recordListing('fs', [seen('read', 'h9'), seen('later', 'h3')], T1, 'session-2');
    expect(second.firstListing).toBe(false);
    expect(second.pins.map((p) => [p.tool, p.pinnedHash, p.seenHash, p.seenAt])).toEqual([['read', 'h1', 'h9', T1], ['later', null, 'h3', T1]]);
  });

  it('counts every page the first session lists as the first listing (tools/list is paginated)', async () => {
    const { mcpPins } = await open();
    expect((await mcpPins.recordListing('big', [seen('a', 'h1')], T0, 'first')).firstListing).toBe(true);
    const page2 = await mcpPins.recordListing('big', [seen('b', 'h2')], T0, 'first');
    expect([page2.firstListing, page2.pins[0].pinnedBy]).toEqual([true, 'first-sight']);
    // The first session never re-pins a changed tool: pins are only made for tools without one.
    expect((await mcpPins.recordListing('big', [seen('a', 'h9')], T0, 'first')).pins[0].pinnedHash).toBe('h1');
    const later = await mcpPins.recordListing('big', [seen('c', 'h3')], T1, 'second');
    expect([later.firstListing, later.pins[0].pinnedHash]).toEqual([false, null]);
  });

  it('approves the seen definition, lists by server and resets a tool, a server or everything', async () => {
    const { mcpPins } = await open();
    await mcpPins.recordListing('a', [seen('x', 'h1'), seen('y', 'h2')], T0, 'session-3');
    await mcpPins.recordListing('a', [seen('x', 'h1b')], T1, 'session-4');
    await mcpPins.recordListing('b', [seen('z', 'h3')], T0, 'session-5');
    expect(await mcpPins.approve('a', 'nope', T1)).toBeNull();
    const approved = await mcpPins.approve('a', 'x', T1);
    expect([approved?.pinnedHash, approved?.pinnedBy, approved?.pinnedAt]).toEqual(['h1b', 'approved', T1]);
    expect((await mcpPins.list({ server: 'a' })).map((p) => p.tool)).toEqual(['x', 'y']);
    expect((await mcpPins.list()).map((p) => `${p.server}.${p.tool}`)).toEqual(['a.x', 'a.y', 'b.z']);
    expect(await mcpPins.reset('a', 'y')).toBe(1);
    expect(await mcpPins.get('a', 'y')).toBeNull();
    expect(await mcpPins.reset('a')).toBe(1);
    expect((await mcpPins.recordListing('a', [seen('x', 'h5')], T1, 'session-new')).firstListing).toBe(true);
    expect(await mcpPins.reset()).toBe(2);
    expect(await mcpPins.list()).toEqual([]);
  });

  it('reads a hand-edited row as unpinned and flagged (fail closed)', async () => {
    const dataDir = makeTempDir('ag-pins-store-');
    store = await openStore({ dataDir });
    await store.mcpPins.recordListing('s', [seen('t', 'h1')], T0, 'session-6');
    const db = new Database(join(dataDir, 'agentguard.db'));
    db.prepare("UPDATE mcp_pins SET pinned_by = 'someone', flags = 'not json'").run();
    db.close();
    const pin = await store.mcpPins.get('s', 't');
    expect(pin?.pinnedHash).toBeNull();
    expect(pin?.flags.map((f) => f.type)).toEqual(['unreadable']);
  });
});

import type { ScanFinding } from './types.js';

export type WatchEventType = 'agent-started' | 'agent-stopped' | 'server-up' | 'server-down' | 'mcp-added' | 'mcp-changed' | 'mcp-removed';

export interface WatchEvent {
  time: string;
  type: WatchEventType;
  id: string;
  kind: ScanFinding['kind'];
  name: string;
  location: string;
  status: ScanFinding['status'];
}

const LIVE_KINDS = new Set(['agent-process', 'credential-process']);
const SERVER_KINDS = new Set(['model-server', 'agent-server']);

/**
 * What changed between two scans: processes that started or stopped, servers that came up or went down, MCP
 * servers added, removed or changed (by the hash of their config entry). Projects are not events.
 */
export function diffScans(before: ScanFinding[], after: ScanFinding[], time: string): WatchEvent[] {
  const old = new Map(before.map((f) => [f.id, f]));
  const now = new Map(after.map((f) => [f.id, f]));
  const events: WatchEvent[] = [];
  const event = (type: WatchEventType, f: ScanFinding) => events.push({ time, type, id: f.id, kind: f.kind, name: f.name, location: f.location, status: f.status });
  for (const f of after) {
    const was = old.get(f.id);
    if (LIVE_KINDS.has(f.kind) && !was) event('agent-started', f);
    else if (SERVER_KINDS.has(f.kind) && !was) event('server-up', f);
    else if (f.kind === 'mcp-server' && !was) event('mcp-added', f);
    else if (f.kind === 'mcp-server' && was && was.details.contentHash !== f.details.contentHash) event('mcp-changed', f);
  }
  for (const f of before) {
    if (now.has(f.id)) continue;
    if (LIVE_KINDS.has(f.kind)) event('agent-stopped', f);
    else if (SERVER_KINDS.has(f.kind)) event('server-down', f);
    else if (f.kind === 'mcp-server') event('mcp-removed', f);
  }
  return events;
}

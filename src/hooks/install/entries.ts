/**
 * The text edits of `hooks install` / `uninstall` on one agent's hook file: agentguard's entry added to each event
 * (or its command line brought up to date), or taken out again, through editJsonc so comments, layout and every
 * other entry stay as they were.
 */
import { isPlainObject } from '../../core/plain-object.js';
import { editJsonc, parseJsonc } from '../../scan/mcp/jsonc.js';
import type { AgentHookSpec } from './agents.js';
import { eventsOf } from './agents.js';

export class HookConfigError extends Error {
  override name = 'HookConfigError';
}

const BOM = '\uFEFF';

type Path = Array<string | number>;

/** True for a command line that runs agentguard's hook for `agent` (any install location or launcher). */
export function runsAgentguardHook(command: unknown, agent: string): boolean {
  if (typeof command !== 'string') return false;
  const id = agent.replace(/[-]/g, '\\-');
  return new RegExp(`agentguard-hook(?:\\.js)?["']?\\s+${id}\\s*$`).test(command) || new RegExp(`(?:^|[\\s/\\\\"'])agentguard(?:\\.js)?["']?\\s+hook\\s+${id}(?:\\s|$)`).test(command);
}

/** The document of a hook file: undefined for an empty file; throws HookConfigError when it cannot be read safely. */
export function readHookDocument(spec: AgentHookSpec, path: string, text: string): Record<string, unknown> | undefined {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  if (body.trim() === '') return undefined;
  const parsed = parseJsonc(body, { strict: !spec.jsonc });
  if (!parsed.ok) throw new HookConfigError(`${path} cannot be read: ${parsed.message}${spec.jsonc ? '' : ' (the agent reads this file as strict JSON: no comments or trailing commas)'}`);
  if (parsed.value === undefined) return undefined;
  if (!isPlainObject(parsed.value)) throw new HookConfigError(`${path} cannot be read: it is not a JSON object`);
  const hooks = parsed.value.hooks;
  if (hooks !== undefined && !isPlainObject(hooks)) throw new HookConfigError(`${path} cannot be read: "hooks" is not an object`);
  for (const event of eventsOf(spec)) {
    const list = isPlainObject(hooks) ? hooks[event] : undefined;
    if (list !== undefined && !Array.isArray(list)) throw new HookConfigError(`${path} cannot be read: "hooks.${event}" is not a list`);
  }
  return parsed.value;
}

/** Where agentguard's handlers sit under one event: the path of each handler and its command line. */
function ourHandlers(spec: AgentHookSpec, doc: Record<string, unknown> | undefined, event: string): Array<{ path: Path; group?: number; command: string }> {
  const hooks = doc?.hooks;
  const list = isPlainObject(hooks) && Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : [];
  const found: Array<{ path: Path; group?: number; command: string }> = [];
  const commandOf = (handler: unknown) => (isPlainObject(handler) ? spec.commandKeys.map((k) => handler[k]).find((c) => runsAgentguardHook(c, spec.agent)) : undefined);
  list.forEach((entry, i) => {
    if (spec.layout === 'flat') {
      const command = commandOf(entry);
      if (typeof command === 'string') found.push({ path: ['hooks', event, i], command });
      return;
    }
    const handlers = isPlainObject(entry) && Array.isArray(entry.hooks) ? entry.hooks : [];
    handlers.forEach((handler: unknown, j: number) => {
      const command = commandOf(handler);
      if (typeof command === 'string') found.push({ path: ['hooks', event, i, 'hooks', j], group: i, command });
    });
  });
  return found;
}

export type EventState = 'installed' | 'outdated' | 'missing';

/** Per event: agentguard's handler with this command line, with another one (an older install), or none. */
export function hookEventStates(spec: AgentHookSpec, doc: Record<string, unknown> | undefined, commandLine: string): Record<string, EventState> {
  return Object.fromEntries(
    eventsOf(spec).map((event) => {
      const ours = ourHandlers(spec, doc, event);
      return [event, ours.length === 0 ? 'missing' : ours.some((h) => h.command === commandLine) ? 'installed' : 'outdated'];
    }),
  );
}

function edit(text: string, spec: AgentHookSpec, path: Path, value: unknown): string {
  const bom = text.startsWith(BOM) ? BOM : '';
  return bom + editJsonc(bom ? text.slice(1) : text, path, value, { strict: !spec.jsonc });
}

const docOf = (spec: AgentHookSpec, text: string) => readHookDocument(spec, '(edited text)', text);

export interface HookEdit {
  text: string;
  /** Per event: what was done. */
  events: Array<{ event: string; outcome: 'added' | 'updated' | 'present' | 'removed' | 'absent' }>;
}

/** The text with agentguard's handler under every event of the agent. Unchanged when they are all there already. */
export function addHookEntries(spec: AgentHookSpec, path: string, text: string, commandLine: string): HookEdit {
  let doc = readHookDocument(spec, path, text);
  const events: HookEdit['events'] = [];
  const entryFor = () => (spec.layout === 'groups' ? { ...(spec.matcher !== undefined ? { matcher: spec.matcher } : {}), hooks: [spec.handler(commandLine)] } : spec.handler(commandLine));
  if (doc === undefined) {
    // An empty or missing file is written whole, laid out as the agents' own examples are.
    const hooks = Object.fromEntries(eventsOf(spec).map((event) => [event, [entryFor()]]));
    const bom = text.startsWith(BOM) ? BOM : '';
    return { text: `${bom}${JSON.stringify({ ...spec.newFile, hooks }, null, 2)}\n`, events: eventsOf(spec).map((event) => ({ event, outcome: 'added' })) };
  }
  if (doc.hooks === undefined) {
    // One edit, so the events keep their order (editJsonc puts each new key first).
    const hooks = Object.fromEntries(eventsOf(spec).map((event) => [event, [entryFor()]]));
    return { text: edit(text, spec, ['hooks'], hooks), events: eventsOf(spec).map((event) => ({ event, outcome: 'added' })) };
  }
  let out = text;
  // Last event first: editJsonc puts a new key first, so the lists it adds end up in the agent's event order.
  for (const event of [...eventsOf(spec)].reverse()) {
    const ours = ourHandlers(spec, doc, event);
    if (ours.some((h) => h.command === commandLine)) {
      events.push({ event, outcome: 'present' });
      continue;
    }
    if (ours.length > 0) {
      // An older install (agentguard moved): its command line is brought up to date where it stands.
      for (const key of spec.commandKeys) out = edit(out, spec, [...ours[0].path, key], commandLine);
      events.push({ event, outcome: 'updated' });
    } else {
      const list = (doc!.hooks as Record<string, unknown>)[event];
      out = list === undefined ? edit(out, spec, ['hooks', event], [entryFor()]) : edit(out, spec, ['hooks', event, -1], entryFor());
      events.push({ event, outcome: 'added' });
    }
    doc = docOf(spec, out);
  }
  return { text: out, events: events.reverse() };
}

/**
 * The text without agentguard's handlers: a group left with no handler goes, as does an event list left empty and a
 * `hooks` object left empty. Everything else stays.
 */
export function removeHookEntries(spec: AgentHookSpec, path: string, text: string): HookEdit {
  let out = text;
  let doc = readHookDocument(spec, path, text);
  const events: HookEdit['events'] = [];
  for (const event of eventsOf(spec)) {
    let removed = false;
    for (;;) {
      const ours = ourHandlers(spec, doc, event);
      const last = ours[ours.length - 1];
      if (!last) break;
      const group = last.group !== undefined ? ((doc!.hooks as Record<string, unknown[]>)[event][last.group] as { hooks: unknown[] }) : undefined;
      const target = group && group.hooks.length === 1 ? last.path.slice(0, 3) : last.path;
      out = edit(out, spec, target, undefined);
      doc = docOf(spec, out);
      removed = true;
    }
    const hooks = doc?.hooks;
    if (removed && isPlainObject(hooks) && Array.isArray(hooks[event]) && (hooks[event] as unknown[]).length === 0) {
      out = edit(out, spec, ['hooks', event], undefined);
      doc = docOf(spec, out);
    }
    events.push({ event, outcome: removed ? 'removed' : 'absent' });
  }
  if (events.some((e) => e.outcome === 'removed') && isPlainObject(doc?.hooks) && Object.keys(doc.hooks).length === 0) out = edit(out, spec, ['hooks'], undefined);
  return { text: out, events };
}

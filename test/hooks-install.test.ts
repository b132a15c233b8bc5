import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { CODING_AGENT_IDS, type CodingAgentId } from '../src/hooks/agent-ids.js';
import { hookCommandLine } from '../src/hooks/command-line.js';
import { AGENT_HOOK_SPECS, eventsOf, type HookEnvironment } from '../src/hooks/install/agents.js';
import { addHookEntries, removeHookEntries, runsAgentguardHook } from '../src/hooks/install/entries.js';
import { hooksStatus, installHooks, uninstallHooks } from '../src/hooks/install/install.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/** Each agent's file as a user may have it: other settings, other hooks, odd layout (and comments where the agent allows them). */
const FIXTURES: Record<CodingAgentId, string> = {
  'claude-code': '{\n\t"model": "opus",\n\t"permissions": { "allow": ["Bash(npm test)"] },\n\t"hooks": {\n\t\t"PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "echo pre" } ] } ]\n\t}\n}\n',
  'gemini-cli': '// my Gemini settings\n{\n  "theme": "GitHub", // dark one\n  "mcpServers": { "notes": { "command": "node", "args": ["notes.js"] } },\n}\n',
  codex: '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"say done"}]}]}}',
  cursor: '{\r\n  "version": 1,\r\n  "hooks": {\r\n    "afterFileEdit": [{ "command": "./format.sh" }]\r\n  }\r\n}\r\n',
  windsurf: '\uFEFF{ "hooks": { "post_write_code": [ { "command": "prettier --write", "show_output": true } ] } }\n',
  'copilot-cli': '',
};

let root: string;
let env: HookEnvironment;

beforeEach(() => {
  root = makeTempDir('ag-hooks-install-');
  env = { home: join(root, 'home'), project: join(root, 'project') };
  mkdirSync(env.project, { recursive: true });
});

function writeFixture(agent: CodingAgentId, scope: 'user' | 'project' = 'user'): string {
  const path = AGENT_HOOK_SPECS[agent].path(scope, env);
  mkdirSync(dirname(path), { recursive: true });
  if (FIXTURES[agent] !== '') writeFileSync(path, FIXTURES[agent]);
  return path;
}

const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('hooks install / uninstall per agent', () => {
  it.each(CODING_AGENT_IDS.map((a) => [a]))('%s: installs every pre- and post-tool event, is idempotent, and uninstall restores the file byte for byte', async (agent) => {
    const spec = AGENT_HOOK_SPECS[agent];
    const path = writeFixture(agent);
    const before = existsSync(path) ? readFileSync(path) : undefined;
    const folderBefore = filesIn(dirname(path));

    const installed = await installHooks(env, { agents: [agent], scope: 'user', dryRun: false });
    expect(installed.files[0]).toMatchObject({ agent, changed: true, written: true, created: before === undefined });
    const text = readFileSync(path, 'utf8');
    const line = hookCommandLine(agent);
    // Each event of the agent holds the command line, in the agent's own layout.
    const doc = JSON.parse(removeComments(text)) as { hooks: Record<string, unknown[]> };
    for (const event of eventsOf(spec)) {
      const entries = doc.hooks[event];
      const handlers = spec.layout === 'groups' ? entries.flatMap((g) => (g as { hooks: unknown[] }).hooks) : entries;
      expect(handlers.some((h) => spec.commandKeys.every((k) => (h as Record<string, unknown>)[k] === line)), `${event} runs the hook`).toBe(true);
    }
    if (spec.newFile) expect(doc).toMatchObject(spec.newFile);
    // The rest of the file is still there.
    if (before) for (const fragment of ['"opus"', '// dark one', '"say done"', './format.sh', 'prettier --write']) if (before.toString().includes(fragment)) expect(text).toContain(fragment);
    expect(await hooksStatus(env, [agent], ['user'])).toMatchObject([{ state: 'installed', missingEvents: [] }]);

    const again = await installHooks(env, { agents: [agent], scope: 'user', dryRun: false });
    expect(again.files[0].changed).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe(text);

    const removed = await uninstallHooks(env, { agents: [agent], scope: 'user', dryRun: false });
    expect(removed.files[0]).toMatchObject({ changed: true, written: true, restored: before === undefined ? 'removed' : 'bytes' });
    if (before === undefined) expect(existsSync(path)).toBe(false);
    else expect(readFileSync(path).equals(before)).toBe(true);
    expect(filesIn(dirname(path))).toEqual(folderBefore);
    expect(await hooksStatus(env, [agent], ['user'])).toMatchObject([{ state: before === undefined ? 'no-file' : 'missing' }]);
  });

  it('uninstall also removes the folders install made for a file it created', async () => {
    mkdirSync(join(env.home, '.copilot'), { recursive: true });
    await installHooks(env, { agents: ['copilot-cli'], scope: 'user', dryRun: false });
    expect(existsSync(join(env.home, '.copilot', 'hooks', 'agentguard.json'))).toBe(true);
    await installHooks(env, { agents: ['copilot-cli'], scope: 'project', dryRun: false });
    expect(existsSync(join(env.project, '.github', 'hooks', 'agentguard.json'))).toBe(true);
    await uninstallHooks(env, { agents: ['copilot-cli'], scope: 'user', dryRun: false });
    await uninstallHooks(env, { agents: ['copilot-cli'], scope: 'project', dryRun: false });
    expect(filesIn(join(env.home, '.copilot'))).toEqual([]);
    expect(filesIn(env.project)).toEqual([]);
  });

  it('project scope writes the project file and leaves the home folder alone', async () => {
    const path = writeFixture('claude-code', 'project');
    await installHooks(env, { agents: ['claude-code'], scope: 'project', dryRun: false });
    expect(path.startsWith(env.project)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('agentguard-hook.js');
    expect(existsSync(join(env.home, '.claude', 'settings.json'))).toBe(false);
    await uninstallHooks(env, { agents: ['claude-code'], scope: 'project', dryRun: false });
    expect(readFileSync(path, 'utf8')).toBe(FIXTURES['claude-code']);
  });

  it('a file edited after install: uninstall takes out only the agentguard entries and keeps the edit', async () => {
    const path = writeFixture('cursor');
    await installHooks(env, { agents: ['cursor'], scope: 'user', dryRun: false });
    const edited = readFileSync(path, 'utf8').replace('"./format.sh"', '"./format.sh --fast"');
    writeFileSync(path, edited);
    const report = await uninstallHooks(env, { agents: ['cursor'], scope: 'user', dryRun: false });
    expect(report.files[0].restored).toBe('entries');
    expect(report.files[0].notes.join(' ')).toMatch(/changed since install/);
    const after = readFileSync(path, 'utf8');
    expect(after).toContain('./format.sh --fast');
    expect(after).not.toContain('agentguard-hook');
    expect(existsSync(`${path}.agentguard-hooks-backup`)).toBe(false);
  });

  it('an older install location is brought up to date in place, not added twice', async () => {
    const path = writeFixture('claude-code');
    await installHooks(env, { agents: ['claude-code'], scope: 'user', dryRun: false, commandLine: () => 'node "/old/place/bin/agentguard-hook.js" claude-code' });
    expect(await hooksStatus(env, ['claude-code'], ['user'])).toMatchObject([{ state: 'outdated' }]);
    const report = await installHooks(env, { agents: ['claude-code'], scope: 'user', dryRun: false });
    expect(report.files[0].events.map((e) => e.outcome)).toEqual(['updated', 'updated']);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('/old/place');
    expect(text.split('agentguard-hook.js').length - 1).toBe(2);
    // Nobody edited the file between the two installs: the first backup still holds the original.
    await uninstallHooks(env, { agents: ['claude-code'], scope: 'user', dryRun: false });
    expect(readFileSync(path, 'utf8')).toBe(FIXTURES['claude-code']);
  });
});

describe('refusals and dry runs', () => {
  it('a file that does not parse is refused with its line:column, exit 2, and nothing is written anywhere', async () => {
    const broken = writeFixture('claude-code');
    writeFileSync(broken, '{\n  "model": "opus",\n  // comments are not JSON\n}\n');
    const cursor = writeFixture('cursor');
    const result = await runCliInProcess(['hooks', 'install', '--all', '--home', env.home], { cwd: env.project });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HOOKS_CONFIG_UNREADABLE');
    expect(result.stderr).toMatch(/settings\.json cannot be read: Comments are not allowed in JSON at 3:3/);
    expect(readFileSync(broken, 'utf8')).toBe('{\n  "model": "opus",\n  // comments are not JSON\n}\n');
    expect(readFileSync(cursor, 'utf8')).toBe(FIXTURES.cursor);
    expect(filesIn(dirname(cursor))).toEqual(['hooks.json']);
    }, 90_000);

  it('a hooks value of the wrong shape is refused', async () => {
    const path = writeFixture('gemini-cli');
    writeFileSync(path, '{ "hooks": { "BeforeTool": { "command": "x" } } }');
    await expect(installHooks(env, { agents: ['gemini-cli'], scope: 'user', dryRun: false })).rejects.toThrow(/"hooks.BeforeTool" is not a list/);
    expect(readFileSync(path, 'utf8')).toBe('{ "hooks": { "BeforeTool": { "command": "x" } } }');
  });

  it('--dry-run shows the diff and writes nothing (no file, no backup, no folder)', async () => {
    const result = await runCliInProcess(['hooks', 'install', 'copilot-cli', '--dry-run', '--home', env.home], { cwd: env.project });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+    "preToolUse": [');
    expect(result.stdout).toContain('dry run: nothing written');
    expect(existsSync(join(env.home, '.copilot'))).toBe(false);
  });

  it('--json gives the report; status reads both scopes; uninstall through the CLI restores the file', async () => {
    const path = writeFixture('gemini-cli');
    const installed = await runCliInProcess(['hooks', 'install', 'gemini-cli', '--json', '--home', env.home], { cwd: env.project });
    expect(installed.code).toBe(0);
    const report = JSON.parse(installed.stdout) as { files: Array<{ path: string; written: boolean; backup: string }> };
    expect(report.files[0]).toMatchObject({ path, written: true, backup: `${path}.agentguard-hooks-backup` });
    const status = await runCliInProcess(['hooks', 'status', '--json', '--home', env.home], { cwd: env.project });
    const hooks = (JSON.parse(status.stdout) as { hooks: Array<{ agent: string; scope: string; state: string }> }).hooks;
    expect(hooks.find((h) => h.agent === 'gemini-cli' && h.scope === 'user')?.state).toBe('installed');
    expect(hooks.find((h) => h.agent === 'gemini-cli' && h.scope === 'project')?.state).toBe('no-file');
    expect(hooks.filter((h) => h.state === 'installed')).toHaveLength(1);
    const removed = await runCliInProcess(['hooks', 'uninstall', 'gemini-cli', '--home', env.home], { cwd: env.project });
    expect(removed.stdout).toContain('restored byte for byte');
    expect(readFileSync(path, 'utf8')).toBe(FIXTURES['gemini-cli']);
  });

  it('an agent whose settings turn hooks off is reported as disabled, not secured', async () => {
    const claude = writeFixture('claude-code');
    writeFileSync(claude, '{ "disableAllHooks": true }\n');
    writeFixture('codex');
    writeFileSync(join(env.home, '.codex', 'config.toml'), 'model = "o4"\n[features]\nhooks = false\n');
    await installHooks(env, { agents: ['claude-code', 'codex'], scope: 'user', dryRun: false });
    const status = await hooksStatus(env, ['claude-code', 'codex'], ['user']);
    expect(status.map((s) => [s.agent, s.state])).toEqual([['claude-code', 'disabled'], ['codex', 'disabled']]);
    expect(status[0].reason).toContain('disableAllHooks');
    expect(status[1].reason).toContain('[features] hooks = false');
    writeFileSync(join(env.home, '.codex', 'config.toml'), '[features]\nhooks = true\n');
    expect((await hooksStatus(env, ['codex'], ['user']))[0].state).toBe('installed');
  });

  it('status reports a file it cannot read as unreadable (exit 1), never as not installed', async () => {
    const path = writeFixture('codex');
    writeFileSync(path, '{ "hooks": ');
    const result = await runCliInProcess(['hooks', 'status', 'codex', '--home', env.home], { cwd: env.project });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('cannot be read');
  });

  it('--all with no agent set up says so', async () => {
    const result = await runCliInProcess(['hooks', 'install', '--all', '--home', env.home], { cwd: env.project });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HOOKS_NO_AGENT');
  });
});

describe('the entry edits', () => {
  it('recognises agentguard hook command lines and nothing else', () => {
    expect(runsAgentguardHook('node "/x/bin/agentguard-hook.js" cursor', 'cursor')).toBe(true);
    expect(runsAgentguardHook('agentguard hook cursor', 'cursor')).toBe(true);
    expect(runsAgentguardHook('node "/x/bin/agentguard-hook.js" cursor', 'codex')).toBe(false);
    expect(runsAgentguardHook('echo agentguard-hook.js cursor-fake', 'cursor')).toBe(false);
    expect(runsAgentguardHook('./format.sh', 'cursor')).toBe(false);
  });

  it('add then remove gives back the document for any settings the agent could hold', () => {
    const spec = AGENT_HOOK_SPECS['claude-code'];
    const handler = fc.record({ type: fc.constant('command'), command: fc.string({ maxLength: 12 }) });
    const doc = fc.record(
      {
        model: fc.string({ maxLength: 8 }),
        hooks: fc.dictionary(fc.constantFrom('PreToolUse', 'PostToolUse', 'Stop'), fc.array(fc.record({ matcher: fc.constantFrom('Bash', '*', 'Edit|Write'), hooks: fc.array(handler, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(doc, fc.constantFrom(0, 2, 4, '\t'), (value, indent) => {
        const text = `${JSON.stringify(value, null, indent)}\n`;
        const added = addHookEntries(spec, 'x', text, hookCommandLine('claude-code'));
        const states = eventsOf(spec).map((e) => JSON.parse(added.text).hooks[e].length > 0);
        expect(states).toEqual([true, true]);
        const removed = removeHookEntries(spec, 'x', added.text);
        // Entries alone cannot tell an empty "hooks" the user wrote from one install emptied: it goes.
        const { hooks, ...rest } = value;
        expect(JSON.parse(removed.text)).toEqual(hooks && Object.keys(hooks).length > 0 ? value : rest);
      }),
      { numRuns: 60 },
    );
  });
});

describe('every agent layout', () => {
  it.each(CODING_AGENT_IDS.map((a) => [a]))('%s: add then remove gives back the document, whatever other hooks and settings it holds', (agent) => {
    const spec = AGENT_HOOK_SPECS[agent];
    const events = [...eventsOf(spec), 'SomeOtherEvent'];
    const other = fc.record({ command: fc.string({ maxLength: 10 }).filter((c) => !c.includes('agentguard')) });
    const entry = spec.layout === 'groups' ? fc.record({ matcher: fc.constantFrom('*', 'Bash', 'run_shell_command'), hooks: fc.array(other, { minLength: 1, maxLength: 2 }) }) : other;
    const doc = fc.record({ theme: fc.string({ maxLength: 6 }), hooks: fc.dictionary(fc.constantFrom(...events), fc.array(entry, { minLength: 1, maxLength: 2 }), { minKeys: 1 }) }, { requiredKeys: ['hooks'] });
    fc.assert(
      fc.property(doc, fc.constantFrom(0, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const added = addHookEntries(spec, 'x', text, hookCommandLine(agent));
        for (const event of eventsOf(spec)) expect(JSON.stringify(JSON.parse(added.text).hooks[event])).toContain('agentguard-hook.js');
        expect(addHookEntries(spec, 'x', added.text, hookCommandLine(agent)).text).toBe(added.text);
        expect(JSON.parse(removeHookEntries(spec, 'x', added.text).text)).toEqual(value);
      }),
      { numRuns: 40 },
    );
  });
});

/** Strips // comments and trailing commas (the Gemini fixture is JSONC) for a plain JSON.parse in the assertions. */
function removeComments(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\/\/[^\n"]*$/gm, '').replace(/,(\s*[}\]])/g, '$1');
}

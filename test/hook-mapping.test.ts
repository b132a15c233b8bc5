import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Action } from '../src/core/action.js';
import { CODING_AGENT_IDS, type CodingAgentId } from '../src/hooks/agent-ids.js';
import { claudeCode } from '../src/hooks/agents/claude-code.js';
import { codex } from '../src/hooks/agents/codex.js';
import { copilotCli } from '../src/hooks/agents/copilot-cli.js';
import { cursor } from '../src/hooks/agents/cursor.js';
import { geminiCli } from '../src/hooks/agents/gemini-cli.js';
import { loadAdapter } from '../src/hooks/agents/index.js';
import { windsurf } from '../src/hooks/agents/windsurf.js';
import type { AgentAdapter } from '../src/hooks/types.js';
import { patchTargets } from '../src/hooks/agents/codex.js';
import { hookCommandLine, hookEntryPath } from '../src/hooks/command-line.js';
import { runHook } from '../src/hooks/run-hook.js';
import type { ParsedHook, PreToolHook } from '../src/hooks/types.js';
import { hookFixture } from './helpers/hook-fixtures.js';

const CWD = '/home/dev/app';
const ADAPTERS: Record<CodingAgentId, AgentAdapter> = { 'claude-code': claudeCode, codex, 'copilot-cli': copilotCli, cursor, 'gemini-cli': geminiCli, windsurf };
const adapterFor = (id: CodingAgentId): AgentAdapter => ADAPTERS[id];
const parse = (agent: CodingAgentId, file: string): ParsedHook => adapterFor(agent).parse(hookFixture(agent, file, { cwd: CWD, session: 'sess-1' }));
const pre = (agent: CodingAgentId, file: string): PreToolHook => {
  const hook = parse(agent, file);
  if (hook.phase !== 'pre') throw new Error(`${agent}/${file} is not a pre-tool payload`);
  return hook;
};
const only = (hook: PreToolHook): Action => {
  expect(hook.actions).toHaveLength(1);
  return hook.actions[0]!;
};

/** The mapping table of docs/coding-agents/: one row per fixture. */
const TABLE: Array<[CodingAgentId, string, string, string, Record<string, unknown>]> = [
  ['claude-code', 'bash.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['claude-code', 'read.json', 'file', 'file.read', { path: `${CWD}/src/index.ts` }],
  ['claude-code', 'write.json', 'file', 'file.write', { path: `${CWD}/notes.md`, content: '# Notes' }],
  ['claude-code', 'fetch.json', 'http', 'web.fetch', { url: 'https://docs.example.com/guide' }],
  ['claude-code', 'mcp.json', 'mcp', 'mcp.github.list_issues', { owner: 'org', repo: 'app' }],
  ['codex', 'bash.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['codex', 'mcp.json', 'mcp', 'mcp.github.list_issues', { owner: 'org', repo: 'app' }],
  ['copilot-cli', 'bash.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['copilot-cli', 'pascal-bash.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['copilot-cli', 'view.json', 'file', 'file.read', { path: `${CWD}/src/index.ts` }],
  ['copilot-cli', 'create.json', 'file', 'file.write', { path: `${CWD}/notes.md`, content: '# Notes' }],
  ['copilot-cli', 'fetch.json', 'http', 'web.fetch', { url: 'https://docs.example.com/guide' }],
  ['copilot-cli', 'mcp.json', 'tool', 'copilot.github-list_issues', { owner: 'org', repo: 'app' }],
  ['cursor', 'shell.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['cursor', 'mcp.json', 'mcp', 'mcp.unknown.list_issues', { owner: 'org', repo: 'app' }],
  ['gemini-cli', 'shell.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['gemini-cli', 'read.json', 'file', 'file.read', { path: `${CWD}/src/index.ts` }],
  ['gemini-cli', 'write.json', 'file', 'file.write', { path: `${CWD}/notes.md`, content: '# Notes' }],
  ['gemini-cli', 'fetch.json', 'http', 'web.fetch', { url: 'https://docs.example.com/guide' }],
  ['gemini-cli', 'mcp.json', 'mcp', 'mcp.github.list_issues', { owner: 'org', repo: 'app' }],
  ['windsurf', 'run.json', 'shell', 'shell.exec', { command: 'ls -la', cwd: CWD }],
  ['windsurf', 'read.json', 'file', 'file.read', { path: `${CWD}/src/index.ts` }],
  ['windsurf', 'write.json', 'file', 'file.edit', { path: `${CWD}/src/index.ts`, edits: [{ old_string: 'a = 1', new_string: 'a = 2' }] }],
  ['windsurf', 'mcp.json', 'mcp', 'mcp.github.list_issues', { owner: 'org', repo: 'app' }],
];

describe('each agent\'s tool calls map onto the common actions', () => {
  it.each(TABLE)('%s %s → %s %s', (agent, file, kind, name, input) => {
    const action = only(pre(agent, file));
    expect(action).toMatchObject({ kind, name, input });
    // Windsurf names a folder only for commands; its other calls are placed in the hook's own working folder.
    const cwd = agent === 'windsurf' && file !== 'run.json' ? process.cwd() : CWD;
    expect(action.context).toMatchObject({ agent, session: { id: 'sess-1' }, cwd });
  });

  it('file actions say whether the path is outside the working folder', () => {
    expect(only(pre('claude-code', 'read.json')).context).toMatchObject({ file: { relative: 'src/index.ts', outsideCwd: false } });
    const payload = hookFixture('claude-code', 'read.json', { cwd: CWD, session: 's' });
    const outside = adapterFor('claude-code').parse({ ...payload, tool_input: { file_path: '/home/dev/.ssh/id_rsa' } }) as PreToolHook;
    expect(outside.actions[0]!.context).toMatchObject({ file: { relative: '../.ssh/id_rsa', outsideCwd: true } });
    const home = adapterFor('claude-code').parse({ ...payload, tool_input: { file_path: '~/.aws/credentials' } }) as PreToolHook;
    expect((home.actions[0]!.input as { path: string }).path).toMatch(/\/\.aws\/credentials$/);
    expect((home.actions[0]!.input as { path: string }).path.startsWith('~')).toBe(false);
  });

  it("Codex's apply_patch is one file action per file the patch touches", () => {
    const hook = pre('codex', 'apply-patch.json');
    expect(hook.actions.map((a) => [a.name, (a.input as { path: string }).path])).toEqual([
      ['file.edit', `${CWD}/src/app.ts`],
      ['file.write', `${CWD}/docs/notes.md`],
    ]);
    expect(hook.rewrite).toBeUndefined();
    expect(patchTargets('*** Begin Patch\n*** Delete File: a.txt\n*** Update File: b.txt\n*** Move to: c.txt\n*** End Patch')).toEqual([
      { name: 'file.delete', path: 'a.txt' },
      { name: 'file.edit', path: 'b.txt' },
      { name: 'file.write', path: 'c.txt' },
    ]);
  });

  it("Gemini CLI's web_fetch decides each URL of its prompt", () => {
    const payload = hookFixture('gemini-cli', 'fetch.json', { cwd: CWD, session: 's' });
    const hook = adapterFor('gemini-cli').parse({ ...payload, tool_input: { prompt: 'Compare https://a.example/x and https://b.example/y.' } }) as PreToolHook;
    expect(hook.actions.map((a) => (a.input as { url: string }).url)).toEqual(['https://a.example/x', 'https://b.example/y']);
  });

  it("Cursor's beforeReadFile also decides the content it hands over, as the read's result", () => {
    const hook = pre('cursor', 'read.json');
    expect(hook.actions.map((a) => [a.kind, a.name])).toEqual([['file', 'file.read'], ['tool_output', 'file.read']]);
    expect(hook.actions[1]!.input).toEqual({ content: ['export const a = 1;\n'] });
  });

  it('unknown tools keep their own name under the agent prefix', () => {
    const payload = hookFixture('claude-code', 'bash.json', { cwd: CWD, session: 's' });
    const hook = adapterFor('claude-code').parse({ ...payload, tool_name: 'TodoWrite', tool_input: { todos: [] } }) as PreToolHook;
    expect(hook.actions[0]).toMatchObject({ kind: 'tool', name: 'claude.TodoWrite', input: { todos: [] } });
  });

  it('results become output actions named like the call', () => {
    const cases: Array<[CodingAgentId, string, string, string, string]> = [
      ['claude-code', 'post-fetch.json', 'tool_output', 'web.fetch', 'The guide says: install with npm.'],
      ['codex', 'post-bash.json', 'tool_output', 'shell.exec', 'total 8'],
      ['copilot-cli', 'post-fetch.json', 'tool_output', 'web.fetch', 'The guide says: install with npm.'],
      ['cursor', 'post-shell.json', 'tool_output', 'shell.exec', 'total 8'],
      ['gemini-cli', 'post-fetch.json', 'tool_output', 'web.fetch', 'The guide says: install with npm.'],
      ['windsurf', 'post-mcp.json', 'mcp_output', 'mcp.github.list_issues', '"title":"Bug"'],
    ];
    for (const [agent, file, kind, name, text] of cases) {
      const hook = parse(agent, file);
      expect(hook.phase, `${agent}/${file}`).toBe('post');
      if (hook.phase !== 'post') continue;
      expect(hook.action).toMatchObject({ kind, name, context: { session: { id: 'sess-1' } } });
      expect(JSON.stringify(hook.action!.input)).toContain(JSON.stringify(text).slice(1, -1));
    }
  });

  it('other events are not tool calls', () => {
    expect(parse('claude-code', 'session-start.json').phase).toBe('other');
    expect(parse('cursor', 'after-edit.json').phase).toBe('other');
  });
});

describe('rewrites go back into the tool input the agent sent', () => {
  it('a changed command keeps the call\'s other fields', () => {
    const hook = pre('claude-code', 'bash.json');
    const decided = { ...hook.actions[0]!, input: { ...hook.actions[0]!.input, command: 'ls' } };
    expect(hook.rewrite!(decided)).toEqual({ command: 'ls', description: 'List files' });
  });

  it('a changed path is written under the tool\'s own field name', () => {
    const hook = pre('copilot-cli', 'create.json');
    const decided = { ...hook.actions[0]!, input: { ...hook.actions[0]!.input, path: `${CWD}/safe.md` } };
    expect(hook.rewrite!(decided)).toEqual({ path: `${CWD}/safe.md`, file_text: '# Notes' });
  });

  it('the working folder of a call cannot be changed', () => {
    const hook = pre('claude-code', 'bash.json');
    expect(hook.rewrite!({ ...hook.actions[0]!, input: { command: 'ls', cwd: '/' } })).toMatch(/another folder/);
  });

  it('Gemini CLI merges rewritten arguments, so a removed one cannot be expressed', () => {
    const hook = pre('gemini-cli', 'write.json');
    expect(hook.rewrite!({ ...hook.actions[0]!, input: { path: `${CWD}/notes.md` } })).toMatch(/cannot remove content/);
  });

  it('Cursor and Windsurf have no rewrite', () => {
    expect(pre('cursor', 'shell.json').rewrite).toBeUndefined();
    expect(pre('windsurf', 'run.json').rewrite).toBeUndefined();
  });
});

describe('malformed payloads are denied in the agent\'s format, never a crash', () => {
  const env = { PATH: process.env.PATH };
  it.each(CODING_AGENT_IDS)('%s', async (agent) => {
    for (const stdin of ['', 'not json', '[1,2]', '{"tool_name": 3, "toolName": 3, "hook_event_name": 3, "agent_action_name": 3}']) {
      const result = await runHook({ agent, stdin, env });
      const blocked = result.exitCode === 2 || /"(?:deny)"/.test(result.stdout);
      expect(blocked, `${agent} ${JSON.stringify(stdin)}: ${JSON.stringify(result)}`).toBe(true);
      expect(result.stderr + result.stdout).toMatch(/hook payload is not one agentguard understands/);
      expect(result.stderr + result.stdout).toMatch(/AGENTGUARD_HOOK_BYPASS=1/);
    }
  });

  it('any JSON object at all gets an answer, not an exception (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CODING_AGENT_IDS), fc.object({ maxDepth: 3 }), async (agent, value) => {
        // Without a project to decide with, anything that parses as a tool call is denied for the missing config.
        const result = await runHook({ agent, stdin: JSON.stringify(value), env: { AGENTGUARD_PROJECT: '/nonexistent-agentguard-project', HOME: '/nonexistent-home' } });
        expect(typeof result.stdout).toBe('string');
        expect([0, 2]).toContain(result.exitCode);
      }),
      { numRuns: 60 },
    );
  });

  it('an unknown agent id is a usage error naming the known ones', async () => {
    const result = await runHook({ agent: 'vim', stdin: '{}', env: {} });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('claude-code');
  });
});

describe('a hook process loads only its own agent', () => {
  it.each(CODING_AGENT_IDS)('%s', async (agent) => {
    expect(await loadAdapter(agent)).toBe(ADAPTERS[agent]);
  });
});

describe('the command line hooks are installed with', () => {
  it('is node and the lean entry, both by absolute path, and the agent id', () => {
    expect(hookCommandLine('claude-code')).toBe(`"${process.execPath}" "${hookEntryPath()}" claude-code`);
    expect(hookEntryPath()).toMatch(/\/bin\/agentguard-hook\.js$/);
    expect(() => hookCommandLine('rm -rf /')).toThrow();
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProjectConfig } from '../src/core/config/project-config.js';
import { readPinsConfig } from '../src/mcp/pins/config.js';
import { openProjectPinGuard, type OpenedPinGuard } from '../src/mcp/pins/open.js';
import { makeTempDir } from './helpers/temp-dirs.js';

describe('the mcp section of agentguard.config.json', () => {
  const opened: OpenedPinGuard[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.close();
  });

  it('defaults to block, accepts hide, block and flag, and resolves descriptionPolicy against the config folder', () => {
    expect(readPinsConfig(undefined, 'c: mcp', '/p')).toEqual({ onChange: 'block' });
    expect(readPinsConfig({}, 'c: mcp', '/p')).toEqual({ onChange: 'block' });
    for (const onChange of ['hide', 'block', 'flag']) expect(readPinsConfig({ onChange }, 'c: mcp', '/p').onChange).toBe(onChange);
    expect(readPinsConfig({ descriptionPolicy: 'agentguard/tools.yaml', proxy: { port: 1 } }, 'c: mcp', '/p')).toEqual({ onChange: 'block', descriptionPolicy: '/p/agentguard/tools.yaml' });
  });

  it.each([
    [{ onChange: 'allow' }, 'c: mcp.onChange must be one of hide, block, flag (got "allow")'],
    [{ onChange: 1 }, 'c: mcp.onChange must be one of hide, block, flag (got 1)'],
    [{ descriptionPolicy: '' }, 'c: mcp.descriptionPolicy must be the path of a policy file'],
    [[], 'c: mcp must be an object'],
  ])('refuses %j with MCP_CONFIG_INVALID', (section, message) => {
    expect(() => readPinsConfig(section, 'c: mcp', '/p')).toThrow(expect.objectContaining({ code: 'MCP_CONFIG_INVALID', message }));
  });

  it('opens the project guard with its onChange, and a project description policy instead of the built-in one', async () => {
    const root = makeTempDir('ag-pins-config-');
    writeFileSync(join(root, 'tools.yaml'), 'version: 1\nname: strict-tools\ndefault: allow\nrules:\n  - id: no-deletes\n    effect: deny\n    when: { kind: mcp_tool, input.text: { regex: "\\\\bdelete" } }\n    message: no deleting tools\n');
    writeFileSync(join(root, 'agentguard.config.json'), JSON.stringify({ mcp: { onChange: 'hide', descriptionPolicy: 'tools.yaml' } }));
    const project = await readProjectConfig(join(root, 'agentguard.config.json'));
    const o = await openProjectPinGuard(project);
    opened.push(o);
    expect(o.engine.policy.name).toBe('strict-tools');
    const session = { id: 's', transport: 'stdio' as const };
    const tools = [{ name: 'rm', description: 'Will delete a file.', inputSchema: {} }, { name: 'ls', description: 'Lists files.', inputSchema: {} }];
    const result = await o.guard.checkToolList('fs', tools, session);
    expect(result.tools.map((t) => t.name)).toEqual(['ls']);
    expect(result.findings).toMatchObject([{ tool: 'rm', type: 'injection', hidden: true }]);
    expect(result.findings[0].message).toContain('no deleting tools (rule no-deletes)');
  });

  it('refuses to open with a description policy that cannot load (fail closed)', async () => {
    const root = makeTempDir('ag-pins-config-');
    writeFileSync(join(root, 'agentguard.config.json'), JSON.stringify({ mcp: { descriptionPolicy: 'missing.yaml' } }));
    const project = await readProjectConfig(join(root, 'agentguard.config.json'));
    await expect(openProjectPinGuard(project)).rejects.toMatchObject({ message: expect.stringContaining('missing.yaml') });
  });
});

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanProjects, type ProjectScanLimits } from '../src/scan/projects.js';
import type { ScanOptions, ScanSection } from '../src/scan/types.js';
import { fsReason, parseRequirement, parseToml, pyprojectDependencies, TomlError } from '../src/scan/python-deps.js';
import { jsImports, pythonImports } from '../src/scan/source-imports.js';

const SECRET = 'sk-proj-FIXTURE-never-printed-123';
let root: string;
let result: ScanSection;

async function write(rel: string, content: string | object) {
  const file = join(root, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
}

function options(paths: string[], limits: ProjectScanLimits = {}): ScanOptions & ProjectScanLimits {
  return { home: join(root, 'no-home'), paths, probe: false, platform: process.platform, procRoot: '/proc', probeTimeoutMs: 100, ...limits };
}

const finding = (dir: string) => result.findings.find((f) => f.id === `project:${join(root, dir)}`);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ag-scan-projects-'));

  // A Node LangChain agent, unsecured; langchain is installed at a version other than the declared one.
  await write('node-agent/package.json', {
    name: 'node-agent',
    dependencies: { langchain: '^0.3.0', '@langchain/openai': '^0.4.0', express: '^4.0.0' },
    devDependencies: { typescript: '^5.9.0' },
  });
  await write('node-agent/node_modules/langchain/package.json', { name: 'langchain', version: '0.3.5', dependencies: { openai: '^6.0.0' } });
  // node_modules full of agent packages: none of them is a project.
  await write('node-agent/node_modules/@openai/agents/package.json', { name: '@openai/agents', version: '0.1.0', dependencies: { openai: '^6.0.0' } });
  await write('node-agent/node_modules/crew-py/requirements.txt', 'crewai==0.1\n');
  await write('node-agent/node_modules/crew-py/agent.py', 'import crewai\n');
  await write('node-agent/src/agent.ts', "import { ChatOpenAI } from '@langchain/openai';\nimport { helper } from './helper.js';\nconst { z } = require('zod');\n");
  await write('node-agent/.env', `OPENAI_API_KEY=${SECRET}\n`);

  // A Node project that depends on agentguard: secured.
  await write('secured-app/package.json', { name: 'secured-app', dependencies: { openai: '6.1.0', agentguard: '^0.1.0' } });
  await write('secured-app/index.mjs', "import OpenAI from 'openai';\nimport { createGuard } from 'agentguard/sdk';\n");

  // A Python CrewAI project: requirements with extras, comments, markers and an include; a Poetry pyproject.
  await write(
    'crew/requirements.txt',
    [
      '# the agents',
      'crewai[tools]==0.1  # pinned',
      '-r requirements-base.txt',
      '--index-url https://pypi.org/simple',
      '',
      'requests>=2',
    ].join('\n'),
  );
  await write('crew/requirements-base.txt', 'openai >=1.0, <2 ; python_version >= "3.9"\n');
  await write(
    'crew/pyproject.toml',
    [
      '[tool.poetry]',
      'name = "crew-bot"',
      '',
      '[tool.poetry.dependencies]',
      'python = "^3.10"',
      'langgraph = "0.2.1"',
      'crewai-tools = { version = "^0.4", extras = ["all"] }  # tools',
      '',
      '[tool.poetry.group.dev.dependencies]',
      'pytest = "*"',
    ].join('\n'),
  );
  await write('crew/src/main.py', 'from crewai import Agent, Task\nimport os, json\n');

  // Python scripts only: no manifest, found by imports. The local `agents` package is not OpenAI Agents.
  await write('scripts/bot.py', 'import anthropic\nfrom langchain_openai import ChatOpenAI\nimport agents\n');
  await write('scripts/agents/__init__.py', '');

  // An LLM SDK only, unsecured: low risk.
  await write('sdk-only/package.json', { name: 'sdk-only', dependencies: { '@anthropic-ai/sdk': '^1.14.0' } });

  // Secured by its agentguard policy folder, without the package.
  await write('policy-only/requirements.txt', 'pydantic-ai-slim\n');
  await write('policy-only/agentguard/policy.yaml', 'version: 1\nname: x\n');

  // No AI dependencies: not reported.
  await write('plain/package.json', { name: 'plain', dependencies: { express: '^4.0.0' } });
  await write('plain/index.js', "const express = require('express');\n");

  // Malformed manifests: skipped with the parser's reason.
  await write('broken/package.json', '{ "name": "broken", "dependencies": { ');
  await write('bad-toml/pyproject.toml', '[project]\ndependencies = ["openai"\nname = "x"\n');

  // Deeper than the default depth of 6 (root is depth 0).
  await write('a/b/c/d/e/f/g/deep/requirements.txt', 'openai\n');

  result = await scanProjects(options([root]));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('scanProjects', () => {
  it('reports the Node LangChain agent as unsecured, with the installed version', () => {
    const f = finding('node-agent');
    expect(f).toBeDefined();
    expect(f!.kind).toBe('project');
    expect(f!.name).toBe('node-agent');
    expect(f!.status).toBe('unsecured');
    expect(f!.risk).toBe('medium');
    expect(f!.location).toBe(join(root, 'node-agent'));
    expect(f!.frameworks).toEqual([{ name: 'LangChain', version: '0.3.5' }]);
    expect(f!.evidence).toContain(
      `package.json dependencies: langchain ^0.3.0 (installed 0.3.5, read from ${join('node_modules', 'langchain', 'package.json')})`,
    );
    expect(f!.evidence).toContain('package.json dependencies: @langchain/openai ^0.4.0');
    expect(f!.evidence).toContain(`${join('src', 'agent.ts')} imports @langchain/openai`);
    expect(f!.details.languages).toEqual(['javascript', 'typescript']);
    expect(f!.details.dependencyFiles).toEqual(['package.json']);
    expect(f!.details.packages).toContainEqual({ ecosystem: 'npm', name: 'langchain', framework: 'LangChain', declared: '^0.3.0', version: '0.3.5' });
  });

  it('never reports folders inside node_modules as projects', () => {
    const inside = result.findings.filter((f) => f.location.includes(`${join('node_modules')}`));
    expect(inside).toEqual([]);
  });

  it('reports a project that depends on agentguard as secured, risk info', () => {
    const f = finding('secured-app');
    expect(f?.status).toBe('secured');
    expect(f?.risk).toBe('info');
    expect(f?.frameworks).toEqual([{ name: 'OpenAI SDK', version: '6.1.0' }]);
    expect(f?.evidence).toContain('package.json dependencies: agentguard ^0.1.0');
    expect(f?.evidence).toContain('index.mjs imports agentguard');
    expect(f?.notes).toEqual([]);
  });

  it('reads requirements (extras, comments, markers, -r) and a Poetry pyproject', () => {
    const f = finding('crew');
    expect(f?.name).toBe('crew-bot');
    expect(f?.status).toBe('unsecured');
    expect(f?.risk).toBe('medium');
    expect(f?.frameworks).toEqual([
      { name: 'CrewAI', version: '0.1' },
      { name: 'OpenAI SDK', version: '>=1.0, <2' },
      { name: 'LangGraph', version: '0.2.1' },
    ]);
    expect(f?.evidence).toEqual(
      expect.arrayContaining([
        'requirements.txt line 2: crewai ==0.1',
        'requirements-base.txt line 1: openai >=1.0, <2',
        'pyproject.toml [tool.poetry.dependencies]: langgraph 0.2.1',
        'pyproject.toml [tool.poetry.dependencies]: crewai-tools ^0.4',
        `${join('src', 'main.py')} imports crewai`,
      ]),
    );
    expect(f?.details.dependencyFiles).toEqual(['requirements.txt', 'requirements-base.txt', 'pyproject.toml']);
    expect(f?.details.languages).toEqual(['python']);
    expect(f?.details.packages).toContainEqual({ ecosystem: 'pypi', name: 'crewai', framework: 'CrewAI', declared: '==0.1', version: '0.1' });
    expect(JSON.stringify(f)).not.toContain('requests');
    expect(JSON.stringify(f)).not.toContain('pytest');
  });

  it('finds a script-only Python project by its imports, ignoring local modules that shadow a package', () => {
    const f = finding('scripts');
    expect(f?.status).toBe('unsecured');
    expect(f?.risk).toBe('medium');
    expect(f?.frameworks.map((x) => x.name)).toEqual(['Anthropic SDK', 'LangChain']);
    expect(f?.evidence).toEqual(['bot.py imports anthropic', 'bot.py imports langchain_openai']);
    expect(f?.details.dependencyFiles).toEqual([]);
  });

  it('rates an LLM SDK without an agent framework as low risk', () => {
    const f = finding('sdk-only');
    expect(f?.status).toBe('unsecured');
    expect(f?.risk).toBe('low');
    expect(f?.frameworks).toEqual([{ name: 'Anthropic SDK', version: '^1.14.0' }]);
  });

  it('counts an agentguard policy folder as secured', () => {
    const f = finding('policy-only');
    expect(f?.status).toBe('secured');
    expect(f?.evidence).toContain('agentguard/policy.yaml is present');
  });

  it('does not report projects without AI dependencies', () => {
    expect(finding('plain')).toBeUndefined();
  });

  it('skips malformed package.json and pyproject.toml with the parser message', () => {
    const pkg = result.skipped.find((s) => s.what === join(root, 'broken', 'package.json'));
    expect(pkg?.reason).toBe("malformed: not valid JSON: Expected ',' or '}' after property value at 1:39");
    const toml = result.skipped.find((s) => s.what === join(root, 'bad-toml', 'pyproject.toml'));
    expect(toml?.reason).toBe('malformed: expected comma or end of structure at 3:1');
    expect(finding('broken')).toBeUndefined();
  });

  it('stops at the depth limit, and goes deeper when asked', async () => {
    expect(finding('a/b/c/d/e/f/g/deep')).toBeUndefined();
    const deeper = await scanProjects(options([join(root, 'a')], { maxDepth: 7 }));
    expect(deeper.findings.map((f) => f.id)).toEqual([`project:${join(root, 'a/b/c/d/e/f/g/deep')}`]);
  });

  it('never reads or prints secret values from the projects it walks', () => {
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('reports exactly the expected projects, and nothing unexpected was skipped', () => {
    expect(result.findings.map((f) => f.id).sort()).toEqual(
      ['crew', 'node-agent', 'policy-only', 'scripts', 'sdk-only', 'secured-app'].map((d) => `project:${join(root, d)}`).sort(),
    );
    expect(result.skipped.map((s) => s.what).sort()).toEqual([join(root, 'bad-toml', 'pyproject.toml'), join(root, 'broken', 'package.json')]);
  });
});

describe('scanProjects limits and unreadable input', () => {
  it('stops after the entry limit and says so', async () => {
    const many = join(root, 'many');
    await mkdir(many, { recursive: true });
    await Promise.all(Array.from({ length: 30 }, (_, n) => writeFile(join(many, `f${n}.txt`), '')));
    const limited = await scanProjects(options([many], { maxEntries: 20 }));
    expect(limited.skipped).toEqual([{ what: many, reason: `stopped after 20 entries under ${many}` }]);
    const unlimited = await scanProjects(options([many]));
    expect(unlimited.skipped).toEqual([]);
  });

  it('writes the limit with thousands separators, as in "stopped after 20,000 entries"', async () => {
    const big = join(root, 'big');
    await mkdir(big, { recursive: true });
    await Promise.all(Array.from({ length: 1001 }, (_, n) => writeFile(join(big, `f${n}`), '')));
    const limited = await scanProjects(options([big], { maxEntries: 1000 }));
    expect(limited.skipped).toEqual([{ what: big, reason: `stopped after 1,000 entries under ${big}` }]);
  });

  it('reports a missing path and a missing -r include as skipped', async () => {
    await write('missing-include/requirements.txt', 'openai\n-r nope.txt\n');
    const missing = join(root, 'does-not-exist');
    const r = await scanProjects(options([missing, join(root, 'missing-include')]));
    expect(r.skipped).toEqual([
      { what: missing, reason: 'not found' },
      { what: join(root, 'missing-include', 'nope.txt'), reason: 'not found' },
    ]);
    expect(r.findings).toHaveLength(1);
  });

  it('reports a manifest that cannot be read as unreadable, and goes on', async () => {
    await mkdir(join(root, 'odd', 'package.json'), { recursive: true });
    await write('odd/requirements.txt', 'anthropic\n');
    const r = await scanProjects(options([join(root, 'odd')]));
    expect(r.skipped).toEqual([{ what: join(root, 'odd', 'package.json'), reason: 'unreadable (EISDIR)' }]);
    expect(r.findings.map((f) => f.frameworks)).toEqual([[{ name: 'Anthropic SDK' }]]);
  });

  it('names file system errors the way the report shows them', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(fsReason(err('EACCES'))).toBe('permission denied');
    expect(fsReason(err('EPERM'))).toBe('permission denied');
    expect(fsReason(err('ENOENT'))).toBe('not found');
    expect(fsReason(err('EIO'))).toBe('unreadable (EIO)');
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable folder as permission denied (not testable as root)', async () => {
    const locked = join(root, 'locked');
    await write('locked/inner/requirements.txt', 'openai\n');
    await chmod(locked, 0o000);
    try {
      const r = await scanProjects(options([root]));
      expect(r.skipped).toContainEqual({ what: locked, reason: 'permission denied' });
    } finally {
      await chmod(locked, 0o755);
    }
  });
});

describe('parseToml (smol-toml, for pyproject.toml and Pipfile)', () => {
  it('reads tables, dotted and quoted keys, strings, arrays, inline tables and comments', () => {
    const toml = parseToml(
      [
        '# comment',
        'title = "a \\"quoted\\" \\u00e9 string" # trailing',
        "literal = 'C:\\path'",
        '[project]',
        'name = "bot"',
        'dependencies = [',
        '  "openai>=1.0",  # first',
        "  'crewai[tools]==0.1',",
        '',
        ']',
        'optional-dependencies.dev = ["pytest"]',
        '"quoted key" = 1_000',
        '[tool.poetry.dependencies]',
        'python = "^3.10"',
        'langgraph = { version = "^0.2", extras = ["a", "b"], optional = true }',
        '[[tool.other]]',
        'x = 1.5',
        '[[tool.other]]',
        'x = -2',
        'when = 1979-05-27T07:32:00Z',
        'multi = """',
        'line one',
        'line two"""',
        "raw = '''no \\escape'''",
        'nested = [[1, 2], ["a"]]',
        'empty = {}',
      ].join('\n'),
    );
    expect(toml).toEqual({
      title: 'a "quoted" é string',
      literal: 'C:\\path',
      project: { name: 'bot', dependencies: ['openai>=1.0', 'crewai[tools]==0.1'], 'optional-dependencies': { dev: ['pytest'] }, 'quoted key': 1000 },
      tool: {
        poetry: { dependencies: { python: '^3.10', langgraph: { version: '^0.2', extras: ['a', 'b'], optional: true } } },
        other: [
          { x: 1.5 },
          { x: -2, when: new Date('1979-05-27T07:32:00Z'), multi: 'line one\nline two', raw: 'no \\escape', nested: [[1, 2], ['a']], empty: {} },
        ],
      },
    });
  });

  it.each([
    ['[project]\ndependencies = ["a"', 'expected comma or end of structure at 2:20'],
    ['name = "unterminated', 'unfinished string at 1:8'],
    ['a = 1\na = 2', 'trying to redefine an already defined table or value at 2:1'],
    ['[project\nx = 1', 'illegal character in key at 1:9'],
    ['\n\nkey value', 'illegal character in key at 3:5'],
    ['x = what', 'invalid value at 1:5'],
    ['x = 1 2', 'each key-value declaration must be followed by an end-of-line at 1:7'],
  ])('rejects %j with its line and column', (text, message) => {
    expect(() => parseToml(text)).toThrow(TomlError);
    expect(() => parseToml(text)).toThrow(message);
  });

  it('never quotes the file in an error, and gives the position as fields too', () => {
    let error: unknown;
    try {
      parseToml('[tool.x]\ntoken = "sk-live-0123456789');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TomlError);
    expect(error).toMatchObject({ message: 'unfinished string at 2:9', line: 2, column: 9 });
  });

  it('keeps a key named __proto__ as a key', () => {
    const toml = parseToml('"__proto__" = { polluted = true }\n[project]\nname = "x"');
    expect(Object.keys(toml)).toEqual(['__proto__', 'project']);
    expect((toml as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes the project name and dependencies from pyproject', () => {
    const parsed = pyprojectDependencies(parseToml('[project]\nname = "x"\ndependencies = ["LangChain-Core>=0.3", "./local", "pkg @ https://x/y.whl"]'));
    expect(parsed).toEqual({
      name: 'x',
      dependencies: [
        { name: 'LangChain-Core', spec: '>=0.3', source: 'pyproject.toml [project] dependencies' },
        { name: 'pkg', source: 'pyproject.toml [project] dependencies' },
      ],
    });
  });
});

describe('requirement lines', () => {
  it.each([
    ['openai==1.2.3', { name: 'openai', spec: '==1.2.3', version: '1.2.3' }],
    ['crewai[tools,extra] >= 0.1 ; python_version < "3.13"', { name: 'crewai', spec: '>= 0.1' }],
    ['langchain', { name: 'langchain' }],
    ['anthropic~=0.40', { name: 'anthropic', spec: '~=0.40' }],
    ['mcp (>=1.0)', { name: 'mcp', spec: '>=1.0' }],
  ])('%s', (line, expected) => {
    expect(parseRequirement(line, 'r')).toEqual({ ...expected, source: 'r' });
  });

  it('ignores paths and VCS URLs', () => {
    expect(parseRequirement('git+https://github.com/x/y', 'r')).toBeUndefined();
    expect(parseRequirement('./vendor/pkg', 'r')).toBeUndefined();
  });
});

describe('source imports', () => {
  it('finds npm packages in import, export, dynamic import and require', () => {
    const source = [
      "import OpenAI from 'openai';",
      'import {',
      '  ChatOpenAI,',
      "} from '@langchain/openai/chat_models';",
      "import type { Tool } from '@modelcontextprotocol/sdk/types.js';",
      "export * from 'ai';",
      "import './side-effect.js';",
      "import fs from 'node:fs';",
      "const m = await import('@mastra/core');",
      'const x = require("langchain/agents");',
      "import '@anthropic-ai/sdk/shims/node';",
    ].join('\n');
    expect(jsImports(source)).toEqual(['openai', '@langchain/openai', '@modelcontextprotocol/sdk', 'ai', '@mastra/core', 'langchain', '@anthropic-ai/sdk']);
  });

  it('finds Python modules in import and from, skipping relative imports and comments', () => {
    const source = ['import os, crewai as c', 'from google.genai import types', 'from . import local', '# import langchain', '    import llama_index.core'].join('\n');
    expect(pythonImports(source)).toEqual(['os', 'crewai', 'google.genai', 'llama_index.core']);
  });
});

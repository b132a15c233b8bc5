import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purlOf, toCycloneDx, validateCycloneDx } from '../src/scan/cyclonedx.js';
import { scanProjects } from '../src/scan/projects.js';
import type { ScanFinding } from '../src/scan/types.js';

const SECRET = 'sk-ant-FIXTURE-secret-value-987';
const TIMESTAMP = new Date('2025-01-02T03:04:05.000Z');

interface Bom {
  bomFormat: string;
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; tools: { components: Array<{ name: string; version: string }> } };
  components: Array<{
    'bom-ref': string;
    type: string;
    name: string;
    group?: string;
    version?: string;
    purl?: string;
    properties?: Array<{ name: string; value: string }>;
  }>;
  dependencies: Array<{ ref: string; dependsOn?: string[] }>;
}

let root: string;
let findings: ScanFinding[];
let bom: Bom;

async function write(rel: string, content: object | string) {
  const file = join(root, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
}

const handMade: ScanFinding[] = [
  {
    id: 'model-server:127.0.0.1:11434',
    kind: 'model-server',
    name: 'Ollama',
    frameworks: [],
    location: '127.0.0.1:11434',
    status: 'unknown',
    risk: 'low',
    evidence: ['GET http://127.0.0.1:11434/api/tags → 200, 2 models'],
    notes: [],
    details: { port: 11434, pid: 4242, models: [{ name: 'llama3.2:3b' }, 'qwen2.5:7b'] },
  },
  {
    id: 'mcp:cursor:/home/me/.cursor/mcp.json#github',
    kind: 'mcp-server',
    name: 'github',
    frameworks: [],
    location: '/home/me/.cursor/mcp.json',
    status: 'unsecured',
    risk: 'high',
    evidence: ['configured in /home/me/.cursor/mcp.json'],
    notes: ['env.ANTHROPIC_API_KEY is written in the config', 'unpinned npx package'],
    // Config details may carry secrets; they must not reach the BOM.
    details: {
      client: 'cursor',
      transport: 'stdio',
      command: `npx -y @modelcontextprotocol/server-github --token ${SECRET}`,
      args: ['--token', SECRET],
      env: { ANTHROPIC_API_KEY: SECRET },
    },
  },
  {
    id: 'process:777',
    kind: 'agent-process',
    name: 'python agent.py',
    frameworks: [{ name: 'CrewAI' }, { name: 'OpenAI SDK', version: '1.2.0' }],
    location: 'pid 777',
    status: 'unsecured',
    risk: 'medium',
    evidence: ['/proc/777/maps loads crewai'],
    notes: [],
    details: { pid: 777, cwd: `/home/me/${SECRET}`, command: `OPENAI_API_KEY=${SECRET} python agent.py` },
  },
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ag-scan-cdx-'));
  await write('node-agent/package.json', { name: 'node-agent', dependencies: { langchain: '^0.3.0', '@langchain/openai': '^0.4.0' } });
  await write('node-agent/node_modules/langchain/package.json', { name: 'langchain', version: '0.3.0' });
  await write('crew/requirements.txt', 'crewai[tools]==0.1\nopenai>=1\n');
  await write('secured/package.json', { name: 'secured', dependencies: { openai: '6.1.0', agentguard: '0.1.0' } });
  const section = await scanProjects({ home: root, paths: [root], probe: false, platform: process.platform, procRoot: '/proc', probeTimeoutMs: 100 });
  findings = [...section.findings, ...handMade];
  bom = (await toCycloneDx(findings, { toolVersion: '0.1.0', timestamp: TIMESTAMP })) as Bom;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const component = (ref: string) => bom.components.find((c) => c['bom-ref'] === ref);
const prop = (ref: string, name: string) => component(ref)?.properties?.filter((p) => p.name === name).map((p) => p.value);

describe('toCycloneDx', () => {
  it('writes a CycloneDX 1.6 BOM that validates against the 1.6 schema', async () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.6');
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(await validateCycloneDx(JSON.stringify(bom))).toBeNull();
  });

  it('names the tool and the timestamp in the metadata', () => {
    expect(bom.metadata.timestamp).toBe('2025-01-02T03:04:05.000Z');
    expect(bom.metadata.tools.components).toEqual([expect.objectContaining({ name: 'agentguard', version: '0.1.0' })]);
  });

  it('lists frameworks and SDKs as libraries with purls, installed versions first', () => {
    const purls = bom.components.filter((c) => c.type === 'library').map((c) => c.purl);
    expect(purls).toEqual(
      expect.arrayContaining(['pkg:npm/langchain@0.3.0', 'pkg:npm/%40langchain/openai', 'pkg:pypi/crewai@0.1', 'pkg:pypi/openai', 'pkg:npm/openai@6.1.0', 'pkg:npm/agentguard@0.1.0']),
    );
    const scoped = component('pkg:npm/%40langchain/openai');
    expect(scoped).toMatchObject({ group: '@langchain', name: 'openai', type: 'library' });
    expect(prop('pkg:npm/%40langchain/openai', 'agentguard:declared')).toEqual(['^0.4.0']);
  });

  it('lists agents as applications with agentguard properties, linked to their frameworks', () => {
    const ref = `project:${join(root, 'node-agent')}`;
    expect(component(ref)?.type).toBe('application');
    expect(prop(ref, 'agentguard:status')).toEqual(['unsecured']);
    expect(prop(ref, 'agentguard:risk')).toEqual(['medium']);
    expect(prop(ref, 'agentguard:kind')).toEqual(['project']);
    expect(prop(ref, 'agentguard:location')).toEqual([join(root, 'node-agent')]);
    expect(prop(ref, 'agentguard:evidence')).toContain('package.json dependencies: @langchain/openai ^0.4.0');
    const deps = bom.dependencies.find((d) => d.ref === ref)?.dependsOn;
    expect(deps?.sort()).toEqual(['pkg:npm/%40langchain/openai', 'pkg:npm/langchain@0.3.0']);
    expect(prop(`project:${join(root, 'secured')}`, 'agentguard:status')).toEqual(['secured']);
  });

  it('links processes to framework libraries even without package names', () => {
    expect(bom.dependencies.find((d) => d.ref === 'process:777')?.dependsOn?.sort()).toEqual([
      'agentguard:framework:CrewAI',
      'agentguard:framework:OpenAI SDK@1.2.0',
    ]);
  });

  it('lists a model server as a platform serving machine-learning-model components', () => {
    expect(component('model-server:127.0.0.1:11434')?.type).toBe('platform');
    const models = bom.components.filter((c) => c.type === 'machine-learning-model').map((c) => c.name).sort();
    expect(models).toEqual(['llama3.2:3b', 'qwen2.5:7b']);
    expect(bom.dependencies.find((d) => d.ref === 'model-server:127.0.0.1:11434')?.dependsOn?.length).toBe(2);
  });

  it('lists an MCP server with its safe facts, and never leaks secrets from details', () => {
    const ref = 'mcp:cursor:/home/me/.cursor/mcp.json#github';
    expect(component(ref)?.type).toBe('application');
    expect(prop(ref, 'agentguard:transport')).toEqual(['stdio']);
    expect(prop(ref, 'agentguard:command')).toEqual(['npx']);
    expect(prop(ref, 'agentguard:note')).toContain('env.ANTHROPIC_API_KEY is written in the config');
    expect(prop('process:777', 'agentguard:command')).toEqual([]);
    expect(prop('process:777', 'agentguard:pid')).toEqual(['777']);
    expect(JSON.stringify(bom)).not.toContain(SECRET);
  });
});

describe('validateCycloneDx', () => {
  it('returns the errors of an invalid document', async () => {
    const broken = structuredClone(bom) as unknown as { components: Array<{ type: string }> };
    broken.components[0].type = 'spaceship';
    const errors = await validateCycloneDx(JSON.stringify(broken));
    expect(errors).not.toBeNull();
    expect(JSON.stringify(errors)).toContain('enum');
  });

  it('rejects a document without bomFormat', async () => {
    expect(await validateCycloneDx(JSON.stringify({ specVersion: '1.6' }))).not.toBeNull();
  });
});

describe('purlOf', () => {
  it.each([
    [{ ecosystem: 'npm' as const, name: '@langchain/core', version: '0.3.0' }, 'pkg:npm/%40langchain/core@0.3.0'],
    [{ ecosystem: 'pypi' as const, name: 'Crew_AI.Tools', version: '1.0+local' }, 'pkg:pypi/crew-ai-tools@1.0%2Blocal'],
    [{ ecosystem: 'npm' as const, name: 'ai' }, 'pkg:npm/ai'],
  ])('%j → %s', (p, expected) => {
    expect(purlOf(p)).toBe(expected);
  });
});

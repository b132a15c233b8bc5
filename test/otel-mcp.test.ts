import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDecider } from '../src/mcp/open-decider.js';
import { FakeCollector } from './helpers/otlp-collector.js';
import { makeTempDir } from './helpers/temp-dirs.js';

describe('mcp wrap (local mode) trace export', () => {
  let collector: FakeCollector;
  beforeAll(async () => {
    collector = await new FakeCollector().start();
  });
  afterAll(async () => {
    await collector.stop();
  });

  it('exports a span per tools/call decision when the project turns telemetry on, and its last spans on close', async () => {
    const dir = makeTempDir('ag-otel-mcp-');
    mkdirSync(join(dir, 'agentguard'));
    writeFileSync(join(dir, 'agentguard', 'policy.yaml'), 'version: 1\nname: otel-mcp\ndefault: deny\nrules:\n  - id: files\n    effect: allow\n    when: { kind: mcp, name: { glob: "files.*" } }\n');
    writeFileSync(join(dir, 'agentguard.config.json'), JSON.stringify({ telemetry: { otlp: { endpoint: collector.url } } }));
    const logs: string[] = [];
    const { decider } = await openDecider({ projectDir: dir, log: (m) => logs.push(m) });
    const allowed = await decider.decide({ kind: 'mcp', name: 'files.read', input: { path: 'README.md' } });
    const denied = await decider.decide({ kind: 'mcp', name: 'shell.run', input: { cmd: 'rm -rf /' } });
    expect([allowed.effect, denied.effect]).toEqual(['allow', 'deny']);
    await decider.close();
    const roots = collector.spans.filter((s) => s.name === 'run_guardrail agentguard');
    expect(roots.map((s) => s.attributes['agentguard.decision.id']).sort()).toEqual([allowed.id, denied.id].sort());
    expect(roots[0]!.resource['service.name']).toBe('agentguard-mcp');
    expect(roots.find((s) => s.attributes['agentguard.decision.id'] === allowed.id)!.attributes).toMatchObject({ 'gen_ai.tool.name': 'files.read', 'gen_ai.guardrail.target.subtype': 'tool_call' });
    expect(JSON.stringify(collector.bodies)).not.toContain('rm -rf');
    expect(logs.filter((l) => l.includes('could not'))).toEqual([]);
  });
});

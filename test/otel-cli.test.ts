import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { FakeCollector } from './helpers/otlp-collector.js';
import { createToken, killStartedSidecars, startSidecar } from './helpers/sidecar-process.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const POLICY = `version: 1
name: otel-cli
default: deny
rules:
  - id: kb
    effect: allow
    when: { kind: tool, name: { glob: "kb.*" } }
`;

describe('sidecar start --otlp-endpoint', () => {
  let collector: FakeCollector;
  let folder: string;
  let policy: string;
  beforeAll(async () => {
    collector = await new FakeCollector().start();
    folder = makeTempDir('ag-otel-cli-');
    policy = join(folder, 'policy.yaml');
    writeFileSync(policy, POLICY);
  });
  afterAll(async () => {
    killStartedSidecars();
    await collector.stop();
  });

  it('exports a span per decision from a detached daemon, and its last spans on stop', async () => {
    const dataDir = join(folder, 'data');
    const sidecar = await startSidecar(dataDir, policy, '--otlp-endpoint', collector.url);
    const { token } = await createToken(dataDir, '--agent', 'cli-bot');
    const traceId = '5b8aa5a2d2c872e8321cf37308d69df2';
    const response = await fetch(`${sidecar.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', traceparent: `00-${traceId}-051581bf3cb55c13-01` },
      body: JSON.stringify({ action: { kind: 'tool', name: 'kb.search', input: { q: 'refunds' } } }),
    });
    expect(response.status).toBe(200);
    const decision = (await response.json()) as { id: string };
    const stop = await runCliInProcess(['sidecar', 'stop', '--data-dir', dataDir]);
    expect(stop.code, stop.stderr).toBe(0);
    const root = collector.spans.find((s) => s.attributes['agentguard.decision.id'] === decision.id);
    expect(root?.traceId).toBe(traceId);
    expect(root?.resource['service.name']).toBe('agentguard-sidecar');
    expect(collector.childrenOf(root!).map((s) => s.name)).toEqual(expect.arrayContaining(['agentguard.auth', 'agentguard.policy', 'agentguard.audit']));
  }, 120_000);

  it('refuses an endpoint that is not an http(s) URL, before starting anything', async () => {
    const result = await runCliInProcess(['sidecar', 'start', '--port', '0', '--policy', policy, '--data-dir', join(folder, 'bad'), '--otlp-endpoint', 'ftp://collector:4318']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--otlp-endpoint must be an http:// or https:// URL');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a telemetry section it cannot use, naming the field and never quoting a header value', async () => {
    const config = join(folder, 'agentguard.config.json');
    writeFileSync(config, JSON.stringify({ policy: 'policy.yaml', dataDir: 'bad-config', telemetry: { otlp: { headers: { authorization: 'Bearer very-secret\nx' } } } }));
    const result = await runCliInProcess(['sidecar', 'start', '--port', '0', '--config', config]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('telemetry.otlp.headers.authorization must be a string on one line');
    expect(result.stderr).not.toContain('very-secret');
  });
});

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCollector } from './helpers/otlp-collector.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./fixtures/otel/module-check.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLICY = `version: 1
name: otel-off
default: deny
rules:
  - id: kb
    effect: allow
    when: { kind: tool, name: { glob: "kb.*" } }
`;
// The SDK, the exporter and what they bring; @opentelemetry/api alone is a no-op (prom-client loads it for exemplars).
const EXPORT_PACKAGES = ['sdk-trace-base', 'sdk-trace', 'exporter-trace-otlp-http', 'otlp-exporter-base', 'otlp-transformer', 'resources', 'core'];

interface Report {
  sidecar: string;
  local: string;
  logFile: string;
  loaded: string[];
}

async function check(collector?: string): Promise<Report> {
  const folder = makeTempDir('ag-otel-off-');
  const policy = join(folder, 'policy.yaml');
  writeFileSync(policy, POLICY);
  // OTEL_* variables set, as a cluster may set them for every container: alone they must not turn export on.
  const env: NodeJS.ProcessEnv = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: collector ?? 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'from-env' };
  delete env.AGENTGUARD_OTLP_ENDPOINT;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', SCRIPT, folder, policy, ...(collector ? [collector] : [])], { cwd: ROOT, env, timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Report;
}

describe('trace export is off by default', () => {
  let collector: FakeCollector;
  beforeAll(async () => {
    collector = await new FakeCollector().start();
  });
  afterAll(async () => {
    await collector.stop();
  });

  it('loads no OpenTelemetry SDK or exporter module and sends nothing, even with OTEL_EXPORTER_OTLP_ENDPOINT set', async () => {
    const report = await check();
    expect([report.sidecar, report.local]).toEqual(['allow', 'allow']);
    expect(report.loaded.filter((p) => EXPORT_PACKAGES.includes(p))).toEqual([]);
    expect(collector.requests).toEqual([]);
  }, 150_000);

  it('with the telemetry section on, the sidecar daemon and local mode export, flush on stop and never log header values', async () => {
    const report = await check(collector.url);
    expect([report.sidecar, report.local]).toEqual(['allow', 'allow']);
    expect(report.loaded).toEqual(expect.arrayContaining(['sdk-trace-base', 'exporter-trace-otlp-http']));
    // Both decisions arrived before the processes ended: stop() and close() flush.
    const services = new Set(collector.spans.filter((s) => s.name === 'run_guardrail agentguard').map((s) => s.resource['service.name']));
    expect([...services].sort()).toEqual(['from-env']);
    expect(collector.spans.filter((s) => s.name === 'run_guardrail agentguard')).toHaveLength(2);
    expect(collector.requests.every((r) => r.headers['x-api-key'] === 'header-secret-value')).toBe(true);
    const log = readFileSync(report.logFile, 'utf8');
    expect(log).toContain('trace export on');
    expect(log).toContain(`${collector.url}/v1/traces`);
    expect(log).not.toContain('header-secret-value');
  }, 150_000);
});

/**
 * Bench section: what OpenTelemetry trace export costs a decision. The same engine (openEngine, the one every door
 * decides with) decides the same actions with export off (the default: no tracer, nothing timed), on (a span per
 * decision and its stages, batched and sent over OTLP/HTTP JSON to a local collector that answers 200), and on with
 * the collector gone (every export fails), and on with 10% of traces sampled (OTEL_TRACES_SAMPLER). Rounds alternate between the three in one process, so the machine's load
 * hits them alike; each row is the median of its rounds. Two pipelines: recorded (the durable SQLite audit append,
 * as the sidecar and local mode decide) and not recorded (`record: false`, where the relative cost shows most).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Policy } from '../dist/sdk/index.js';
import { openEngine } from '../dist/core/engine/open-engine.js';
import { startOtlpTelemetry } from '../dist/telemetry/otlp.js';
import { summarize } from './lib/measure.js';
import { formatUs, markdownTable } from './lib/report.js';

export const id = 'telemetry';
export const title = 'OpenTelemetry trace export: a decision with export off and on';

const ROUNDS = 3;
const DECISIONS = 3_000;

const policy = Policy.parse({
  version: 1,
  name: 'bench-telemetry',
  default: 'deny',
  rules: [
    { id: 'no-secrets', effect: 'deny', when: { kind: 'tool', detect: { guardrail: 'secrets', in: 'input.body' } } },
    { id: 'kb', effect: 'allow', when: { name: { glob: 'kb.*' } } },
    { id: 'mail', effect: 'allow', when: { name: 'mail.send' } },
  ],
});

const actionFor = (i) =>
  i % 2 === 0
    ? { kind: 'tool', name: 'kb.search', agent: { id: 'bench' }, input: { query: `refund window ${i}`, limit: 10 }, context: { session: { id: `s-${i % 7}` } } }
    : { kind: 'tool', name: 'mail.send', agent: { id: 'bench' }, input: { to: 'ops@example.com', body: `order ${i} shipped` } };

// A collector that reads each export and answers 200, in a process of its own (as a real one runs), so the cost
// measured here is agentguard's. It prints its port, then the number of exports it received when its stdin closes.
const COLLECTOR = `
const { createServer } = require('node:http');
let exports = 0;
const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => { if (bytes > 0) exports++; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => { process.stdout.write(exports + '\\n'); process.exit(0); });
process.stdin.resume();
`;

async function startCollector() {
  const child = spawn(process.execPath, ['-e', COLLECTOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise((resolve) => lines.once('line', resolve));
  const port = Number(await next());
  return {
    url: `http://127.0.0.1:${port}`,
    /** Stops the collector; resolves to how many exports it received. */
    close: async () => {
      const count = next();
      child.stdin.end();
      return Number(await count);
    },
  };
}

/** A port nothing listens on: every export fails (connection refused). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

async function round(engine, n) {
  for (let i = 0; i < 200; i++) await engine.decide(actionFor(i));
  const samples = new Float64Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await engine.decide(actionFor(i));
    samples[i] = Number(process.hrtime.bigint() - t0);
    // One turn of the event loop per decision, as a server or an agent gives it (spans are built there): counted in
    // decisions/s, not in a decision's latency.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: n / seconds, ...summarize(samples) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run({ log }) {
  const collector = await startCollector();
  let collectorClosed = false;
  const down = await closedPort();
  const dirs = [];
  const telemetries = [];
  const engines = [];
  try {
    const modes = [
      { name: 'off (default)', endpoint: undefined },
      { name: 'on, collector up', endpoint: collector.url },
      { name: 'on, 10% of traces sampled', endpoint: collector.url, sampler: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
      { name: 'on, collector down', endpoint: down },
    ];
    const rows = [];
    for (const record of [true, false]) {
      const results = new Map(modes.map((m) => [m.name, []]));
      const opened = [];
      for (const mode of modes) {
        const dataDir = mkdtempSync(join(tmpdir(), 'ag-bench-otel-'));
        dirs.push(dataDir);
        // The tracer provider reads the standard sampler variables when it is made.
        Object.assign(process.env, mode.sampler ?? {});
        const telemetry = mode.endpoint ? await startOtlpTelemetry({ config: { otlp: { endpoint: mode.endpoint } }, defaultServiceName: 'bench', kind: 'server', env: {} }) : undefined;
        for (const key of Object.keys(mode.sampler ?? {})) delete process.env[key];
        if (telemetry) telemetries.push(telemetry);
        const engine = await openEngine({ policy, record, dataDir, ...(telemetry ? { tracer: telemetry.tracer } : {}) });
        engines.push(engine);
        opened.push({ mode, engine });
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const { mode, engine } of opened) {
          const result = await round(engine, DECISIONS);
          results.get(mode.name).push(result);
          log(`  ${record ? 'recorded' : 'not recorded'}, ${mode.name}, round ${r + 1}: ${Math.round(result.perSecond)} decisions/s, p99 ${formatUs(result.p99)} µs`);
        }
      }
      const base = median(results.get(modes[0].name).map((x) => x.perSecond));
      for (const mode of modes) {
        const list = results.get(mode.name);
        const perSecond = median(list.map((x) => x.perSecond));
        rows.push([
          record ? 'recorded (SQLite audit)' : 'not recorded',
          mode.name,
          Math.round(perSecond).toLocaleString('en-US'),
          formatUs(median(list.map((x) => x.p50))),
          formatUs(median(list.map((x) => x.p99))),
          `${(perSecond / base).toFixed(2)}`,
        ]);
      }
    }
    await Promise.all(telemetries.map((t) => t.flush()));
    const received = await collector.close();
    collectorClosed = true;
    const failures = received === 0 ? ['the collector received no export while export was on'] : [];
    const dropped = telemetries.reduce((n, t) => n + t.tracer.dropped, 0);
    if (dropped > 0) failures.push(`${dropped} decisions' spans were dropped before they were built`);
    const markdown = [
      markdownTable(['pipeline', 'trace export', 'decisions/s', 'p50 µs', 'p99 µs', 'vs off'], rows, ['l', 'l', 'r', 'r', 'r', 'r']),
      '',
      `${DECISIONS.toLocaleString('en-US')} sequential decisions per round, ${ROUNDS} rounds alternating between the modes in one process; median of the rounds. ` +
        'Each decision is followed by one turn of the event loop (counted in decisions/s, not in its latency), where spans are built after the answer. ' +
        'Off loads no OpenTelemetry module and times nothing. On builds the spans after each decision and exports them in batches (bounded queue of 2,048); ' +
        'an unsampled decision builds one span and exports nothing; with the collector down every export fails and decisions are unaffected.',
    ].join('\n');
    return { markdown, failures };
  } finally {
    for (const engine of engines) await engine.close();
    for (const telemetry of telemetries) await telemetry.shutdown();
    if (!collectorClosed) await collector.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

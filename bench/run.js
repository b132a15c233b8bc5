/**
 * `npm run bench`: builds (via prebench), then runs every bench section and prints Markdown that can be pasted into
 * the README. `node bench/run.js policy` runs only the sections whose id is given. Progress goes to stderr, results to
 * stdout; the exit code is 1 when a section reports a failure (for example, two engines disagreeing on an answer).
 */
import * as adapters from './adapters.js';
import * as audit from './audit.js';
import * as cost from './cost.js';
import * as fleet from './fleet.js';
import * as guardrails from './guardrails.js';
import * as hook from './hook.js';
import * as llmClients from './llm-clients.js';
import * as mcp from './mcp.js';
import * as mcpHttp from './mcp-http.js';
import * as policyEngine from './policy-engine.js';
import * as replay from './replay.js';
import * as sidecar from './sidecar.js';
import * as sidecarWrk from './sidecar-wrk.js';
import * as sidecarContract from './sidecar-contract.js';
import * as telemetry from './telemetry.js';
import { environmentLine } from './lib/report.js';

/** Sections run in this order; each exports `id`, `title` and `run({ log })` returning `{ markdown, failures }`. */
const SECTIONS = [policyEngine, audit, sidecar, telemetry, sidecarWrk, sidecarContract, mcp, mcpHttp, hook, guardrails, llmClients, adapters, cost, replay, fleet];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.id === w));
if (unknown.length > 0) {
  console.error(`Unknown bench section ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}

const log = (message) => process.stderr.write(`${message}\n`);
const started = performance.now();
const out = ['# agentguard benchmarks', '', environmentLine()];
let failed = false;
for (const section of SECTIONS) {
  if (wanted.length > 0 && !wanted.includes(section.id)) continue;
  log(`== ${section.title}`);
  try {
    const { markdown, failures } = await section.run({ log });
    out.push('', `## ${section.title}`, '', markdown);
    for (const failure of failures) {
      failed = true;
      log(`FAILED: ${failure}`);
    }
  } catch (error) {
    failed = true;
    log(`FAILED: section "${section.id}" stopped: ${error instanceof Error ? error.message : String(error)}`);
  }
}
console.log(out.join('\n'));
log(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failed) process.exitCode = 1;

/**
 * Builds policies/regex-safety.json: the keys of the regexes of the shipped packs, templates, the demo's policy and the
 * MCP gateway's built-in tool-description policy that the ReDoS check
 * finds safe, so that loading them for enforcement (sidecar start, AgentGuard, policy test) does not spend seconds on
 * recheck on a machine whose cache is empty. Fails when a shipped regex is refused. Run it after changing a regex in
 * policies/ or templates/ (test/hardening-regex-safety.test.ts says when it is stale):
 *
 *   npx tsx scripts/build-regex-safety.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSourceFile } from '../src/core/policy/load.js';
import { Policy } from '../src/core/policy/policy.js';
import { loadGuardrailPlugins } from '../src/core/policy/plugins.js';
import { checkRegexes } from '../src/core/policy/lint/redos.js';
import { SHIPPED_VERDICTS } from '../src/core/policy/lint/redos-cache.js';
import { DESCRIPTION_POLICY_DOCUMENT } from '../src/mcp/pins/description-policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'ag-regex-safety-'));
process.env.AGENTGUARD_CACHE_DIR = cache;
// Computed afresh: the old list is not consulted.
writeFileSync(SHIPPED_VERDICTS, '{ "safe": [] }\n');

const files = [
  ...['policies', 'templates'].flatMap((dir) => readdirSync(resolve(ROOT, dir), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => resolve(ROOT, dir, e.name, 'policy.yaml'))),
  resolve(ROOT, 'demo', 'policy.yaml'),
];
let failed = false;
try {
  for (const file of files) {
    const source = await readSourceFile(file);
    const policy = Policy.fromSource(source, { guardrails: await loadGuardrailPlugins(source) });
    const started = performance.now();
    const problems = (await checkRegexes(policy.document, { enforce: true })).filter((p) => p.severity === 'error');
    console.error(`${file.slice(ROOT.length)}: ${problems.length === 0 ? 'ok' : `${problems.length} refused`} (${Math.round(performance.now() - started)} ms)`);
    for (const p of problems) console.error(`  ${p.path}: ${p.message}`);
    failed ||= problems.length > 0;
  }
  const builtIn = Policy.parse(structuredClone(DESCRIPTION_POLICY_DOCUMENT) as unknown as Record<string, unknown>, { filename: '<built-in mcp-tool-descriptions>' });
  const builtInProblems = (await checkRegexes(builtIn.document, { enforce: true })).filter((p) => p.severity === 'error');
  console.error(`<built-in mcp-tool-descriptions>: ${builtInProblems.length === 0 ? 'ok' : `${builtInProblems.length} refused`}`);
  failed ||= builtInProblems.length > 0;
  const keys = (JSON.parse(readFileSync(join(cache, 'regex-safety-v1.json'), 'utf8')) as { safe: string[] }).safe;
  writeFileSync(SHIPPED_VERDICTS, `${JSON.stringify({ safe: [...new Set(keys)].sort() }, null, 1)}\n`);
  console.error(`${SHIPPED_VERDICTS.slice(ROOT.length)}: ${keys.length} regexes`);
} finally {
  rmSync(cache, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/**
 * Writes the route reference of docs/sidecar-api.md from the sidecar's OpenAPI document (what `GET /openapi.json`
 * serves), between its GENERATED sidecar-openapi markers. The document comes from a sidecar app built in memory on a
 * temporary data folder, so it is exactly what the routes' schemas say. Run it after changing a route;
 * test/docs-generated.test.ts fails while the page is out of date.
 *
 *   npm run docs:sidecar            # rewrite the section
 *   npm run docs:sidecar -- --check # exit 1 when the section is out of date
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditRecorder } from '../src/core/audit/recorder.js';
import { Policy } from '../src/core/policy/policy.js';
import { buildSidecarApp } from '../src/sidecar/app.js';
import { generatedSection, replaceGeneratedSection } from './docs/markdown.js';
import { renderOpenApiReference } from './docs/openapi-reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SIDECAR_DOC = `${ROOT}docs/sidecar-api.md`;
export const SECTION = 'sidecar-openapi';

/** The sidecar's OpenAPI document, from an app built in memory (nothing listens; the temporary folder is removed). */
export async function sidecarOpenApi(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ag-docs-openapi-'));
  try {
    const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
    try {
      const app = await buildSidecarApp({
        policy: Policy.parse({ version: 1, name: 'docs', rules: [] }),
        recorder,
        dataDir,
        authenticate: async () => ({ ok: false, reason: 'missing' }),
      });
      try {
        await app.ready();
        return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
      } finally {
        await app.close();
      }
    } finally {
      await recorder.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The generated section: every route and shared schema. */
export async function sidecarReference(): Promise<string> {
  return `\n${renderOpenApiReference(await sidecarOpenApi())}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const page = readFileSync(SIDECAR_DOC, 'utf8');
  const fresh = await sidecarReference();
  if (process.argv.includes('--check')) {
    if (generatedSection(page, SECTION, 'docs/sidecar-api.md') !== fresh) {
      console.error('docs/sidecar-api.md: the route reference is out of date. Run: npm run docs:sidecar');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(SIDECAR_DOC, replaceGeneratedSection(page, SECTION, fresh, 'docs/sidecar-api.md'));
    console.error('docs/sidecar-api.md: route reference written');
  }
}

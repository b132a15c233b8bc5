/**
 * Writes the route reference of docs/sidecar-api.md from the sidecar's OpenAPI document (what `GET /openapi.json`
 * serves, snapshotted in schemas/openapi.json), between its GENERATED sidecar-openapi markers. Run it after
 * `npm run contracts:update` when a route changed; test/docs-generated.test.ts fails while the page is out of date.
 *
 *   npm run docs:sidecar            # rewrite the section
 *   npm run docs:sidecar -- --check # exit 1 when the section is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generatedSection, replaceGeneratedSection } from './docs/markdown.js';
import { renderOpenApiReference } from './docs/openapi-reference.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SIDECAR_DOC = `${ROOT}docs/sidecar-api.md`;
export const SECTION = 'sidecar-openapi';
export const OPENAPI = `${ROOT}schemas/openapi.json`;

/**
 * The sidecar's OpenAPI document: the snapshot in schemas/openapi.json, which test/contracts-snapshots.test.ts keeps
 * equal to what a sidecar app serves (`npm run contracts:update` rewrites it after a route changes).
 */
export function sidecarOpenApi(): Record<string, unknown> {
  return JSON.parse(readFileSync(OPENAPI, 'utf8')) as Record<string, unknown>;
}

/** The generated section: every route and shared schema. */
export function sidecarReference(): string {
  return `\n${renderOpenApiReference(sidecarOpenApi())}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const page = readFileSync(SIDECAR_DOC, 'utf8');
  const fresh = sidecarReference();
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

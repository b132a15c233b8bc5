import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRecorder } from '../../src/core/audit/recorder.js';
import { Policy } from '../../src/core/policy/policy.js';
import { buildSidecarApp } from '../../src/sidecar/app.js';

/**
 * The sidecar's OpenAPI document (`GET /openapi.json`), from an app built over an empty temporary data folder that is
 * removed afterwards. The document depends only on the route schemas and the package version.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const folder = mkdtempSync(join(tmpdir(), 'ag-contracts-openapi-'));
  try {
    const dataDir = join(folder, 'data');
    const recorder = await AuditRecorder.open({ dataDir });
    try {
      const policy = Policy.parse({ version: 1, name: 'openapi', rules: [] });
      const app = await buildSidecarApp({ policy, recorder, dataDir, authenticate: async () => ({ ok: false, reason: 'unknown' }) });
      try {
        await app.ready();
        return app.swagger() as unknown as Record<string, unknown>;
      } finally {
        await app.close();
      }
    } finally {
      await recorder.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

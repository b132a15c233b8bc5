import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { AuditRecorder } from '../../src/core/audit/recorder.js';
import { Policy } from '../../src/core/policy/policy.js';
import { authenticate } from '../../src/core/tokens/authenticate.js';
import { agentScope } from '../../src/core/tokens/scope.js';
import { createToken } from '../../src/core/tokens/tokens.js';
import { buildSidecarApp, type SidecarAppOptions } from '../../src/sidecar/app.js';
import { tempDataDir } from './audit-log.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/sidecar/', import.meta.url));

/** A sidecar app on a temporary data folder with real tokens (admin and agent `bot`), for the hardening tests. */
export interface HardeningHarness {
  app: FastifyInstance;
  recorder: AuditRecorder;
  dataDir: string;
  policyPath: string;
  logs: string[];
  admin: string;
  bot: string;
  /** Creates another agent token, with attributes. */
  token(agentId: string, attributes?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function hardeningSidecar(
  options: Partial<SidecarAppOptions> & { policyText?: string; withLogs?: boolean } = {},
): Promise<HardeningHarness> {
  const dataDir = tempDataDir('ag-');
  const recorder = await AuditRecorder.open({ dataDir, checkpointIntervalMs: 0 });
  const policyPath = join(dirname(dataDir), 'policy.yaml');
  if (options.policyText !== undefined) writeFileSync(policyPath, options.policyText);
  else copyFileSync(join(FIXTURES, 'policy.yaml'), policyPath);
  const logs: string[] = [];
  const { policyText: _text, withLogs, ...rest } = options;
  const logger = withLogs ? { level: 'info', stream: new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }) } : false;
  const tokens = recorder.store.tokens;
  const app = await buildSidecarApp({
    policy: await Policy.fromFile(policyPath),
    policyPath,
    recorder,
    dataDir,
    authenticate: (header) => authenticate(tokens, header),
    logger,
    ...rest,
  });
  const admin = (await createToken(tokens, { scope: { kind: 'admin' } })).token;
  const bot = (await createToken(tokens, { scope: agentScope('bot') })).token;
  return {
    app,
    recorder,
    dataDir,
    policyPath,
    logs,
    admin,
    bot,
    token: async (agentId, attributes) => (await createToken(tokens, { scope: agentScope(agentId), ...(attributes ? { attributes } : {}) })).token,
    close: async () => {
      await app.close();
      await recorder.close().catch(() => undefined);
      rmSync(dirname(dataDir), { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** POSTs a raw JSON text (so numbers like 1e999 reach the parser as written). */
export function postRaw(app: FastifyInstance, url: string, token: string, body: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, headers: { ...bearer(token), 'content-type': 'application/json' }, payload: body });
}

export function errorOf(res: LightMyRequestResponse): { code: string; message: string; details?: Record<string, unknown> } {
  return (res.json() as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
}

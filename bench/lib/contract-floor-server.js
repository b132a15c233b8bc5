// The sidecar's HTTP contract without its decision: fastify with the sidecar's own request plugins (Host check, SDK
// version headers, requests in flight, access log, bearer-token authentication against a SQLite token store through
// the same one-second cache (cachedAuthenticate), the JSON body parser and checks, the Action body schema, the Decision response schema and
// the error handler), answering a fixed decision-shaped JSON that echoes the action. No policy, masking or audit: the
// sidecar's CPU per request minus this one's is what deciding and recording cost. Needs the build (dist/). Prints
// "<port> <token>" on stdout; the data folder is the first argument (removed by the caller). The second argument, a
// comma-separated list of PIECES, leaves those pieces out, so bench/sidecar-contract.js can price each one.
import Fastify, { LogController } from 'fastify';
import { Writable } from 'node:stream';
import { registerAccessLog, DEFAULT_ACCESS_LOG_RATE } from '../../dist/sidecar/log/access-log.js';
import { REDACTED_LOG_PATHS, registerInFlight } from '../../dist/sidecar/app.js';
import { registerAuth } from '../../dist/sidecar/plugins/auth.js';
import { registerErrorHandling } from '../../dist/sidecar/plugins/errors.js';
import { LOOPBACK_HOST_NAMES, registerHostCheck } from '../../dist/sidecar/plugins/host-check.js';
import { registerJsonBody } from '../../dist/sidecar/plugins/json-body.js';
import { SidecarMetrics } from '../../dist/sidecar/plugins/metrics.js';
import { registerSdkVersionCheck } from '../../dist/sidecar/plugins/sdk-version.js';
import { authedErrors, decideBody, sharedSchemas } from '../../dist/sidecar/schemas.js';
import { openStore } from '../../dist/core/store/open-store.js';
import { cachedAuthenticate } from '../../dist/core/tokens/cached-authenticate.js';
import { createToken } from '../../dist/core/tokens/tokens.js';
import { PIECES } from './contract-pieces.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: contract-floor-server.js <data folder> [pieces to leave out, comma-separated]');
const without = new Set((process.argv[3] ?? '').split(',').filter(Boolean));
for (const piece of without) if (!PIECES.includes(piece)) throw new Error(`unknown piece "${piece}"; known: ${PIECES.join(', ')}`);
const has = (piece) => !without.has(piece);
const store = await openStore({ dataDir });
const { token } = await createToken(store.tokens, { scope: { kind: 'agent', agentId: 'bench' } });
const authenticate = cachedAuthenticate(store.tokens);

const bodyLimit = 1024 * 1024;
// The daemon's logger: pino at info into a stream (its file), with its redaction; request lines at debug are not written.
const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
const app = Fastify({
  logger: has('logger') ? { level: 'info', stream: sink, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } } : false,
  bodyLimit,
  ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  return503OnClosing: true,
  logController: new LogController({ disableRequestLogging: true }),
});
const metrics = new SidecarMetrics();
if (has('error-handler')) registerErrorHandling(app, { bodyLimit });
if (has('json-parser')) registerJsonBody(app, { bodyLimit });
if (has('host-check')) registerHostCheck(app, [...LOOPBACK_HOST_NAMES]);
for (const schema of sharedSchemas) app.addSchema(schema);
if (has('in-flight')) registerInFlight(app, metrics);
if (has('access-log')) registerAccessLog(app, DEFAULT_ACCESS_LOG_RATE);
if (has('sdk-version')) registerSdkVersionCheck(app);
if (has('auth')) registerAuth(app, { authenticate, metrics });
const BENCH_TOKEN = { scope: { kind: 'agent', agentId: 'bench' } };

let n = 0;
const POLICY = { name: 'bench-sidecar', hash: `sha256:${'0'.repeat(64)}` };
app.post(
  '/v1/decide',
  {
    config: { auth: 'token' },
    schema: {
      ...(has('body-schema') ? { body: decideBody } : {}),
      ...(has('response-schema') ? { response: { 200: { $ref: 'Decision#' }, ...authedErrors(400, 413, 415) } } : {}),
    },
  },
  async (request, reply) => {
    // Written as the sidecar writes a decision (src/sidecar/routes/decide.ts).
    if (has('reply-headers')) reply.header('content-type', 'application/json; charset=utf-8').serializer(JSON.stringify);
    const token = request.token ?? BENCH_TOKEN;
    return {
      id: `dec_${(++n).toString(16).padStart(32, '0')}`,
      effect: 'allow',
      action: { ...request.body.action, agent: { id: token.scope.agentId } },
      reasons: [{ rule: 'kb', effect: 'allow', message: 'Allowed by rule "kb"' }],
      findings: [],
      policy: POLICY,
      elapsedUs: 1,
    };
  },
);
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port} ${token}\n`);
process.on('SIGTERM', () =>
  app
    .close()
    .then(() => store.close())
    .then(() => process.exit(0)),
);

// The HTTP floor the sidecar is compared with: fastify (the sidecar's framework) parsing the same JSON body and
// answering a decision-shaped JSON, with no auth, policy, audit or schema work. Prints its port on stdout.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let n = 0;
app.post('/v1/decide', async (request) => ({
  id: `dec_${++n}`,
  effect: 'allow',
  action: request.body.action,
  reasons: [{ effect: 'allow', rule: 'kb', message: 'Allowed by rule "kb"' }],
}));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

/**
 * The floor of an extra HTTP hop, for the mcp-http bench section: the least a proxy process can do — forward each
 * request to the upstream over a keep-alive connection and stream the answer back, deciding and checking nothing.
 * Run as its own process (like `agentguard mcp proxy`): node bench/lib/http-passthrough.js <upstream url>; prints its
 * endpoint on stdout.
 */
import { Agent, createServer, request as httpRequest } from 'node:http';

const upstream = new URL(process.argv[2]);
const agent = new Agent({ keepAlive: true });
const server = createServer((request, response) => {
  const headers = { ...request.headers, host: upstream.host };
  const out = httpRequest({ host: upstream.hostname, port: upstream.port, path: upstream.pathname, method: request.method, headers, agent }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  out.on('error', () => response.headersSent ? response.destroy() : response.writeHead(502).end());
  response.on('close', () => out.destroy());
  request.pipe(out);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}/mcp\n`));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

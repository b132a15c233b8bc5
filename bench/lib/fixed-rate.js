/**
 * A fixed-rate HTTP client with microsecond timing, for tail latency at a given rate. Request i is due at
 * start + i / rate; each latency is measured from when the request was due, not from when it was sent, so a client
 * or server stall counts against every request it delayed (no coordinated omission). Keep-alive connections, plain
 * node:http. autocannon's latencies are whole milliseconds, too coarse for a 2 ms target.
 */
import { Agent, request } from 'node:http';

function post(agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `rate` requests per second for `seconds`, cycling through `bodies`; returns latency percentiles in ms and
 * the count of non-2xx answers and errors.
 */
export async function fixedRate({ url, headers = {}, bodies, rate, seconds, connections = 16 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let sent = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set();
  const start = process.hrtime.bigint();
  const dueAt = (i) => start + BigInt(Math.round((i * 1e9) / rate));
  await new Promise((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total && dueAt(sent) <= now) {
        const i = sent++;
        const due = dueAt(i);
        const done = post(agent, url, { 'content-type': 'application/json', ...headers }, bodies[i % bodies.length]).then(
          (status) => {
            if (status < 200 || status >= 300) non2xx++;
          },
          () => errors++,
        ).finally(() => {
          latencies[i] = Number(process.hrtime.bigint() - due) / 1e6;
          inFlight.delete(done);
        });
        inFlight.add(done);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { requests: total, p50: at(50), p99: at(99), p999: at(99.9), max: sorted[sorted.length - 1], non2xx, errors };
}

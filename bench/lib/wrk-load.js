/**
 * wrk (Debian package `wrk`) saturating a server with decision requests, and the CPU time the server process spends
 * per request meanwhile (Linux /proc), shared by the bench sections that compare servers under wrk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BODIES } from './sidecar-workload.js';

/** The wrk script: POSTs cycling through BODIES, with the token when there is one. */
export function wrkScript(token) {
  const lua = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    'wrk.method = "POST"',
    'wrk.headers["content-type"] = "application/json"',
    ...(token ? [`wrk.headers["authorization"] = "Bearer ${token}"`] : []),
    `local bodies = { ${BODIES.map(lua).join(', ')} }`,
    'local i = 0',
    'request = function() i = i + 1; return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1]) end',
    '',
  ].join('\n');
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Starts a server script (node `args`) that prints "<port> [token]" on stdout, and writes its wrk script into `dir`;
 * the caller stops it.
 */
export async function startServerScript(name, args, dir) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [port, token] = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim().split(' ')));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  const script = join(dir, `${name.replace(/\W+/g, '-')}.lua`);
  writeFileSync(script, wrkScript(token));
  return { name, url: `http://127.0.0.1:${port}`, pid: child.pid, token, script, stop: () => child.kill('SIGTERM') };
}

/** Runs wrk and reads requests/s, p50/p99 (ms), request and non-2xx counts from its text output. */
export function wrk(url, script, seconds, connections = 32) {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `${url}/v1/decide`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const num = (re) => {
    const m = re.exec(out);
    if (!m) throw new Error(`cannot read wrk's output: ${out}`);
    return m;
  };
  const millis = (m) => Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  return {
    rps: Number(num(/Requests\/sec:\s+([\d.]+)/)[1]),
    requests: Number(num(/(\d+) requests in/)[1]),
    p50: millis(num(/^\s+50%\s+([\d.]+)(us|ms|s)$/m)),
    p99: millis(num(/^\s+99%\s+([\d.]+)(us|ms|s)$/m)),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors:/.test(out) ? out.match(/Socket errors:.*$/m)[0] : '',
  };
}

const TICKS_PER_S = 100;

/**
 * CPU time (µs) a process has used so far: its main thread alone, and all its threads (Linux /proc; null elsewhere).
 * Per request, this is what a server costs whatever else runs on the machine, where requests/s depend on the load.
 */
export function cpuTime(pid) {
  const task = (tid) => {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1e6;
  };
  if (!existsSync(`/proc/${pid}/task`)) return null;
  return { main: task(pid), all: readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + task(tid), 0) };
}

/** wrk on a server, with the CPU the server used per request (see cpuTime). */
export function measured(server, seconds, connections = 32) {
  const before = cpuTime(server.pid);
  const r = wrk(server.url, server.script, seconds, connections);
  const after = cpuTime(server.pid);
  if (before && after) Object.assign(r, { mainUs: (after.main - before.main) / r.requests, allUs: (after.all - before.all) / r.requests });
  return r;
}

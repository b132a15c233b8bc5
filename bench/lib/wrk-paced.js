/**
 * wrk (Debian 4.1, LuaJIT) paced to a fixed request rate, for tail latency measured outside the bench's Node process.
 * wrk calls the script's delay() when a connection is free to send (after its previous answer, or once connected) and
 * sends after that many milliseconds; it times each request from when it is written to when its answer is complete
 * (src/wrk.c, socket_writeable and response_complete). The script keeps one schedule for the thread (run it with -t1):
 * request k is due at start + k / rate, and each delay() hands the free connection the next due time, read from
 * CLOCK_MONOTONIC through LuaJIT's ffi. With enough connections that one is always free when a request is due, the
 * requests go out on time whatever the latency, so the rate is fixed (an open workload, not 32 clients each waiting
 * for its answer).
 *
 * Coordinated omission: wrk's latency starts when a request is written, not when it was due. When the server stalls
 * longer than the connections can cover, the requests due meanwhile are sent late, back to back, and their wait is not
 * in the percentiles. The script counts those sends: `lateSends` (sent more than 2 ms after their due time; the timer
 * has 1 ms steps) and `maxLateMs`. With lateSends 0 the percentiles are the ones an open-loop client would see.
 */
import { spawnSync } from 'node:child_process';

const lua = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The Lua script: POSTs cycling through `bodies` at `rate` requests/s, with the bearer token when there is one. */
export function pacedScript({ bodies, token, rate }) {
  return `local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } agentguard_timespec;
int clock_gettime(int clock, agentguard_timespec *ts);
]]
local ts = ffi.new("agentguard_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
${token ? `wrk.headers["authorization"] = "Bearer ${token}"\n` : ''}local bodies = { ${bodies.map(lua).join(', ')} }
local i = 0
local interval = 1000 / ${rate}
local due = nil
lateSends = 0
maxLateMs = 0
sends = 0

function delay()
  local now = now_ms()
  if due == nil then due = now end
  local wait = due - now
  due = due + interval
  sends = sends + 1
  if wait >= 0 then return math.floor(wait) end
  if -wait > 2 then lateSends = lateSends + 1 end
  if -wait > maxLateMs then maxLateMs = -wait end
  return 0
end

function request()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local late, maxLate = 0, 0
  for _, t in ipairs(threads) do
    late = late + t:get("lateSends")
    maxLate = math.max(maxLate, t:get("maxLateMs"))
  end
  local e = summary.errors
  io.write(string.format("PACED requests=%d durationUs=%d p50=%d p90=%d p99=%d p999=%d max=%d status=%d socket=%d lateSends=%d maxLateMs=%.2f\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.status, e.connect + e.read + e.write + e.timeout, late, maxLate))
end
`;
}

/**
 * Runs wrk with a paced script on `url` for `seconds`: achieved requests/s, latency percentiles in ms, answers with
 * status ≥ 400, socket errors, late sends. `connections` must cover rate × worst latency (20 at 1,000/s covers 20 ms).
 */
export function wrkPaced({ url, script, seconds, connections = 20 }) {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  const line = /^PACED (.*)$/m.exec(r.stdout);
  if (!line) throw new Error(`cannot read the paced wrk script's summary: ${r.stdout}`);
  const v = Object.fromEntries(line[1].split(' ').map((kv) => kv.split('=')).map(([k, n]) => [k, Number(n)]));
  return {
    rps: v.requests / (v.durationUs / 1e6),
    requests: v.requests,
    p50: v.p50 / 1000,
    p90: v.p90 / 1000,
    p99: v.p99 / 1000,
    p999: v.p999 / 1000,
    max: v.max / 1000,
    non2xx: v.status,
    errors: v.socket,
    lateSends: v.lateSends,
    maxLateMs: v.maxLateMs,
  };
}

/**
 * Confirms local model and agent servers by asking their real API over loopback HTTP, never by port number:
 * Ollama, OpenAI-compatible servers (LM Studio, vLLM, llama.cpp, LocalAI, LiteLLM), llama.cpp, Flowise, Langflow,
 * n8n and the LiteLLM proxy.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListeningSocket } from './ports.js';
import type { ScanFinding, ScanOptions, ScanSection, Skipped } from './types.js';
import { isPlainObject } from '../core/plain-object.js';

const MAX_IN_FLIGHT = 8;
const MAX_BODY = 256 * 1024;
const MAX_MODELS = 20;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json?: unknown;
}

/** Ends the probing of one port: `timeout` and `refused` are Skipped entries; `not-http` is a non-matching server. */
class ProbeStop extends Error {
  constructor(readonly why: 'timeout' | 'refused' | 'not-http' | 'catch-all', readonly path: string) {
    super(why);
  }
}

/** A tiny semaphore so that at most MAX_IN_FLIGHT requests run at once across all ports. */
function limiter(max: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((go) => queue.push(go));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

function httpGet(host: string, port: number, path: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const req = request(
      { host, port, path, method: 'GET', agent: false, headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.1', 'user-agent': 'agentguard-scan', connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
          else res.destroy();
        });
        const finish = () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        };
        res.on('end', finish);
        res.on('close', () => (timedOut ? undefined : finish()));
        res.on('error', () => undefined);
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy();
      reject(new ProbeStop('timeout', path));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (timedOut) return;
      reject(new ProbeStop(error.code === 'ECONNREFUSED' || error.code === 'EADDRNOTAVAIL' ? 'refused' : 'not-http', path));
    });
    req.end();
  });
}

const isHtml = (r: Reply) => /html/i.test(String(r.headers['content-type'] ?? '')) || /^\s*</.test(r.body);

/** A short, value-free description of a reply for evidence: `200 {"models":[3]}`. */
function summary(r: Reply, keys?: string[]): string {
  if (isPlainObject(r.json)) {
    const shown = (keys ?? Object.keys(r.json).slice(0, 3)).map((k) => {
      const v = (r.json as Record<string, unknown>)[k];
      return `${JSON.stringify(k)}:${Array.isArray(v) ? `[${v.length}]` : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? JSON.stringify(v).slice(0, 40) : typeof v === 'object' && v ? '{…}' : 'null'}`;
    });
    return `${r.status} {${shown.join(',')}}`;
  }
  return `${r.status} ${JSON.stringify(r.body.trim().slice(0, 40))}`;
}

interface Identified {
  type: string;
  kind: 'model-server' | 'agent-server';
  evidence: string[];
  models?: string[];
}

const modelNames = (items: unknown[], key: string) =>
  items.map((m) => (isPlainObject(m) ? m[key] : undefined)).filter((n): n is string => typeof n === 'string');

/** Which OpenAI-compatible server answered `/v1/models`, from headers and `owned_by`. */
function openAiFlavour(r: Reply, data: unknown[]): { type: string; kind: Identified['kind']; why?: string } {
  const owners = new Set(data.map((m) => (isPlainObject(m) ? m.owned_by : undefined)).filter((o): o is string => typeof o === 'string'));
  const server = String(r.headers.server ?? '');
  if (Object.keys(r.headers).some((h) => h.startsWith('x-litellm'))) return { type: 'LiteLLM proxy', kind: 'agent-server', why: 'x-litellm-* header' };
  if (owners.has('vllm')) return { type: 'vLLM', kind: 'model-server', why: 'owned_by "vllm"' };
  if (owners.has('llamacpp') || /llama\.cpp/i.test(server)) return { type: 'llama.cpp server', kind: 'model-server', why: owners.has('llamacpp') ? 'owned_by "llamacpp"' : `server header ${server}` };
  if (owners.has('organization_owner')) return { type: 'LM Studio', kind: 'model-server', why: 'owned_by "organization_owner"' };
  if (owners.has('localai') || /localai/i.test(server)) return { type: 'LocalAI', kind: 'model-server', why: 'LocalAI marker' };
  return { type: 'OpenAI-compatible server', kind: 'model-server' };
}

/** Answer shapes of the real APIs; a confirmed server's control request must NOT have the shape its API path had. */
const SHAPES = {
  ollamaTags: (r: Reply) => r.status === 200 && isPlainObject(r.json) && Array.isArray(r.json.models),
  openAiModels: (r: Reply) => r.status === 200 && isPlainObject(r.json) && r.json.object === 'list' && Array.isArray(r.json.data),
  health: (r: Reply) => r.status === 200 && isPlainObject(r.json) && typeof r.json.status === 'string',
  llamaProps: (r: Reply) => r.status === 200 && isPlainObject(r.json) && ['default_generation_settings', 'total_slots', 'chat_template'].some((k) => k in (r.json as object)),
  pong: (r: Reply) => r.status === 200 && r.body.trim() === 'pong',
  version: (r: Reply) => r.status === 200 && isPlainObject(r.json) && typeof r.json.version === 'string',
  healthz: (r: Reply) => r.status === 200 && isPlainObject(r.json) && r.json.status === 'ok',
  alive: (r: Reply) => r.status === 200 && /alive/i.test(r.body),
};

/** Asks one port a few questions in turn and stops at the first server type its answers match. */
async function identify(get: (path: string) => Promise<Reply>, url: (path: string) => string): Promise<(Identified & { accepts: (r: Reply) => boolean }) | undefined> {
  const line = (path: string, r: Reply, keys?: string[]) => `GET ${url(path)} → ${summary(r, keys)}`;

  const tags = await get('/api/tags');
  if (SHAPES.ollamaTags(tags) && isPlainObject(tags.json) && Array.isArray(tags.json.models)) {
    return { type: 'Ollama', kind: 'model-server', evidence: [line('/api/tags', tags, ['models'])], models: modelNames(tags.json.models, 'name'), accepts: SHAPES.ollamaTags };
  }
  const models = await get('/v1/models');
  if (SHAPES.openAiModels(models) && isPlainObject(models.json) && Array.isArray(models.json.data)) {
    const flavour = openAiFlavour(models, models.json.data);
    const evidence = [line('/v1/models', models, ['object', 'data'])];
    if (flavour.why) evidence.push(`${flavour.type}: ${flavour.why}`);
    return { type: flavour.type, kind: flavour.kind, evidence, models: modelNames(models.json.data, 'id'), accepts: SHAPES.openAiModels };
  }
  const health = await get('/health');
  if (SHAPES.health(health)) {
    const props = await get('/props');
    if (SHAPES.llamaProps(props)) {
      return { type: 'llama.cpp server', kind: 'model-server', evidence: [line('/health', health, ['status']), line('/props', props, ['total_slots'].filter((k) => k in (props.json as object)))], accepts: SHAPES.llamaProps };
    }
  }
  const ping = await get('/api/v1/ping');
  if (SHAPES.pong(ping)) return { type: 'Flowise', kind: 'agent-server', evidence: [line('/api/v1/ping', ping)], accepts: SHAPES.pong };

  const version = await get('/api/v1/version');
  if (SHAPES.version(version) && isPlainObject(version.json)) {
    if (/langflow/i.test(String(version.json.package ?? '')) || 'main_version' in version.json) {
      return { type: 'Langflow', kind: 'agent-server', evidence: [line('/api/v1/version', version, ['version', 'package'].filter((k) => k in (version.json as object)))], accepts: SHAPES.version };
    }
    const check = await get('/health_check');
    if (check.status === 200 && isPlainObject(check.json) && 'chat' in check.json && 'db' in check.json) {
      return { type: 'Langflow', kind: 'agent-server', evidence: [line('/api/v1/version', version, ['version']), line('/health_check', check, ['status', 'chat', 'db'])], accepts: SHAPES.version };
    }
  }
  const healthz = await get('/healthz');
  if (SHAPES.healthz(healthz)) {
    const settings = await get('/rest/settings');
    const data = isPlainObject(settings.json) ? settings.json.data : undefined;
    if (settings.status === 200 && isPlainObject(data) && ('versionCli' in data || 'n8nMetadata' in data || 'instanceId' in data)) {
      return { type: 'n8n', kind: 'agent-server', evidence: [line('/healthz', healthz, ['status']), `GET ${url('/rest/settings')} → 200 {"data":{n8n settings}}`], accepts: SHAPES.healthz };
    }
    const home = await get('/');
    if (home.status === 200 && /<title>\s*n8n|n8n\.io|window\.BASE_PATH/i.test(home.body)) {
      return { type: 'n8n', kind: 'agent-server', evidence: [line('/healthz', healthz, ['status']), `GET ${url('/')} → 200 n8n editor HTML`], accepts: SHAPES.healthz };
    }
  }
  const alive = await get('/health/liveliness');
  if (SHAPES.alive(alive)) return { type: 'LiteLLM proxy', kind: 'agent-server', evidence: [line('/health/liveliness', alive)], accepts: SHAPES.alive };
  return undefined;
}

/**
 * The second probe: a path no real API has. A real server answers it differently from the API path that matched
 * (404, an error, its web app's HTML); a catch-all server that answers everything alike answers it the same way.
 */
async function confirm(get: (path: string) => Promise<Reply>, url: (path: string) => string, accepts: (r: Reply) => boolean): Promise<string | undefined> {
  const path = `/agentguard-scan-${randomBytes(6).toString('hex')}`;
  const control = await get(path);
  if (accepts(control)) return undefined;
  return `GET ${url(path)} → ${control.status} (a path no API has is answered differently, so the answer above is the API's)`;
}

const ALL_INTERFACES = new Set(['0.0.0.0', '::']);
const isLoopback = (host: string) => host === '::1' || /^127\./.test(host);

/** One port to probe: where to send requests, and every address it is bound to. */
interface Target {
  port: number;
  host: string;
  fallbackHost?: string;
  bound: string[];
  pid?: number;
  process?: string;
}

function targets(sockets: readonly ListeningSocket[]): { targets: Target[]; elsewhere: ListeningSocket[] } {
  const byPort = new Map<number, Target>();
  const elsewhere: ListeningSocket[] = [];
  for (const s of sockets) {
    if (!ALL_INTERFACES.has(s.host) && !isLoopback(s.host)) {
      elsewhere.push(s);
      continue;
    }
    const host = isLoopback(s.host) ? s.host : '127.0.0.1';
    const known = byPort.get(s.port);
    if (!known) {
      byPort.set(s.port, { port: s.port, host, ...(s.host === '::' ? { fallbackHost: '::1' } : {}), bound: [s.host], pid: s.pid, process: s.process });
      continue;
    }
    known.bound.push(s.host);
    known.pid ??= s.pid;
    known.process ??= s.process;
    if (host === '127.0.0.1') [known.host, known.fallbackHost] = ['127.0.0.1', undefined];
  }
  // A port also bound to loopback is probed there; only ports bound elsewhere alone are left out.
  return { targets: [...byPort.values()], elsewhere: elsewhere.filter((e) => !byPort.has(e.port)) };
}

async function processName(options: ScanOptions, t: Target): Promise<string | undefined> {
  if (t.process || t.pid === undefined || options.platform !== 'linux') return t.process;
  return readFile(join(options.procRoot, String(t.pid), 'comm'), 'utf8').then((n) => n.trim(), () => undefined);
}

const hostInUrl = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function scanServers(options: ScanOptions, sockets: ListeningSocket[]): Promise<ScanSection> {
  const { targets: unsorted, elsewhere } = targets(sockets);
  const list = unsorted.sort((a, b) => a.port - b.port);
  const skipped: Skipped[] = [];
  if (!options.probe) {
    const ports = new Set(sockets.map((s) => s.port));
    if (ports.size > 0) skipped.push({ what: `${ports.size} listening port${ports.size > 1 ? 's' : ''}`, reason: 'not probed: probes were turned off (--no-probe), so model and agent servers are not confirmed' });
    return { findings: [], skipped };
  }
  if (elsewhere.length > 0) {
    const shown = elsewhere.slice(0, 5).map((s) => `${hostInUrl(s.host)}:${s.port}`).join(', ');
    skipped.push({ what: `${elsewhere.length} port${elsewhere.length > 1 ? 's' : ''} bound to non-loopback addresses only (${shown}${elsewhere.length > 5 ? ', …' : ''})`, reason: 'not probed: only loopback is probed' });
  }
  const limit = limiter(MAX_IN_FLIGHT);
  // One outcome per port, kept in port order so that reports are stable.
  const outcomes = await Promise.all(
    list.map(async (t): Promise<ScanFinding | Skipped | 'not-a-server'> => {
      let host = t.host;
      const seen = new Map<string, string>();
      const url = (path: string) => `http://${hostInUrl(host)}:${t.port}${path}`;
      const get = async (path: string): Promise<Reply> => {
        let reply: Reply;
        try {
          reply = await limit(() => httpGet(host, t.port, path, options.probeTimeoutMs));
        } catch (error) {
          if (!(error instanceof ProbeStop) || error.why !== 'refused' || !t.fallbackHost || host === t.fallbackHost) throw error;
          host = t.fallbackHost;
          reply = await limit(() => httpGet(host, t.port, path, options.probeTimeoutMs));
        }
        // A server that gives the same non-HTML success body to different API paths answers everything alike.
        if (reply.status >= 200 && reply.status < 300 && !isHtml(reply)) {
          if ([...seen.values()].includes(reply.body)) throw new ProbeStop('catch-all', path);
          seen.set(path, reply.body);
        }
        return reply;
      };
      try {
        const found = await identify(get, url);
        if (!found) return 'not-a-server';
        const control = await confirm(get, url, found.accepts);
        return control ? await toFinding(options, t, host, { ...found, evidence: [...found.evidence, control] }) : 'not-a-server';
      } catch (error) {
        if (!(error instanceof ProbeStop)) throw error;
        if (error.why === 'timeout') return { what: `port ${t.port}`, reason: `probe timed out after ${options.probeTimeoutMs} ms (GET ${url(error.path)})` };
        if (error.why === 'refused') return { what: `port ${t.port}`, reason: `connection refused (GET ${url(error.path)}): the port closed before it could be probed` };
        return 'not-a-server';
      }
    }),
  );
  const findings = outcomes.filter((o): o is ScanFinding => typeof o === 'object' && 'id' in o);
  const unprobed = outcomes.filter((o): o is Skipped => typeof o === 'object' && !('id' in o));
  skipped.push(...unprobed);
  const notServers = outcomes.filter((o) => o === 'not-a-server').length;
  options.progress?.(
    `probed ${list.length} port${list.length === 1 ? '' : 's'}: ${findings.filter((f) => f.kind === 'model-server').length} model servers, ${findings.filter((f) => f.kind === 'agent-server').length} agent servers, ${notServers} not model or agent servers, ${unprobed.length} could not be probed`,
  );
  return { findings, skipped };
}

async function toFinding(options: ScanOptions, t: Target, host: string, found: Identified): Promise<ScanFinding> {
  const exposed = t.bound.some((b) => ALL_INTERFACES.has(b));
  const name = await processName(options, t);
  const models = (found.models ?? []).slice(0, MAX_MODELS);
  const notes = exposed ? [`bound to ${t.bound.filter((b) => ALL_INTERFACES.has(b)).join(' and ')}: reachable from the network, not only from this machine`] : [];
  if (found.models && found.models.length > MAX_MODELS) notes.push(`${found.models.length} models; the first ${MAX_MODELS} are listed`);
  return {
    id: `server:${hostInUrl(host)}:${t.port}`,
    kind: found.kind,
    name: `${found.type} on port ${t.port}`,
    frameworks: [],
    location: `${hostInUrl(host)}:${t.port}`,
    status: 'unknown',
    risk: exposed ? 'high' : 'low',
    evidence: found.evidence,
    notes,
    details: {
      port: t.port,
      boundAddress: t.bound.join(', '),
      pid: t.pid,
      processName: name,
      serverType: found.type,
      url: `http://${hostInUrl(host)}:${t.port}`,
      ...(found.models ? { models, modelCount: found.models.length } : {}),
    },
  };
}

/**
 * `mcp wrap --upstream`: the upstream URL and the headers sent to it. Header values come only from the environment
 * (AGENTGUARD_MCP_UPSTREAM_HEADERS, or variables named by --header-env), never from the command line, which other
 * processes can read; no value is ever quoted back in an error.
 */
import { AgentGuardError } from '../core/errors.js';
import { isPlainObject } from '../core/plain-object.js';
import { UPSTREAM_HEADERS_ENV } from '../mcp/upstream-env.js';

export { UPSTREAM_HEADERS_ENV };

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the transport itself (the session, the revision, the body's framing): a configured value would break it. */
const RESERVED = new Set(['mcp-session-id', 'mcp-protocol-version', 'content-type', 'content-length', 'accept', 'host', 'last-event-id', 'transfer-encoding', 'connection']);

export function upstreamUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new AgentGuardError('USAGE', '--upstream is not a URL', { actions: ['Give the server\'s Streamable HTTP endpoint, e.g. --upstream https://mcp.example.com/mcp.'] });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AgentGuardError('USAGE', `--upstream must be an http:// or https:// URL (got ${url.protocol})`, { actions: ['Give the server\'s Streamable HTTP endpoint, e.g. --upstream https://mcp.example.com/mcp.'] });
  }
  if (url.username !== '' || url.password !== '') {
    throw new AgentGuardError('USAGE', '--upstream holds a user name or password', {
      actions: [`Remove it from the URL and send it as a header instead: ${UPSTREAM_HEADERS_ENV}='{"Authorization":"Basic …"}' (the command line is visible to other processes).`],
    });
  }
  return url;
}

/** `${NAME}` / `${env:NAME}` references a client left in a value (it did not expand them) are filled from our environment. */
const expand = (value: string, env: NodeJS.ProcessEnv): string =>
  value.replace(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => env[name] ?? whole);

function checkHeader(name: string, value: string, where: string): void {
  if (!HEADER_NAME.test(name)) throw new AgentGuardError('USAGE', `${where}: "${name}" is not a valid HTTP header name`, { actions: ['Use letters, digits and - in header names, e.g. Authorization or X-Api-Key.'] });
  if (RESERVED.has(name.toLowerCase())) throw new AgentGuardError('USAGE', `${where}: the header ${name} is set by the MCP transport itself`, { actions: [`Remove ${name}; only headers such as Authorization or X-Api-Key are configured.`] });
  if (/[\r\n\0]/.test(value)) throw new AgentGuardError('USAGE', `${where}: the value of ${name} holds a line break or NUL`, { actions: ['Fix the value (it is not shown here).'] });
}

/** The headers for the upstream: the JSON object in AGENTGUARD_MCP_UPSTREAM_HEADERS, then each --header-env Name=VAR. */
export function upstreamHeaders(headerEnv: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const json = env[UPSTREAM_HEADERS_ENV];
  if (json !== undefined && json.trim() !== '') {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new AgentGuardError('USAGE', `${UPSTREAM_HEADERS_ENV} is not valid JSON`, { actions: [`Set it to a JSON object of header names to values, e.g. {"Authorization":"Bearer …"} (its value is not shown here).`] });
    }
    if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
      throw new AgentGuardError('USAGE', `${UPSTREAM_HEADERS_ENV} must be a JSON object whose values are strings`, { actions: ['e.g. {"Authorization":"Bearer …","X-Api-Key":"…"}'] });
    }
    for (const [name, raw] of Object.entries(value as Record<string, string>)) {
      const v = expand(raw, env);
      checkHeader(name, v, UPSTREAM_HEADERS_ENV);
      out[name] = v;
    }
  }
  for (const pair of headerEnv) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at) : '';
    const variable = at > 0 ? pair.slice(at + 1) : '';
    if (name === '' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
      throw new AgentGuardError('USAGE', `--header-env ${pair} is not <Header>=<ENV_VAR>`, { actions: ['e.g. --header-env Authorization=GITHUB_MCP_AUTH, with GITHUB_MCP_AUTH="Bearer …" in the environment.'] });
    }
    const v = env[variable];
    if (v === undefined || v === '') throw new AgentGuardError('USAGE', `--header-env ${name}=${variable}: the environment variable ${variable} is not set`, { actions: [`Set ${variable} in the MCP client's env for this server.`] });
    checkHeader(name, v, `--header-env ${name}`);
    out[name] = v;
  }
  return out;
}

import { isSidecarAlive, readPidFile, sidecarUrl } from '../../sidecar/pid-file.js';
import { probe } from '../probe.js';
import { fail, ok, skip, type DoctorCheck } from './check.js';

export interface SidecarTarget {
  url: string;
  /** Where the URL came from: a flag or environment variable (the user expects a sidecar) or the pid file. */
  source: 'flag' | 'env' | 'pid-file';
  /** The pid file's key, which reads /readyz in full (what failed and why). */
  statusKey?: string;
}

/** Which sidecar to check: the one named by the user, else the one this data folder's pid file names. */
export function findSidecar(dataDir: string, explicit: { url?: string; source: 'flag' | 'env' }): SidecarTarget | DoctorCheck {
  if (explicit.url) return { url: explicit.url.replace(/\/+$/, ''), source: explicit.source };
  const pid = readPidFile(dataDir);
  if (pid === null) return skip('sidecar', 'no sidecar is running for this data folder (fine if agents use the SDK in local mode)', ['Start one with `agentguard sidecar start --detach`, or pass --sidecar-url to check another.']);
  if (pid === 'invalid') return fail('sidecar', `the pid file in ${dataDir} cannot be read`, ['Run `agentguard sidecar stop`, then `agentguard sidecar start --detach`.']);
  if (!isSidecarAlive(pid.pid)) return fail('sidecar', `the pid file names process ${pid.pid}, which is not running: the sidecar died, and agents asking it are denied`, ['Run `agentguard sidecar logs` to see why, then `agentguard sidecar start --detach`.']);
  return { url: sidecarUrl(pid.host, pid.port), source: 'pid-file', ...(pid.statusKey ? { statusKey: pid.statusKey } : {}) };
}

/** The sidecar answers /healthz and is ready (policy loaded, store writable). */
export async function sidecarCheck(target: SidecarTarget): Promise<DoctorCheck> {
  const health = await probe(`${target.url}/healthz`);
  if (health instanceof Error || health.status !== 200) {
    const why = health instanceof Error ? health.message : `HTTP ${health.status}`;
    return fail('sidecar', `${target.url} does not answer /healthz (${why}); agents asking it are denied`, [
      target.source === 'pid-file' ? 'Run `agentguard sidecar logs`, then restart it with `agentguard sidecar stop && agentguard sidecar start --detach`.' : 'Check the URL, and that the sidecar is started (`agentguard sidecar status`).',
    ]);
  }
  const ready = await probe(`${target.url}/readyz`, undefined, target.statusKey ? { 'x-agentguard-status-key': target.statusKey } : {});
  if (ready instanceof Error) return fail('sidecar', `${target.url}/readyz: ${ready.message}`);
  if (ready.status !== 200) {
    const checks = ((ready.body as { checks?: { name: string; ok: boolean; message?: string }[] } | null)?.checks ?? []).filter((c) => !c.ok);
    const reasons = checks.map((c) => `${c.name}: ${c.message ?? 'failed'}`).join('; ') || `HTTP ${ready.status}`;
    return fail('sidecar', `${target.url} is up but not ready (${reasons}), so it denies every decision`, ['Run `agentguard sidecar logs`; fix the policy and `POST /v1/policy/reload` or send SIGHUP.']);
  }
  return ok('sidecar', `${target.url} is ready`);
}

/** The agent's token is accepted by the sidecar. The token itself is never printed. */
export async function tokenCheck(target: SidecarTarget | null, token: string | undefined, tokenEnv: string): Promise<DoctorCheck> {
  if (!token) return skip('token', `$${tokenEnv} is not set, so no token was checked`, [`Set ${tokenEnv} to the token your agent uses (\`agentguard token create --agent <id>\` makes one).`]);
  if (!target) return skip('token', 'no reachable sidecar to check the token against');
  const reply = await probe(`${target.url}/v1/audit?limit=1`, token);
  if (reply instanceof Error) return fail('token', `could not check the token: ${reply.message}`);
  if (reply.status === 200) return ok('token', `the token in $${tokenEnv} is accepted by ${target.url}`);
  if (reply.status === 401) {
    return fail('token', `${target.url} rejects the token in $${tokenEnv} (missing, malformed, unknown or revoked)`, [
      'Run `agentguard token list` to see the valid tokens, and `agentguard token create --agent <id>` for a new one.',
    ]);
  }
  return fail('token', `${target.url} answered HTTP ${reply.status} to the token in $${tokenEnv}`);
}

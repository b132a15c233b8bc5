import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { tempDataDir } from './helpers/audit-log.js';
import { until } from './helpers/sidecar-process.js';

const POLICY = join(ROOT, 'test/fixtures/sidecar-cli/policy.yaml');

interface StartResult {
  pid: number;
  url: string;
  detached: boolean;
}

/** Every sidecar pid this file started, killed in afterAll whatever happened. */
const started = new Set<number>();

function start(dataDir: string, policy: string, ...flags: string[]) {
  const result = runCli(['sidecar', 'start', '--detach', '--port', '0', '--policy', policy, '--data-dir', dataDir, '--json', ...flags]);
  const pidFile = join(dataDir, 'sidecar.pid');
  if (existsSync(pidFile)) started.add((JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid);
  return result;
}

/** A running process; a zombie (exited, not yet reaped by init, as in some containers) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already stopped
    }
  }
});

describe('agentguard sidecar start/status/stop (real daemon)', () => {
  let dataDir: string;
  let policy: string;
  let sidecar: StartResult;
  let token: string;
  let adminToken: string;

  beforeAll(async () => {
    dataDir = tempDataDir('ag-cli-sidecar-');
    policy = join(dirname(dataDir), 'policy.yaml');
    copyFileSync(POLICY, policy);
    const created = await runCliInProcess(['token', 'create', '--agent', 'bot', '--json', '--data-dir', dataDir]);
    expect(created.code, created.stderr).toBe(0);
    token = (JSON.parse(created.stdout) as { token: string }).token;
    adminToken = (JSON.parse((await runCliInProcess(['token', 'create', '--admin', '--json', '--data-dir', dataDir])).stdout) as { token: string }).token;
    const result = start(dataDir, policy);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    sidecar = JSON.parse(result.stdout) as StartResult;
  }, 30_000);

  it('--detach returns once /healthz answers, with the pid and URL; the pid file holds them', async () => {
    expect(sidecar.detached).toBe(true);
    expect(sidecar.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(alive(sidecar.pid)).toBe(true);
    const pidFile = JSON.parse(readFileSync(join(dataDir, 'sidecar.pid'), 'utf8')) as Record<string, unknown>;
    expect(pidFile).toMatchObject({ pid: sidecar.pid, host: '127.0.0.1', port: Number(new URL(sidecar.url).port) });
    expect(Number.isNaN(Date.parse(String(pidFile.startedAt)))).toBe(false);
    expect(await (await fetch(`${sidecar.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('status --json reports running, healthy, ready and the policy; exit 0', async () => {
    const result = await runCliInProcess(['sidecar', 'status', '--json', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ running: true, pid: sidecar.pid, url: sidecar.url, healthy: true, ready: true, policy: { name: 'sidecar-cli-test' } });
  });

  it('a second start while running is refused with exit 1 and leaves the first one alone', async () => {
    const result = await runCliInProcess(['sidecar', 'start', '--detach', '--port', '0', '--policy', policy, '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error (SIDECAR_RUNNING)');
    expect(result.stderr).toContain(`pid ${sidecar.pid}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(alive(sidecar.pid)).toBe(true);
  });

  it('POST /v1/decide with the agent token answers a Decision that lands in the audit log', async () => {
    const response = await fetch(`${sidecar.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE users' } } }),
    });
    expect(response.status).toBe(200);
    const decision = (await response.json()) as { id: string; effect: string; action: { agent: { id: string } }; reasons: { rule?: string }[] };
    expect(decision.effect).toBe('deny');
    expect(decision.action.agent.id).toBe('bot');
    expect(decision.reasons.map((r) => r.rule)).toContain('no-destructive-sql');

    const query = await runCliInProcess(['audit', 'query', '--json', '--data-dir', dataDir]);
    expect(query.code, query.stderr).toBe(0);
    const records = JSON.parse(query.stdout) as { decisionId?: string; effect?: string; agentId?: string }[];
    expect(records.find((r) => r.decisionId === decision.id)).toMatchObject({ effect: 'deny', agentId: 'bot' });
  });

  it('without a token /v1/decide is 401', async () => {
    const response = await fetch(`${sidecar.url}/v1/decide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: { kind: 'tool', name: 'kb.search' } }),
    });
    expect(response.status).toBe(401);
  });

  it('SIGHUP reloads a changed policy, and keeps the last good one when the new file is invalid', async () => {
    const readyPolicy = async () => ((await (await fetch(`${sidecar.url}/readyz`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { policy: { name: string; lastReload?: { ok: boolean; error?: string } } }).policy;
    writeFileSync(policy, readFileSync(POLICY, 'utf8').replace('name: sidecar-cli-test', 'name: sidecar-cli-v2'));
    process.kill(sidecar.pid, 'SIGHUP');
    await until(async () => ((await readyPolicy()).name === 'sidecar-cli-v2' ? true : undefined));

    writeFileSync(policy, 'version: 1\nname: broken\ndefault: maybe\nrules: []\n');
    process.kill(sidecar.pid, 'SIGHUP');
    const refused = await until(async () => {
      const current = await readyPolicy();
      return current.lastReload?.ok === false ? current : undefined;
    });
    expect(refused.name).toBe('sidecar-cli-v2');
    expect((await fetch(`${sidecar.url}/readyz`)).status).toBe(200);
    const logs = await runCliInProcess(['sidecar', 'logs', '--data-dir', dataDir]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('policy reload refused');
  });

  it('logs -n prints only the last lines, each a JSON object', async () => {
    const result = await runCliInProcess(['sidecar', 'logs', '-n', '2', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('level');
  });

  it('stop ends the process, removes the pid file, and the audit log verifies with a final checkpoint', async () => {
    const result = await runCliInProcess(['sidecar', 'stop', '--json', '--data-dir', dataDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ stopped: true, pid: sidecar.pid });
    expect(alive(sidecar.pid)).toBe(false);
    expect(existsSync(join(dataDir, 'sidecar.pid'))).toBe(false);
    expect(readFileSync(join(dataDir, 'sidecar.log'), 'utf8')).toContain('final audit checkpoint written');

    const verify = await runCliInProcess(['audit', 'verify', '--json', '--data-dir', dataDir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; checkpoints: number };
    expect(report.ok).toBe(true);
    expect(report.checkpoints).toBeGreaterThanOrEqual(1);
  });

  it('after stop: status exits 1 and stop exits 1 with a clear message', async () => {
    const status = await runCliInProcess(['sidecar', 'status', '--json', '--data-dir', dataDir]);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toEqual({ running: false });
    const stop = await runCliInProcess(['sidecar', 'stop', '--data-dir', dataDir]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain('Error (SIDECAR_NOT_RUNNING): no sidecar is running');
  });
});

describe('agentguard sidecar: failures are clear errors', () => {
  it('a stale pid file is removed and reported by stop', async () => {
    const dataDir = tempDataDir('ag-cli-sidecar-stale-');
    // A pid that cannot be a live process of ours (beyond the Linux pid_max of 4 194 304).
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'sidecar.pid'), JSON.stringify({ pid: 99_999_999, port: 1, host: '127.0.0.1', startedAt: '2020-01-01T00:00:00Z' }));
    const stop = await runCliInProcess(['sidecar', 'stop', '--data-dir', dataDir]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain('stale pid file (pid 99999999 is not running)');
    expect(existsSync(join(dataDir, 'sidecar.pid'))).toBe(false);
  });

  it('an invalid policy refuses to start (exit 1, file:line, no stack, no pid file)', async () => {
    const dataDir = tempDataDir('ag-cli-sidecar-bad-');
    const result = start(dataDir, join(ROOT, 'test/fixtures/sidecar/invalid-policy.yaml'));
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('POLICY_INVALID');
    expect(error.error.message).toMatch(/invalid-policy\.yaml:\d+:\d+/);
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'sidecar.pid'))).toBe(false);
  }, 30_000);

  it('a port in use is exit 1 naming the port', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const dataDir = tempDataDir('ag-cli-sidecar-port-');
      const result = await runCliInProcess(['sidecar', 'start', '--detach', '--port', String(port), '--policy', POLICY, '--data-dir', dataDir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Error (PORT_IN_USE): port ${port} on 127.0.0.1 is already in use`);
      expect(existsSync(join(dataDir, 'sidecar.pid'))).toBe(false);
    } finally {
      server.close();
    }
  }, 30_000);

  it('a non-loopback --host needs --allow-remote (exit 2)', async () => {
    const dataDir = tempDataDir('ag-cli-sidecar-host-');
    const result = await runCliInProcess(['sidecar', 'start', '--host', '0.0.0.0', '--policy', POLICY, '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error (REMOTE_BIND)');
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { makeTempDir } from './helpers/temp-dirs.js';

// `agentguard sidecar start --policy-from-store --trust-policy-key` as a process: what an operator sees.

const POLICY = `version: 1
name: e2e-signed
default: deny
rules:
  - id: read
    effect: allow
    when: { name: kb.read }
`;

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const root = makeTempDir('ag-policy-sign-e2e-');
const children: ChildProcess[] = [];
let cluster: PgCluster | undefined;
let url = '';
let starts = 0;

/** Starts a sidecar process; resolves when it listens (then stops it) or exits, with everything it wrote. */
function sidecar(...flags: string[]): Promise<{ listening: boolean; code: number | null; output: string }> {
  const child = spawn(process.execPath, [bin, 'sidecar', 'start', '--port', '0', '--data-dir', join(root, `d${++starts}`), ...flags], {
    env: { ...process.env, AGENTGUARD_STORE_URL: url, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sidecar neither listened nor exited in 90 s: ${output}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (!listening && /listening on http:\/\/\S+/.test(output)) {
        listening = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ listening, code, output });
    });
  });
}

const cli = (...args: string[]) => runCliInProcess([...args, '--store', url, '--data-dir', join(root, 'cli')]);

describe.skipIf(postgresMissing() !== null)(`sidecar start --trust-policy-key${postgresMissing() ? ` (skipped: ${postgresMissing()})` : ''}`, () => {
  let publicKey = '';
  let privateKey = '';
  const policy = join(root, 'policy.yaml');

  beforeAll(async () => {
    cluster = await startPgCluster();
    url = cluster.database('signed_e2e');
    writeFileSync(policy, POLICY);
    expect((await cli('store', 'migrate')).code).toBe(0);
    ({ publicKey, privateKey } = JSON.parse((await runCliInProcess(['policy', 'keygen', '--out', join(root, 'key'), '--json'])).stdout));
  }, 120_000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cluster?.stop();
  }, 60_000);

  it('refuses to start on an unsigned version, saying which and how to fix it; without keys it starts and warns once', async () => {
    expect((await cli('policy', 'push', policy)).code).toBe(0);
    const refused = await sidecar('--policy-from-store', '--trust-policy-key', publicKey);
    expect(refused.listening).toBe(false);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('POLICY_UNSIGNED');
    expect(refused.output).toContain('policy version 1');
    expect(refused.output).toContain('--sign-key');
    expect(refused.output).not.toMatch(/\n\s+at /); // no stack trace
    const unchecked = await sidecar('--policy-from-store');
    expect(unchecked.listening, unchecked.output).toBe(true);
    expect(unchecked.output.match(/not signature-checked/g)).toHaveLength(1);
  }, 240_000);

  it('starts on a version signed by the trusted key, without the warning', async () => {
    expect((await cli('policy', 'push', policy, '--sign-key', privateKey)).code).toBe(0);
    const started = await sidecar('--policy-from-store', '--trust-policy-key', publicKey);
    expect(started.listening, started.output).toBe(true);
    expect(started.output).not.toContain('not signature-checked');
  }, 180_000);

  it('a detached sidecar checks signatures too: the daemon it starts refuses an unsigned version and takes a signed one', async () => {
    const detached = (dataDir: string) =>
      spawnSync(process.execPath, [bin, 'sidecar', 'start', '--detach', '--port', '0', '--data-dir', dataDir, '--policy-from-store', '--trust-policy-key', publicKey, '--json'], {
        env: { ...process.env, AGENTGUARD_STORE_URL: url, NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 120_000,
      });
    const stop = (dataDir: string) => spawnSync(process.execPath, [bin, 'sidecar', 'stop', '--data-dir', dataDir], { env: { ...process.env, AGENTGUARD_STORE_URL: url }, timeout: 60_000 });
    expect((await cli('policy', 'push', policy)).code).toBe(0);
    const refusedDir = join(root, `detached${++starts}`);
    const refused = detached(refusedDir);
    stop(refusedDir);
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('POLICY_UNSIGNED');
    expect((await cli('policy', 'push', policy, '--sign-key', privateKey)).code).toBe(0);
    const startedDir = join(root, `detached${++starts}`);
    const started = detached(startedDir);
    try {
      expect(started.status, started.stderr).toBe(0);
      expect(JSON.parse(started.stdout)).toMatchObject({ detached: true });
    } finally {
      expect(stop(startedDir).status).toBe(0);
    }
  }, 300_000);

  it('--trust-policy-key needs --policy-from-store, and a key file that is one', async () => {
    const alone = await sidecar('--trust-policy-key', publicKey);
    expect(alone.listening).toBe(false);
    expect(alone.output).toContain('--policy-from-store');
    const bad = await sidecar('--policy-from-store', '--trust-policy-key', policy);
    expect(bad.listening).toBe(false);
    expect(bad.output).toContain('POLICY_KEY_UNREADABLE');
  }, 180_000);
});

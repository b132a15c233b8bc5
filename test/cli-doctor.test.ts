import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { rawDb, tempDataDir } from './helpers/audit-log.js';

interface DoctorJson {
  ok: boolean;
  checks: Array<{ name: string; status: string; message: string; fix?: string[] }>;
}

/** A project folder with a config, a policy and a data folder holding two recorded decisions. */
async function project(): Promise<{ root: string; dataDir: string }> {
  const dataDir = tempDataDir('ag-doctor-');
  const root = dirname(dataDir);
  mkdirSync(join(root, 'agentguard'));
  copyFileSync(join(ROOT, 'test/fixtures/sidecar-cli/policy.yaml'), join(root, 'agentguard/policy.yaml'));
  writeFileSync(join(root, 'agentguard.config.json'), JSON.stringify({ policy: 'agentguard/policy.yaml', policyDir: 'agentguard', dataDir: 'data' }));
  for (const name of ['kb.search', 'db.query']) {
    const recorded = await runCliInProcess(['policy', 'simulate', '--action', JSON.stringify({ kind: 'tool', name }), '--record'], { cwd: root });
    expect(recorded.code, recorded.stderr).toBeLessThanOrEqual(1);
  }
  return { root, dataDir };
}

async function doctor(cwd: string, ...args: string[]): Promise<{ code: number; json: DoctorJson }> {
  const result = await runCliInProcess(['doctor', '--json', ...args], { cwd, env: { AGENTGUARD_TOKEN: '', AGENTGUARD_SIDECAR_URL: '' } });
  return { code: result.code, json: JSON.parse(result.stdout) as DoctorJson };
}

const status = (json: DoctorJson, name: string) => json.checks.find((c) => c.name === name);

describe('agentguard doctor (local checks)', () => {
  it('a healthy project: exit 0, every local check ok, sidecar and token skipped with how to enable them', async () => {
    const { root } = await project();
    const { code, json } = await doctor(root);
    expect(code).toBe(0);
    expect(json.ok).toBe(true);
    for (const name of ['config', 'policy', 'store', 'audit', 'keys']) expect(status(json, name)?.status, name).toBe('ok');
    // Two decisions, and the chain's copy of the checkpoint the first run signed on closing.
    expect(status(json, 'audit')?.message).toMatch(/^3 record\(s\) intact/);
    expect(status(json, 'sidecar')).toMatchObject({ status: 'skip', fix: [expect.stringMatching(/sidecar start/)] });
    expect(status(json, 'token')?.status).toBe('skip');
  });

  it('an invalid policy fails with file:line and the command that lists every problem', async () => {
    const { root } = await project();
    writeFileSync(join(root, 'agentguard/policy.yaml'), 'version: 1\nname: x\nrules:\n  - id: a\n    effect: alow\n');
    const { code, json } = await doctor(root);
    expect(code).toBe(1);
    expect(status(json, 'policy')).toMatchObject({ status: 'fail', message: expect.stringMatching(/agentguard\/policy\.yaml:5:\d+: .*alow/), fix: [expect.stringMatching(/policy validate/)] });
  });

  it('a private key other users can read fails with the chmod that fixes it', async () => {
    const { root, dataDir } = await project();
    chmodSync(join(dataDir, 'keys/audit-ed25519.key.pem'), 0o644);
    const { code, json } = await doctor(root);
    expect(code).toBe(1);
    expect(status(json, 'keys')).toMatchObject({ status: 'fail', fix: [expect.stringMatching(/^Run `chmod 600 .*audit-ed25519\.key\.pem`\.$/), expect.any(String)] });
  });

  it('a tampered audit log fails naming the record', async () => {
    const { root, dataDir } = await project();
    const db = rawDb(join(dataDir, 'agentguard.db'));
    db.prepare(`UPDATE audit_records SET effect = 'allow' WHERE seq = 2`).run();
    db.close();
    const { code, json } = await doctor(root);
    expect(code).toBe(1);
    expect(status(json, 'audit')).toMatchObject({ status: 'fail', message: expect.stringMatching(/tampered.*record 2/) });
  });

  it('a broken config fails and says how to fix it; the human output lists fixes under the failed check', async () => {
    const { root } = await project();
    writeFileSync(join(root, 'agentguard.config.json'), '{"policy": 1}');
    const result = await runCliInProcess(['doctor'], { cwd: root, env: { AGENTGUARD_TOKEN: '', AGENTGUARD_SIDECAR_URL: '' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ config +.*"policy" must be a string\n +fix: /);
    expect(result.stdout).toMatch(/problem\(s\) to fix/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAgentGuardError } from '../src/core/errors.js';
import { generatePolicyKeyPair, readPolicySigningKey, readTrustedPolicyKey } from '../src/core/policy-signing/keys.js';
import { checkPolicySignature, signPolicyVersion } from '../src/core/policy-signing/signature.js';
import type { SignedPolicyFields } from '../src/core/policy-signing/signed-fields.js';
import { startSidecarServer, type RunningSidecar } from '../src/sidecar/server.js';
import { runCliInProcess } from './helpers/cli-in-process.js';
import { postgresMissing, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { makeTempDir } from './helpers/temp-dirs.js';

const root = makeTempDir('ag-policy-sign-');
const posix = process.platform !== 'win32';

/** The error a promise rejects with, or a failure when it resolves. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; actions: string[] }> {
  try {
    await promise;
  } catch (error) {
    if (isAgentGuardError(error)) return { code: error.code, message: error.message, actions: error.actions };
    throw error;
  }
  throw new Error('expected a refusal, but it succeeded');
}

describe('policy signing keys', () => {
  it('keygen writes a 0600 private key in a 0700 folder and the public key, prints the key id, and never overwrites', async () => {
    const out = join(root, 'keys-cli');
    const made = await runCliInProcess(['policy', 'keygen', '--out', out, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const result = JSON.parse(made.stdout) as { keyId: string; privateKey: string; publicKey: string };
    expect(result.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
    if (posix) {
      expect(statSync(out).mode & 0o777).toBe(0o700);
      expect(statSync(result.privateKey).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(result.privateKey, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(readFileSync(result.publicKey, 'utf8')).toContain('BEGIN PUBLIC KEY');
    // The id is the one the audit keys use (sha256 of the DER public key), the same from either file.
    expect(readTrustedPolicyKey(result.publicKey).keyId).toBe(result.keyId);
    expect(readPolicySigningKey(result.privateKey).keyId).toBe(result.keyId);
    const before = readFileSync(result.privateKey, 'utf8');
    const again = await runCliInProcess(['policy', 'keygen', '--out', out]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('POLICY_KEY_EXISTS');
    expect(readFileSync(result.privateKey, 'utf8')).toBe(before);
    const human = await runCliInProcess(['policy', 'keygen', '--out', join(root, 'keys-human')]);
    expect(human.stdout).toMatch(/sha256:[0-9a-f]{64}/);
    expect(human.stdout).not.toContain('PRIVATE KEY');
  });

  it.skipIf(!posix)('refuses a private key that other users can read, without showing any key material', async () => {
    const keys = generatePolicyKeyPair(join(root, 'keys-open'));
    chmodSync(keys.privateKeyFile, 0o644);
    const error = await refusal(Promise.resolve().then(() => readPolicySigningKey(keys.privateKeyFile)));
    expect(error.code).toBe('POLICY_KEY_PERMISSIONS');
    expect(error.message).not.toContain('PRIVATE KEY');
    // Refused before any store is opened: the push fails on the key, not on the missing fleet store.
    const file = join(root, 'open-key-policy.yaml');
    writeFileSync(file, 'version: 1\nname: p\ndefault: deny\nrules: []\n');
    const pushed = await runCliInProcess(['policy', 'push', file, '--sign-key', keys.privateKeyFile, '--data-dir', join(root, 'no-store')]);
    expect(pushed.code).toBe(2);
    expect(pushed.stderr).toContain('POLICY_KEY_PERMISSIONS');
    expect(pushed.stderr).not.toContain('PRIVATE KEY');
  });

  it('refuses a file that is no Ed25519 key, as a signing key or a trusted key', async () => {
    const file = join(root, 'not-a-key.pem');
    writeFileSync(file, 'hello', { mode: 0o600 });
    expect((await refusal(Promise.resolve().then(() => readPolicySigningKey(file)))).code).toBe('POLICY_KEY_UNREADABLE');
    expect((await refusal(Promise.resolve().then(() => readTrustedPolicyKey(file)))).code).toBe('POLICY_KEY_UNREADABLE');
    expect((await refusal(Promise.resolve().then(() => readTrustedPolicyKey(join(root, 'missing.pem'))))).code).toBe('POLICY_KEY_UNREADABLE');
  });
});

describe('policy version signatures', () => {
  const keys = generatePolicyKeyPair(join(root, 'keys-prop'));
  const signing = readPolicySigningKey(keys.privateKeyFile);
  const trusted = [readTrustedPolicyKey(keys.publicKeyFile)];
  const fieldsArb: fc.Arbitrary<SignedPolicyFields> = fc.record({
    hash: fc.string({ minLength: 1 }),
    name: fc.string({ minLength: 1 }),
    action: fc.constantFrom('push' as const, 'rollback' as const),
    ofVersion: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
    pushedBy: fc.string({ minLength: 1 }),
    pushedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  });

  it('verifies what it signed, with the key that signed it only', () => {
    const other = generatePolicyKeyPair(join(root, 'keys-prop-other'));
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const signature = signPolicyVersion(fields, signing);
        expect(checkPolicySignature(fields, signature, trusted)).toBeNull();
        expect(checkPolicySignature(fields, null, trusted)).toBe('unsigned');
        expect(checkPolicySignature(fields, signature, [readTrustedPolicyKey(other.publicKeyFile)])).toBe('untrusted-key');
      }),
      { numRuns: 50 },
    );
  });

  it('fails when any code unit of any signed field, any byte of the signature or any character of its text changes', () => {
    const change = (text: string, at: number, by: number) => {
      const i = at % text.length;
      return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ by) + text.slice(i + 1);
    };
    fc.assert(
      fc.property(
        fieldsArb,
        fc.constantFrom<keyof SignedPolicyFields | 'signature' | 'signatureText'>('hash', 'name', 'action', 'ofVersion', 'pushedBy', 'pushedAt', 'signature', 'signatureText'),
        fc.nat(),
        fc.integer({ min: 1, max: 0xff }),
        (fields, which, at, by) => {
          const signature = signPolicyVersion(fields, signing);
          let changed = { ...fields };
          let sig = { ...signature };
          if (which === 'signature') {
            const bytes = Buffer.from(signature.value, 'base64');
            bytes[at % bytes.length] ^= by;
            sig = { ...sig, value: bytes.toString('base64') };
          } else if (which === 'signatureText') {
            sig = { ...sig, value: change(signature.value, at, by) };
          } else if (which === 'ofVersion') {
            changed = { ...changed, ofVersion: (fields.ofVersion ?? 0) ^ by };
          } else {
            changed = { ...changed, [which]: change(fields[which], at, by) } as SignedPolicyFields;
          }
          expect(checkPolicySignature(changed, sig, trusted)).toBe('bad-signature');
        },
      ),
      { numRuns: 300 },
    );
  });
});

// A fleet store on a private PostgreSQL cluster, sidecars in this process (their audit written on the event loop).
const POLICY = (name: string, tool: string) => `version: 1
name: ${name}
default: deny
rules:
  - id: allow-${tool}
    effect: allow
    when: { name: ${tool} }
`;

describe.skipIf(postgresMissing() !== null)(`signed policy pushes on a PostgreSQL fleet store${postgresMissing() ? ` (skipped: ${postgresMissing()})` : ''}`, () => {
  let cluster: PgCluster | undefined;
  let url = '';
  let db: pg.Client;
  let sidecar: RunningSidecar | undefined;
  let token = '';
  const keyDir = join(root, 'fleet-key');
  const otherDir = join(root, 'fleet-other-key');
  let keyId = '';
  let privateKey = '';
  let otherPrivateKey = '';
  const trust = () => [readTrustedPolicyKey(join(keyDir, 'policy-signing.pub.pem'))];
  const saved = { store: process.env.AGENTGUARD_STORE_URL, thread: process.env.AGENTGUARD_AUDIT_THREAD };
  let starts = 0;

  const cli = (...args: string[]) => runCliInProcess([...args, '--store', url, '--data-dir', join(root, 'cli')]);
  async function push(name: string, tool: string, ...flags: string[]): Promise<{ version: number; hash: string; signedBy: string | null }> {
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, POLICY(name, tool));
    const pushed = await cli('policy', 'push', file, '--json', ...flags);
    expect(pushed.code, pushed.stderr).toBe(0);
    return JSON.parse(pushed.stdout);
  }
  const start = () => startSidecarServer({ dataDir: join(root, `sidecar-${++starts}`), policyPath: join(root, 'unused.yaml'), host: '127.0.0.1', port: 0, policyFromStore: true, trustedPolicyKeys: trust() });
  async function decidedWith(tool: string): Promise<{ hash: string; effect: string }> {
    const reply = await sidecar!.app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: `Bearer ${token}` }, payload: { action: { kind: 'tool', name: tool, input: {} } } });
    expect(reply.statusCode, reply.body).toBe(200);
    const body = reply.json() as { effect: string; policy: { hash: string } };
    return { hash: body.policy.hash, effect: body.effect };
  }
  /** A live switch (what NOTIFY triggers) that must be refused, leaving `kept` in force and deciding. */
  async function refusedLive(code: string, kept: { hash: string }, tool: string) {
    const failedReloads = async () => (await sidecar!.app.sidecar.services.metrics.registry.getSingleMetric('agentguard_policy_reloads_total')!.get()).values.find((v) => v.labels.result === 'failed')!.value;
    const before = await failedReloads();
    const result = await sidecar!.app.sidecar.reloadPolicy();
    // Counted like any refused reload (a NOTIFY-triggered reload of the same row may add its own count meanwhile).
    expect(await failedReloads()).toBeGreaterThan(before);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe(code);
    expect(sidecar!.app.sidecar.services.policy.current.hash).toBe(kept.hash);
    expect(await decidedWith(tool)).toEqual({ hash: kept.hash, effect: 'allow' });
  }
  /** A sidecar starting now must refuse to start, saying which version and how to fix it. */
  async function refusedAtStart(code: string, version: number) {
    const error = await refusal(start());
    expect(error.code).toBe(code);
    expect(error.message).toContain(`policy version ${version}`);
    expect(error.actions.join(' ')).toContain('--sign-key');
    expect(error.message).not.toMatch(/BEGIN|PRIVATE/);
  }
  async function newest(): Promise<number> {
    return Number((await db.query('SELECT max(version)::int AS v FROM policy_versions')).rows[0].v);
  }

  beforeAll(async () => {
    cluster = await startPgCluster();
    url = cluster.database('signed');
    process.env.AGENTGUARD_STORE_URL = url;
    process.env.AGENTGUARD_AUDIT_THREAD = 'off';
    db = new pg.Client({ connectionString: url });
    await db.connect();
    expect((await cli('store', 'migrate', '--json')).code).toBe(0);
    const made = await runCliInProcess(['policy', 'keygen', '--out', keyDir, '--json']);
    ({ keyId, privateKey } = JSON.parse(made.stdout));
    otherPrivateKey = JSON.parse((await runCliInProcess(['policy', 'keygen', '--out', otherDir, '--json'])).stdout).privateKey;
    const created = await cli('token', 'create', '--agent', 'bot', '--json');
    expect(created.code, created.stderr).toBe(0);
    token = JSON.parse(created.stdout).token;
  }, 120_000);

  afterAll(async () => {
    await sidecar?.stop('test over');
    await db?.end();
    cluster?.stop();
    process.env.AGENTGUARD_STORE_URL = saved.store;
    if (saved.store === undefined) delete process.env.AGENTGUARD_STORE_URL;
    process.env.AGENTGUARD_AUDIT_THREAD = saved.thread;
    if (saved.thread === undefined) delete process.env.AGENTGUARD_AUDIT_THREAD;
  }, 60_000);

  it('a signed push is in force on a sidecar that trusts its key; history shows the key id, or unsigned', async () => {
    const v1 = await push('signed-one', 'kb.read', '--sign-key', privateKey);
    expect(v1.signedBy).toBe(keyId);
    sidecar = await start();
    expect(await decidedWith('kb.read')).toEqual({ hash: v1.hash, effect: 'allow' });
    const history = await cli('policy', 'history');
    expect(history.stdout).toContain(`signed ${keyId}`);
  }, 120_000);

  it('an unsigned version is refused at start and on a live switch, where the signed policy stays in force', async () => {
    const kept = { hash: sidecar!.app.sidecar.services.policy.current.hash };
    const v2 = await push('unsigned-two', 'kb.write');
    expect(v2.signedBy).toBeNull();
    const listed = JSON.parse((await cli('policy', 'history', '--json')).stdout) as Array<{ version: number; signedBy: string | null }>;
    expect(listed.map((v) => [v.version, v.signedBy])).toEqual([
      [v2.version, null],
      [1, keyId],
    ]);
    expect((await cli('policy', 'history')).stdout).toMatch(/unsigned-two \S+ {2}unsigned/);
    await refusedLive('POLICY_UNSIGNED', kept, 'kb.read');
    await refusedAtStart('POLICY_UNSIGNED', v2.version);
    expect((await sidecar!.app.inject({ method: 'POST', url: '/v1/decide', headers: { authorization: `Bearer ${token}` }, payload: { action: { kind: 'tool', name: 'kb.write', input: {} } } })).json().effect).toBe('deny');
  }, 120_000);

  it('a version signed by a key the sidecar does not trust is refused', async () => {
    const kept = { hash: sidecar!.app.sidecar.services.policy.current.hash };
    const v3 = await push('other-key-three', 'kb.write', '--sign-key', otherPrivateKey);
    await refusedLive('POLICY_SIGNATURE_INVALID', kept, 'kb.read');
    await refusedAtStart('POLICY_SIGNATURE_INVALID', v3.version);
  }, 120_000);

  it('a signed version whose document, hash, name, action or pushedAt was changed in the database is refused', async () => {
    const v4 = await push('signed-four', 'kb.search', '--sign-key', privateKey);
    const switched = await sidecar!.app.sidecar.reloadPolicy();
    expect(switched.ok).toBe(true);
    expect(await decidedWith('kb.search')).toEqual({ hash: v4.hash, effect: 'allow' });
    const original = (await db.query('SELECT document, hash, name, action, pushed_at FROM policy_versions WHERE version = $1', [v4.version])).rows[0];
    const otherDocument = (await db.query('SELECT document, hash FROM policy_versions WHERE version = 2')).rows[0];
    const changes: Array<[string, string, unknown[], string]> = [
      ['document', 'document = $2', [otherDocument.document], 'POLICY_INVALID'],
      ['document and hash', 'document = $2, hash = $3', [otherDocument.document, otherDocument.hash], 'POLICY_SIGNATURE_INVALID'],
      ['name', 'name = $2', ['renamed'], 'POLICY_SIGNATURE_INVALID'],
      ['action', 'action = $2', ['rollback'], 'POLICY_SIGNATURE_INVALID'],
      ['pushedAt', 'pushed_at = $2', [new Date(Date.parse(original.pushed_at) + 1000).toISOString()], 'POLICY_SIGNATURE_INVALID'],
    ];
    for (const [what, set, values, code] of changes) {
      await db.query(`UPDATE policy_versions SET ${set} WHERE version = $1`, [v4.version, ...values]);
      try {
        await refusedLive(code, v4, 'kb.search');
        await refusedAtStart(code, v4.version);
      } catch (error) {
        throw new Error(`changed ${what}: ${(error as Error).message}`);
      } finally {
        await db.query('UPDATE policy_versions SET document = $2, hash = $3, name = $4, action = $5, pushed_at = $6 WHERE version = $1', [
          v4.version,
          original.document,
          original.hash,
          original.name,
          original.action,
          original.pushed_at,
        ]);
      }
    }
  }, 240_000);

  it('an older signed version copied in as the newest row (a replay) is refused', async () => {
    const kept = { hash: sidecar!.app.sidecar.services.policy.current.hash };
    await db.query(
      `INSERT INTO policy_versions (hash, name, document, action, of_version, pushed_by, pushed_at, source, note, signature, signature_key_id)
       SELECT hash, name, document, action, of_version, pushed_by, pushed_at, source, note, signature, signature_key_id FROM policy_versions WHERE version = 1`,
    );
    const replayed = await newest();
    await refusedLive('POLICY_SIGNATURE_REPLAYED', kept, 'kb.search');
    // At start nothing is in force: the later signed version 4 in the store shows it is a replay.
    await refusedAtStart('POLICY_SIGNATURE_REPLAYED', replayed);
  }, 120_000);

  it('a signed rollback brings an earlier version back, live and at start; an unsigned rollback is refused', async () => {
    const unsigned = await cli('policy', 'rollback', '1', '--json');
    expect(unsigned.code, unsigned.stderr).toBe(0);
    const kept = { hash: sidecar!.app.sidecar.services.policy.current.hash };
    await refusedLive('POLICY_UNSIGNED', kept, 'kb.search');
    const rolled = await cli('policy', 'rollback', '1', '--sign-key', privateKey, '--json');
    expect(rolled.code, rolled.stderr).toBe(0);
    const version = JSON.parse(rolled.stdout) as { action: string; ofVersion: number; hash: string; signedBy: string };
    expect(version).toMatchObject({ action: 'rollback', ofVersion: 1, signedBy: keyId });
    expect((await sidecar!.app.sidecar.reloadPolicy()).ok).toBe(true);
    expect(await decidedWith('kb.read')).toEqual({ hash: version.hash, effect: 'allow' });
    const second = await start();
    try {
      expect(second.app.sidecar.services.policy.current.hash).toBe(version.hash);
    } finally {
      await second.stop('test over');
    }
    const missing = await cli('policy', 'rollback', '999', '--sign-key', privateKey);
    expect(missing.stderr).toContain('STORE_POLICY_NOT_FOUND');
    expect(existsSync(keyDir)).toBe(true);
  }, 180_000);
});

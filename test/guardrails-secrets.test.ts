import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentGuardError } from '../src/core/errors.js';
import { evaluateSecrets, type SpanRow } from '../src/core/guardrails/eval/secrets.js';
import { base62CrcValid, crc32, toBase62 } from '../src/core/guardrails/secrets/checksum.js';
import { isPlaceholder, shannonEntropy } from '../src/core/guardrails/secrets/entropy.js';
import { SECRET_TYPES, secretsGuardrail } from '../src/core/guardrails/secrets/index.js';

const guard = secretsGuardrail.create({});
const found = (text: string) => guard.detect(text) as ReturnType<typeof guard.detect> & unknown[];
const values = (text: string) => (guard.detect(text) as { type: string; start: number; end: number }[]).map((f) => [f.type, text.slice(f.start, f.end)]);

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const URLSAFE = `${ALNUM}_-`;
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const BASE32 = `${UPPER}234567`;

/** Random strings over an alphabet that also look random (fast-check would otherwise shrink to `aaaa…`). */
const str = (alphabet: string, min: number, max = min) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max }).filter((s) => !isPlaceholder(s) && shannonEntropy(s) >= Math.min(3, 0.75 * Math.log2(s.length)));
const crcToken = (prefix: string) => str(ALNUM, 30).map((body) => `${prefix}${body}${toBase62(crc32(body), 6)}`);
const b64url = (s: string) => Buffer.from(s).toString('base64url');

const KEYS: Record<string, fc.Arbitrary<string>> = {
  OPENAI_API_KEY: fc.oneof(
    fc.tuple(fc.constantFrom('proj', 'svcacct', 'admin'), str(URLSAFE, 58, 74), str(URLSAFE, 58, 74)).map(([k, a, b]) => `sk-${k}-${a}T3BlbkFJ${b}`),
    fc.tuple(str(ALNUM, 20), str(ALNUM, 20)).map(([a, b]) => `sk-${a}T3BlbkFJ${b}`),
  ),
  ANTHROPIC_API_KEY: fc.tuple(fc.constantFrom('api03', 'admin01'), str(URLSAFE, 93)).map(([k, b]) => `sk-ant-${k}-${b}AA`),
  AWS_ACCESS_KEY_ID: fc.tuple(fc.constantFrom('AKIA', 'ASIA'), str(BASE32, 16)).map(([p, b]) => p + b),
  GITHUB_TOKEN: fc.oneof(fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_').chain(crcToken), fc.tuple(str(ALNUM, 22), str(ALNUM, 59)).map(([a, b]) => `github_pat_${a}_${b}`)),
  GITLAB_TOKEN: fc.oneof(fc.tuple(fc.constantFrom('glpat', 'gldt', 'glrt', 'glptt'), str(ALNUM, 20)).map(([p, b]) => `${p}-${b}`), str(ALNUM, 20).map((b) => `GR1348941${b}`)),
  SLACK_TOKEN: fc.oneof(
    fc.tuple(str(DIGITS, 12), str(DIGITS, 13), str(ALNUM, 24)).map(([a, b, c]) => `xoxb-${a}-${b}-${c}`),
    fc.tuple(str(DIGITS, 12), str(DIGITS, 12), str(HEX, 32)).map(([a, b, c]) => `xoxp-${a}-${b}-${c}`),
  ),
  SLACK_WEBHOOK_URL: fc.tuple(str(UPPER + DIGITS, 10), str(UPPER + DIGITS, 10), str(ALNUM, 24)).map(([t, b, k]) => `https://hooks.slack.com/services/T${t}/B${b}/${k}`),
  STRIPE_KEY: fc.oneof(fc.tuple(fc.constantFrom('sk_live_', 'rk_live_', 'sk_test_'), str(ALNUM, 24, 99)).map(([p, b]) => p + b), str(ALNUM, 32).map((b) => `whsec_${b}`)),
  GOOGLE_API_KEY: str(URLSAFE, 35).map((b) => `AIza${b}`),
  GOOGLE_OAUTH_CLIENT_SECRET: str(URLSAFE, 28).map((b) => `GOCSPX-${b}`),
  AZURE_CLIENT_SECRET: fc.tuple(fc.string({ unit: fc.constantFrom(...ALNUM), minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 9 }), str(`${ALNUM}_~.-`, 34)).map(([a, d, b]) => `${a}${d}Q~${b}`),
  JWT: fc.tuple(fc.constantFrom('HS256', 'RS256', 'none'), str(DIGITS, 8), str(URLSAFE, 43)).map(([alg, sub, sig]) => `${b64url(JSON.stringify({ alg, typ: 'JWT' }))}.${b64url(JSON.stringify({ sub }))}.${sig}`),
  NPM_TOKEN: crcToken('npm_'),
  PYPI_TOKEN: str(URLSAFE, 60, 160).map((b) => `pypi-AgEIcHlwaS5vcmc${b}`),
  TWILIO_API_KEY: str(HEX, 32).map((b) => `SK${b}`),
  SENDGRID_API_KEY: fc.tuple(str(URLSAFE, 22), str(URLSAFE, 43)).map(([a, b]) => `SG.${a}.${b}`),
  HUGGINGFACE_TOKEN: str(UPPER + LOWER, 34).map((b) => `hf_${b}`),
  DISCORD_BOT_TOKEN: fc.tuple(str(DIGITS, 18).filter((d) => d[0] !== '0'), str(URLSAFE, 6), str(URLSAFE, 38)).map(([id, t, h]) => `${b64url(id)}.${t}.${h}`),
  DISCORD_WEBHOOK_URL: fc.tuple(str(DIGITS, 18), str(URLSAFE, 68)).map(([id, k]) => `https://discord.com/api/webhooks/${id}/${k}`),
  DIGITALOCEAN_TOKEN: str(HEX, 64).map((b) => `dop_v1_${b}`),
  SHOPIFY_TOKEN: str(HEX, 32).map((b) => `shpat_${b}`),
  // 32 random bytes in base64url; the filter keeps fast-check's degenerate arrays (all zeros: a placeholder) out.
  AGENTGUARD_TOKEN: fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .filter((b) => new Set(b).size >= 24)
    .map((b) => `agk_${Buffer.from(b).toString('base64url')}`),
};

const CONTEXTS: ((v: string) => string)[] = [
  (v) => `KEY=${v}\n`,
  (v) => `{"value": "${v}"}`,
  (v) => `curl -H 'X-Key: ${v}' https://example.com`,
  (v) => `I am using ${v}, it fails.`,
  (v) => `(${v})`,
  (v) => v,
];

describe('secrets guardrail: documented key formats', () => {
  for (const [type, key] of Object.entries(KEYS)) {
    it(`finds ${type} in any context, reporting exactly the value`, () => {
      fc.assert(
        fc.property(key, fc.constantFrom(...CONTEXTS), (value, context) => {
          const text = context(value);
          const start = text.indexOf(value);
          expect(found(text)).toEqual([expect.objectContaining({ guardrail: 'secrets', type, start, end: start + value.length })]);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('every type it can report is documented in SECRET_TYPES and covered by a positive test', () => {
    const covered = new Set([...Object.keys(KEYS), 'AWS_SECRET_ACCESS_KEY', 'GCP_SERVICE_ACCOUNT_KEY', 'AZURE_STORAGE_ACCOUNT_KEY', 'AZURE_SAS_TOKEN', 'PRIVATE_KEY', 'PASSWORD_IN_URL', 'GENERIC_SECRET']);
    expect(new Set(SECRET_TYPES)).toEqual(covered);
    expect(guard.types).toEqual(SECRET_TYPES);
  });

  it('AWS secret access keys only next to their name or key ID', () => {
    const sk = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9kL2mN4p';
    expect(values(`aws_secret_access_key = ${sk}`)).toEqual([['AWS_SECRET_ACCESS_KEY', sk]]);
    expect(values(`{"SecretAccessKey": "${sk}"}`)).toEqual([['AWS_SECRET_ACCESS_KEY', sk]]);
    expect(values(`AKIAQ3EGRH5KZ7TBXW2M,${sk}`)).toEqual([['AWS_ACCESS_KEY_ID', 'AKIAQ3EGRH5KZ7TBXW2M'], ['AWS_SECRET_ACCESS_KEY', sk]]);
    expect(values(`checksum ${sk}`)).toEqual([]);
  });

  it('GitHub and npm checksums: a valid CRC-32 scores 1, a broken one less', () => {
    const body = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1';
    const good = `ghp_${body}${toBase62(crc32(body), 6)}`;
    expect(base62CrcValid(good.slice(4))).toBe(true);
    const bad = `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`;
    expect(guard.detect(good)).toEqual([expect.objectContaining({ type: 'GITHUB_TOKEN', score: 1 })]);
    expect(guard.detect(bad)).toEqual([expect.objectContaining({ type: 'GITHUB_TOKEN', score: 0.5 })]);
    expect(guard.detect(bad, { minScore: 0.6 })).toEqual([]);
    // Known vector: CRC-32 of "123456789" is 0xCBF43926.
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('PEM private keys of every kind, and the private_key of a service-account JSON', () => {
    const body = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 11) % 256)).toString('base64').match(/.{1,64}/g)!;
    for (const kind of ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PGP PRIVATE KEY BLOCK']) {
      const pem = `-----BEGIN ${kind}-----\n${body.join('\n')}\n-----END ${kind}-----`;
      expect(values(`key:\n${pem}\nend`)).toEqual([['PRIVATE_KEY', pem]]);
    }
    const escaped = `-----BEGIN PRIVATE KEY-----\\n${body.join('\\n')}\\n-----END PRIVATE KEY-----\\n`;
    expect(values(`{"type": "service_account", "private_key": "${escaped}", "client_email": "a@b.iam.gserviceaccount.com"}`)).toEqual([['GCP_SERVICE_ACCOUNT_KEY', escaped]]);
    expect(values('-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----')).toEqual([]);
    expect(values(`-----BEGIN PUBLIC KEY-----\n${body.join('\n')}\n-----END PUBLIC KEY-----`)).toEqual([]);
    // An END line of another kind is no END for this block: the key is found as a block without one, up to its body.
    expect(values(`-----BEGIN RSA PRIVATE KEY-----\n${body.join('\n')}\n-----END EC PRIVATE KEY-----`)).toEqual([['PRIVATE_KEY', `-----BEGIN RSA PRIVATE KEY-----\n${body.join('\n')}`]]);
  });

  it('Azure storage keys in connection strings and SAS signatures in SAS URLs only', () => {
    const account = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151 + 7) % 256)).toString('base64');
    expect(account).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(values(`DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${account};EndpointSuffix=core.windows.net`)).toEqual([['AZURE_STORAGE_ACCOUNT_KEY', account]]);
    const sig = 'kT3nR8vQ1xZp%2Bw7LmA4sD9fG2hJ5kL8zX0cV3bN6mQ%3D';
    expect(values(`https://a.blob.core.windows.net/c/f?sv=2022-11-02&sp=r&se=2026-01-01&sig=${sig}`)).toEqual([['AZURE_SAS_TOKEN', sig]]);
    expect(values(`https://example.com/download?file=a&sig=${sig}`)).toEqual([]);
  });

  it('passwords in URLs, the password only', () => {
    expect(values('postgres://admin:S3cr3tPa55@db.internal:5432/app')).toEqual([['PASSWORD_IN_URL', 'S3cr3tPa55']]);
    expect(values('postgres://admin:password@db.internal:5432/app')).toEqual([]);
    expect(values('https://user:${DB_PASS}@host/x')).toEqual([]);
  });

  it('JWTs need a header that decodes to JSON with "alg"', () => {
    const noAlg = `${b64url('{"typ":"JWT"}')}.${b64url('{"sub":"1"}')}.c2lnbmF0dXJl`;
    expect(values(noAlg)).toEqual([]);
    expect(values('eyJub3QganNvbg.eyJzdWIiOiIxIn0.sig')).toEqual([]);
  });
});

describe('secrets guardrail: GENERIC_SECRET', () => {
  it('finds random values after secret names in .env, JSON, YAML, code, CLI flags, headers and prose', () => {
    const v = 'Xk9#mP2$vL7qR4!w';
    for (const text of [
      `DB_PASSWORD=${v}`,
      `{"client_secret": "${v}"}`,
      `auth:\n  token: ${v}\n`,
      `secret_key = '${v}'`,
      `apiKey: "${v}"`,
      `mysql --password ${v} -h db`,
      `Authorization: Bearer ${v}`,
      `x-api-key: ${v}`,
      `The admin password is ${v}.`,
      `<add key="SmtpPassword" value="${v}" />`,
    ]) {
      expect(values(text), text).toEqual([['GENERIC_SECRET', v]]);
    }
    const hex = '08237f728dd1c9623da66c07037d73d47704d1c3';
    expect(values(`API_TOKEN=${hex}`)).toEqual([['GENERIC_SECRET', hex]]);
  });

  it('ignores placeholders, references to other variables, low-entropy words and non-secret fields', () => {
    for (const text of [
      'api_key = "YOUR_API_KEY"',
      'secret = "<your-secret-here>"',
      'password: xxxxxxxx',
      'token: ********',
      'token: ${API_TOKEN}',
      'password: {{ .Values.password }}',
      'const apiKey = process.env.OPENAI_API_KEY;',
      'password = os.environ["DB_PASSWORD"]',
      'token = get_token()',
      'password = getPassword(user)',
      'max_tokens: 4096',
      'token_limit: 128000',
      'password_min_length: 12',
      'private_key_id: 555d12c683527cb0c01fc13d55ef8f9c74c512f5',
      'token_url: https://auth.example.com/oauth/token',
      'secret_name: my-app-secret-prod',
      'if password == "Xk9#mP2$vL7qR4!w" {',
      'password: correcthorse',
      'The secret to good bread is patience.',
      'author: Jane Doe',
    ]) {
      expect(values(text), text).toEqual([]);
    }
  });

  it('custom keywords replace the default list; entropyThreshold raises or lowers the bar', () => {
    const custom = secretsGuardrail.create({ keywords: ['license_code'] });
    expect(custom.detect('LICENSE_CODE=Qm7#vX2!pR9$wK4z')).toHaveLength(1);
    expect(custom.detect('DB_PASSWORD=Qm7#vX2!pR9$wK4z')).toEqual([]);
    // 2.5 bits a character: under the default bar for 20 characters (3.46), over a lowered one.
    expect(guard.detect('DB_PASSWORD=a1a1b2b2c3c3a1a1b2b2')).toEqual([]);
    expect(secretsGuardrail.create({ entropyThreshold: 2.4 }).detect('DB_PASSWORD=a1a1b2b2c3c3a1a1b2b2')).toHaveLength(1);
    expect(secretsGuardrail.create({ entropyThreshold: 4.5 }).detect('DB_PASSWORD=Xk9#mP2$vL7qR4!wXk9#mP2$vL7qR4!w')).toEqual([]);
    expect(guard.detect('DB_PASSWORD=Xk9#mP2$vL7qR4!wXk9#mP2$vL7qR4!w')).toHaveLength(1);
  });
});

describe('secrets guardrail: hard negatives', () => {
  it('does not report UUIDs, git SHAs, lock-file hashes, digests, base64 prose, colours or doc placeholders', () => {
    for (const text of [
      'request_id=123e4567-e89b-42d3-a456-426614174000',
      'commit 3f2a9c7d1e4b5a6c8d9e0f1a2b3c4d5e6f7a8b9c',
      '"integrity": "sha512-7ODfXxZb4n5zO5rXnV8p0aGmZq3Xo0e1wYxW0v3nH8qg3T8b0v7lWnHk5rVZ0Ww8a5bR1y3Ao6w4l3n2m0qZfQ=="',
      'image: ghcr.io/acme/api@sha256:4b9f1c3e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c',
      `encoded: ${Buffer.from('The quick brown fox jumps over the lazy dog. Lorem ipsum dolor sit amet.').toString('base64')}`,
      '.btn { color: #ff00aa; background: #abc; }',
      'OPENAI_API_KEY=sk-...',
      'ANTHROPIC_API_KEY=sk-ant-...',
      'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'AKIAXXXXXXXXXXXXXXXX',
      'STRIPE_PUBLISHABLE_KEY=pk_live_51HqLyjWDarjtT1zdp7dcXYZ',
      'xoxb-your-bot-token-here',
    ]) {
      expect(values(text), text).toEqual([]);
    }
  });
});

describe('secrets guardrail: options and config', () => {
  const text = 'AWS_ACCESS_KEY_ID=AKIAQ3EGRH5KZ7TBXW2M and DB_PASSWORD=Xk9#mP2$vL7qR4!w';

  it('types and minScore, from config and per call', () => {
    expect(guard.detect(text).map((f) => f.type)).toEqual(['AWS_ACCESS_KEY_ID', 'GENERIC_SECRET']);
    expect(guard.detect(text, { types: ['GENERIC_SECRET'] }).map((f) => f.type)).toEqual(['GENERIC_SECRET']);
    expect(guard.detect(text, { minScore: 0.9 }).map((f) => f.type)).toEqual(['AWS_ACCESS_KEY_ID']);
    expect(secretsGuardrail.create({ types: ['AWS_ACCESS_KEY_ID'] }).detect(text).map((f) => f.type)).toEqual(['AWS_ACCESS_KEY_ID']);
    expect(secretsGuardrail.create({ minScore: 0.9 }).detect(text, { minScore: 0 }).map((f) => f.type)).toEqual(['AWS_ACCESS_KEY_ID']);
  });

  it('allowList drops exact values', () => {
    expect(secretsGuardrail.create({ allowList: ['AKIAQ3EGRH5KZ7TBXW2M'] }).detect(text).map((f) => f.type)).toEqual(['GENERIC_SECRET']);
  });

  it('rejects bad config with an AgentGuardError that never echoes a value', () => {
    const cases: unknown[] = [{ types: ['NOPE'] }, { minScore: 2 }, { entropyThreshold: 'high' }, { keywords: [] }, { keywords: ['a b'] }, { allowList: [1] }, { colour: 'red' }, 'x'];
    for (const config of cases) {
      const error = (() => {
        try {
          secretsGuardrail.create(config as never);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(config)).toBeInstanceOf(AgentGuardError);
      expect((error as AgentGuardError).code).toBe('GUARDRAIL_CONFIG_INVALID');
    }
    expect(secretsGuardrail.configSchema).toMatchObject({ type: 'object', additionalProperties: false });
  });

  it('detect is synchronous, spans are ordered, in bounds, non-overlapping and no longer than maxSpanLength', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), ...Object.values(KEYS), fc.constantFrom('password=', 'token: ', ' ', '\n', '"', 'AccountKey=')), { maxLength: 12 }), (pieces) => {
        const t = pieces.join('');
        const result = guard.detect(t);
        expect(Array.isArray(result)).toBe(true);
        let last = 0;
        for (const f of result as { start: number; end: number; score: number; type: string }[]) {
          expect(f.start).toBeGreaterThanOrEqual(last);
          expect(f.end).toBeGreaterThan(f.start);
          expect(f.end).toBeLessThanOrEqual(t.length);
          expect(f.end - f.start).toBeLessThanOrEqual(guard.maxSpanLength);
          expect(f.score).toBeGreaterThan(0);
          expect(f.score).toBeLessThanOrEqual(1);
          expect(SECRET_TYPES).toContain(f.type);
          last = f.end;
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('secrets guardrail: fixture set (test/fixtures/secrets/secrets.jsonl)', () => {
  const rows = readFileSync(new URL('./fixtures/secrets/secrets.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SpanRow);

  it('has at least 400 rows, positives of every type and hard negatives', () => {
    expect(rows.length).toBeGreaterThanOrEqual(400);
    const types = new Set(rows.flatMap((r) => r.spans.map((s) => s.type)));
    expect(types).toEqual(new Set(SECRET_TYPES));
    expect(rows.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(100);
  });

  it('recall >= 0.99 and precision >= 0.99, per the shared span rules', () => {
    const report = evaluateSecrets(rows, guard);
    expect(report.rows).toBe(rows.length);
    expect(report.recall).toBeGreaterThanOrEqual(0.99);
    expect(report.precision).toBeGreaterThanOrEqual(0.99);
    for (const [type, s] of Object.entries(report.perType)) expect(s.recall, type).toBeGreaterThanOrEqual(0.95);
    expect(report.extra?.negativeRowsWithFindings).toBe(0);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
  });

  it('evaluateSecrets counts a type only on rows that label it', () => {
    const row: SpanRow = { text: 'k=AKIAQ3EGRH5KZ7TBXW2M', spans: [], labeled_types: ['GENERIC_SECRET'] };
    const report = evaluateSecrets([row], guard, { warmup: 0 });
    expect(report.perType).toEqual({});
    const labelled = evaluateSecrets([{ ...row, labeled_types: ['AWS_ACCESS_KEY_ID'] }], guard, { warmup: 0 });
    expect(labelled.perType.AWS_ACCESS_KEY_ID).toMatchObject({ precision: 0, support: 0 });
    expect(labelled.extra?.fp).toBe(1);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CIRCULAR, isSecretKey, MASKED, maskSecrets, maskText, TOO_DEEP } from '../src/core/audit/mask.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const chars = (alphabet: string, min: number, max = min) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));
const base64url = (minBytes: number, maxBytes: number) =>
  fc.uint8Array({ minLength: minBytes, maxLength: maxBytes }).map((b) => Buffer.from(b).toString('base64url'));
const jsonSegment = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Provider keys shaped like the real ones (prefixes, alphabets and lengths as the providers issue them). */
const providerKey = fc.oneof(
  fc.tuple(chars(ALNUM, 20), chars(ALNUM, 20)).map(([a, b]) => ({ hint: 'openai-key', secret: `sk-${a}T3BlbkFJ${b}` })),
  base64url(30, 90).map((b) => ({ hint: 'openai-key', secret: `sk-proj-${b}` })),
  base64url(60, 70).map((b) => ({ hint: 'anthropic-key', secret: `sk-ant-api03-${b}AA` })),
  fc.tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER32, 16)).map(([p, b]) => ({ hint: 'aws-access-key-id', secret: p + b })),
  fc.tuple(fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), chars(ALNUM, 36)).map(([p, b]) => ({ hint: 'github-token', secret: p + b })),
  fc.tuple(chars(ALNUM, 22), chars(ALNUM, 59)).map(([a, b]) => ({ hint: 'github-token', secret: `github_pat_${a}_${b}` })),
  chars(`${ALNUM}-_`, 20).map((b) => ({ hint: 'gitlab-token', secret: `glpat-${b}` })),
  fc.tuple(fc.constantFrom('b', 'p', 'a', 'o', 's', 'r'), chars('0123456789', 10, 13), chars('0123456789', 10, 13), chars(ALNUM, 24))
    .map(([t, a, b, c]) => ({ hint: 'slack-token', secret: `xox${t}-${a}-${b}-${c}` })),
  fc.tuple(fc.constantFrom('sk_live_', 'rk_live_', 'sk_test_'), chars(ALNUM, 24, 99)).map(([p, b]) => ({ hint: 'stripe-key', secret: p + b })),
  chars(`${ALNUM}-_`, 35).map((b) => ({ hint: 'google-api-key', secret: `AIza${b}` })),
  fc.tuple(fc.constantFrom('HS256', 'RS256', 'ES256'), fc.string({ maxLength: 30 }), base64url(32, 64))
    .map(([alg, sub, sig]) => ({ hint: 'jwt', secret: `${jsonSegment({ alg, typ: 'JWT' })}.${jsonSegment({ sub })}.${sig}` })),
);

/** Secrets recognised in text by their surroundings; `secret` is the part that must never come out. */
const contextualSecret = fc.oneof(
  base64url(16, 48).map((t) => ({ text: `Bearer ${t}`, secret: t })),
  fc.tuple(fc.constantFrom('https', 'postgres', 'redis', 'ftp'), chars(ALNUM, 3, 10), chars(ALNUM, 12, 24))
    .map(([scheme, user, pw]) => ({ text: `${scheme}://${user}:pw${pw}@db.example.com:5432/x`, secret: `pw${pw}` })),
  fc.tuple(fc.constantFrom('RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'), base64url(48, 120))
    .map(([label, body]) => ({ text: `-----BEGIN ${label}-----\nMII${body}\n-----END ${label}-----`, secret: `MII${body}` })),
);

const SECRET_KEYS = [
  'password', 'Password', 'PASSWORD', 'passwd', 'pwd', 'db_password', 'secret', 'client_secret', 'clientSecret', 'token',
  'access_token', 'accessToken', 'refresh-token', 'id_token', 'github_token', 'api_key', 'apiKey', 'API-KEY', 'apikey',
  'x-api-key', 'X-Api-Key', 'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'Cookie', 'set-cookie',
  'Set-Cookie', 'private_key', 'privateKey', 'credential', 'credentials', 'session_id', 'sessionId', 'SESSIONID',
  'AWS_SECRET_ACCESS_KEY', 'stripeSecretKey', 'passphrase',
];
const fieldSecretValue = chars(ALNUM, 10, 30).map((v) => `S3cr3t${v}`);

/** Characters a token can sit next to in real text (start and end of the token). */
const boundary = fc.constantFrom(' ', '\n', '\t', '"', "'", '(', ')', ',', ';', '<', '>', '[', ']', '{', '}', '|', '=', ': ');
const filler = fc.oneof(fc.string({ maxLength: 30 }), fc.lorem({ maxCount: 6 }), fc.string({ unit: 'binary', maxLength: 20 }));

interface Injected {
  value: unknown;
  secrets: string[];
}

const embedded = (inner: fc.Arbitrary<{ text: string; secret: string }>) =>
  fc.tuple(filler, boundary, inner, boundary, filler).map(([a, b1, s, b2, c]) => ({ value: `${a}${b1}${s.text}${b2}${c}`, secrets: [s.secret] }));

const leafArb: fc.Arbitrary<Injected> = fc.oneof(
  { arbitrary: fc.oneof(filler, fc.integer(), fc.boolean(), fc.constant(null)).map((value) => ({ value, secrets: [] })), weight: 4 },
  { arbitrary: embedded(providerKey.map((k) => ({ text: k.secret, secret: k.secret }))), weight: 3 },
  { arbitrary: embedded(contextualSecret), weight: 2 },
  {
    // A secret field written inside text: query strings, env lines, headers, JSON in a string.
    arbitrary: fc
      .tuple(fc.constantFrom(...SECRET_KEYS), fieldSecretValue, fc.constantFrom('{k}={v}', '{k}: {v}', '"{k}": "{v}"', "'{k}': '{v}'", '"{k}":"{v}"', '{k} = {v}'), filler, boundary)
      .map(([key, secret, shape, before, b]) => ({ value: `${before}${b}${shape.replace('{k}', key).replace('{v}', secret)}`, secrets: [secret] })),
    weight: 2,
  },
);

const treeArb: fc.Arbitrary<Injected> = fc.letrec<{ node: Injected }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.array(tie('node'), { maxLength: 4 }).map((items) => ({ value: items.map((i) => i.value), secrets: items.flatMap((i) => i.secrets) })),
    fc
      .array(
        fc.oneof(
          fc.tuple(fc.string({ maxLength: 12 }), tie('node')).map(([k, n]) => ({ key: k, ...n })),
          // A secret under a secret-looking key: a string, a number, or a whole object of anything.
          fc.tuple(fc.constantFrom(...SECRET_KEYS), fc.oneof(fieldSecretValue.map((v) => ({ value: v, secrets: [v] })), tie('node')))
            .map(([key, n]) => ({ key, ...n })),
          // A provider key used as a field name.
          providerKey.map((k) => ({ key: k.secret, value: 1, secrets: [k.secret] })),
        ),
        { maxLength: 5 },
      )
      .map((fields) => {
        const value: Record<string, unknown> = {};
        const secrets: string[] = [];
        for (const f of fields) {
          if (Object.prototype.hasOwnProperty.call(value, f.key)) continue;
          value[f.key] = f.value;
          secrets.push(...f.secrets);
        }
        return { value, secrets };
      }),
  ),
})).node;

describe('maskSecrets: field names', () => {
  it.each(SECRET_KEYS)('masks the value of %s and keeps the key', (key) => {
    expect(maskSecrets({ [key]: 'hunter2-value', other: 'kept' })).toEqual({ [key]: MASKED, other: 'kept' });
  });

  it('leaves ordinary fields alone, including token counts', () => {
    const usage = { max_tokens: 100, input_tokens: 5, total_tokens: 9, tokenizer: 'cl100k', token_type: 'Bearer', keyboard: 'us', author: 'ann' };
    expect(maskSecrets(usage)).toEqual(usage);
    for (const key of ['max_tokens', 'tokens', 'token_count', 'name', 'sql', 'keyboard', 'monkey', 'passenger']) expect(isSecretKey(key)).toBe(false);
  });

  it('masks objects and arrays under a secret key as a whole, and keeps null and booleans', () => {
    expect(maskSecrets({ credentials: { user: 'bob', pass: 'x' }, cookies: ['a=1', 'b=2'], pin: 1234, password: null, token: false })).toEqual({
      credentials: MASKED,
      cookies: MASKED,
      pin: MASKED,
      password: null,
      token: false,
    });
  });

  it('masks secret headers nested in an action', () => {
    const action = { kind: 'http', name: 'fetch', input: { headers: { Authorization: 'Bearer abc123XYZ', 'Proxy-Authorization': 'Basic dXNlcjpw', Accept: 'json' } } };
    expect(maskSecrets(action)).toEqual({ kind: 'http', name: 'fetch', input: { headers: { Authorization: MASKED, 'Proxy-Authorization': MASKED, Accept: 'json' } } });
  });
});

describe('maskText: secrets inside text', () => {
  it.each([
    ['key: sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-x ok', 'key: [MASKED:openai-key] ok'],
    ['sk-abcdefghijklmnopqrstT3BlbkFJabcdefghijklmnopqrst', '[MASKED:openai-key]'],
    ['use sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcAA.', 'use [MASKED:anthropic-key].'],
    ['aws AKIAIOSFODNN7EXAMPLE here', 'aws [MASKED:aws-access-key-id] here'],
    ['(ASIAY34FZKBOKMUTVV7A)', '([MASKED:aws-access-key-id])'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[MASKED:github-token]'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', '[MASKED:github-token]'],
    ['glpat-abcdefghijklmnopqrst12', '[MASKED:gitlab-token]'],
    ['xoxb-1234567890-1234567890-abcdefghijklmnopqrstuvwx', '[MASKED:slack-token]'],
    ['sk_live_abcdefghij1234 and rk_live_ABCDEFGHIJKL', '[MASKED:stripe-key] and [MASKED:stripe-key]'],
    ['AIzaSyA-abcdefghijklmnopqrstuvwxyz012345', '[MASKED:google-api-key]'],
    ['jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdEFGH_ijkl', 'jwt=[MASKED:jwt]'],
    ['curl -H "Authorization: Bearer abc.DEF-123456" x', 'curl -H "Authorization: [MASKED]'],
    ['send it with bearer 9f8e7d6c5b4a and go', 'send it with bearer [MASKED:bearer-token] and go'],
    ['clone https://alice:s3cr3t@example.com/x.git', 'clone https://[MASKED:url-credentials]@example.com/x.git'],
    ['postgres://app:p%40ss@db:5432/app', 'postgres://[MASKED:url-credentials]@db:5432/app'],
    ['git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x', 'git clone https://[MASKED:github-token]@github.com/x'],
    ['k\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\nrest', 'k\n[MASKED:private-key]\nrest'],
    ['cut -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA', 'cut [MASKED:private-key]'],
    ['GET /v1?api_key=XYZ123&user=bob', 'GET /v1?api_key=[MASKED]&user=bob'],
    ['DB_PASSWORD=hunter2 DB_USER=app', 'DB_PASSWORD=[MASKED] DB_USER=app'],
    ['password: hunter2, user: bob\nnext line', 'password: [MASKED]\nnext line'],
    ['{"password": "hu\\"nter2", "user": "bob", "pin": 1234}', '{"password": "[MASKED]", "user": "bob", "pin": [MASKED]}'],
    ["{'client_secret': 'abc'}", "{'client_secret': '[MASKED]'}"],
    ['password=Bearer abcDEF123456', 'password=[MASKED] [MASKED:bearer-token]'],
  ])('%j → %j', (input, expected) => {
    expect(maskText(input)).toBe(expected);
  });

  it.each([
    'task-assessment-for-the-quarterly-review and risk-management-of-everything',
    'the bearer bonds are bearer instruments',
    'https://example.com/a@b and mailto:someone@example.com',
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----',
    'time: 12:30, max_tokens=5, total: 42',
    'SELECT * FROM orders WHERE id = 7',
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ])('leaves %j unchanged', (input) => {
    expect(maskText(input)).toBe(input);
  });
});

describe('maskSecrets: any input is safe', () => {
  it('never changes its input', () => {
    const input = { a: { password: 'x', list: ['sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123'] }, n: 1 };
    const before = structuredClone(input);
    const out = maskSecrets(input);
    expect(input).toEqual(before);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
  });

  it('replaces cycles with a marker', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    a.list = [a, { back: a }];
    expect(maskSecrets(a)).toEqual({ x: 1, self: CIRCULAR, list: [CIRCULAR, { back: CIRCULAR }] });
  });

  it('keeps shared (non-cyclic) references as copies', () => {
    const shared = { token: 'abc', v: 1 };
    expect(maskSecrets({ a: shared, b: shared })).toEqual({ a: { token: MASKED, v: 1 }, b: { token: MASKED, v: 1 } });
  });

  it('cuts very deep input at the depth limit instead of throwing', () => {
    let deep: Record<string, unknown> = { leaf: 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123' };
    for (let i = 0; i < 200_000; i++) deep = { d: deep };
    const json = JSON.stringify(maskSecrets(deep));
    expect(json).toContain(TOO_DEEP);
    expect(json).not.toContain('sk-proj-');
    expect(JSON.stringify(maskSecrets({ a: { b: { c: 1 } } }, { maxDepth: 2 }))).toBe(JSON.stringify({ a: { b: TOO_DEEP } }));
  });

  it('converts non-JSON values the way JSON would, masking inside them', () => {
    const out = maskSecrets({
      when: new Date('2024-05-01T00:00:00Z'),
      big: 12n,
      fn: () => 1,
      err: Object.assign(new Error('login failed for https://u:pw123456@h'), { code: 'E_AUTH' }),
      map: new Map([['api_key', 'x'], ['ok', 'y']]),
      set: new Set(['ghp_abcdefghijklmnopqrstuvwxyz0123456789']),
      buf: Buffer.from('secret bytes'),
      withToJSON: { toJSON: () => ({ password: 'p' }) },
      sparse: [1, , 3], // eslint-disable-line no-sparse-arrays
    });
    expect(out).toEqual({
      when: '2024-05-01T00:00:00.000Z',
      big: '12',
      err: { name: 'Error', message: 'login failed for https://[MASKED:url-credentials]@h', code: 'E_AUTH' },
      map: { api_key: MASKED, ok: 'y' },
      set: ['[MASKED:github-token]'],
      buf: '[binary 12 bytes]',
      withToJSON: { password: MASKED },
      sparse: [1, null, 3],
    });
  });

  it('adds a "__proto__" field as data, without touching the prototype', () => {
    const out = maskSecrets(JSON.parse('{"__proto__": {"password": "x"}, "a": 1}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"password":"[MASKED]"},"a":1}');
  });

  it('keeps two field names that mask to the same text apart', () => {
    const out = maskSecrets({ 'sk-proj-AAAAAAAAAAAAAAAAAAAAAAAA1': 1, 'sk-proj-BBBBBBBBBBBBBBBBBBBBBBBB2': 2 });
    expect(out).toEqual({ '[MASKED:openai-key]': 1, '[MASKED:openai-key]#2': 2 });
  });

  it('runs in linear time on inputs built to make regexes backtrack', () => {
    const n = 200_000;
    const attacks = ['sk-', 'eyJ', 'eyJa.', 'a://', 'Bearer ', 'password=', '"a":"', "'password'", 'a:', 'https://a:', 'AKIA', '-----BEGIN ', 'x-api-key: ', 'ghp_', 'glpat-', 'AIza-'];
    for (const unit of attacks) {
      const text = unit.repeat(Math.ceil(n / unit.length));
      const start = performance.now();
      maskText(text);
      // Linear work on 200k characters takes milliseconds; anything quadratic takes tens of seconds.
      expect(performance.now() - start, `input ${JSON.stringify(unit)} × ${text.length / unit.length}`).toBeLessThan(1500);
    }
  });

  it('masks a typical decision in well under 20 µs', () => {
    // Decisions differ in their ids and inputs and repeat the rest, as an agent's decisions do.
    const decisions = Array.from({ length: 1000 }, (_, i) => ({
      id: `dec_${i.toString(36).padStart(8, '0')}${Math.random().toString(36).slice(2, 10)}`,
      effect: 'deny',
      action: {
        agent: { id: 'support-bot' },
        kind: 'tool',
        name: 'http.request',
        input: { url: `https://api.example.com/v1/items?page=${i}`, method: 'POST', headers: { Authorization: `Bearer abcDEF${i}` }, body: { sql: `DROP TABLE users_${i}`, limit: i } },
        context: { session: `s-${i % 7}`, user: 'u-9', env: 'prod' },
      },
      reasons: [{ rule: 'no-destructive-sql', effect: 'deny', message: 'Destructive SQL is not allowed' }],
      findings: [],
      policy: { name: 'support-bot', hash: `sha256:${'a'.repeat(64)}` },
      elapsedUs: i % 50,
    }));
    const rounds: number[] = [];
    for (let r = 0; r < 20; r++) {
      const start = performance.now();
      for (const d of decisions) maskSecrets(d);
      rounds.push(((performance.now() - start) * 1000) / decisions.length);
    }
    // The best round: other processes sharing the machine only ever add time.
    expect(Math.min(...rounds), `µs per decision in each round: ${rounds.map((r) => r.toFixed(1)).join(' ')}`).toBeLessThan(20);
  });
});

describe('maskSecrets: properties', () => {
  it('never lets an injected secret through, whatever surrounds it', () => {
    fc.assert(
      fc.property(treeArb, ({ value, secrets }) => {
        const json = JSON.stringify(maskSecrets(value));
        for (const secret of secrets) expect(json.includes(secret), `${JSON.stringify(secret)} leaked in ${json}`).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });

  it('shows which kind of provider key was masked', () => {
    fc.assert(
      fc.property(providerKey, boundary, ({ hint, secret }, b) => {
        expect(maskText(`key${b}${secret}${b}end`)).toContain(`[MASKED:${hint}]`);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(treeArb, ({ value }) => {
        const once = maskSecrets(value);
        expect(maskSecrets(once)).toEqual(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('never mutates its input', () => {
    fc.assert(
      fc.property(treeArb, ({ value }) => {
        const before = structuredClone(value);
        maskSecrets(value);
        expect(value).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves data without secrets exactly as it was', () => {
    const plainKey = fc.stringMatching(/^[a-z][a-z_]{0,10}$/).filter((k) => !isSecretKey(k) && k !== '__proto__');
    const plainText = fc.stringMatching(/^[a-z ,.!?]{0,40}$/);
    const plain = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, plainText, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(plainKey, tie('node'), { maxKeys: 4 })),
    })).node;
    fc.assert(
      fc.property(plain, (value) => {
        expect(maskSecrets(value)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * Builds test/fixtures/secrets/secrets.jsonl: credentials in the formats vendors document, embedded in .env files,
 * JSON/YAML config, shell history, code, logs and prose, plus hard negatives (UUIDs, SHAs, lock-file hashes,
 * base64 of ordinary text, CSS colours, placeholders). Every value is random; none is a real key.
 * Same schema as the shared pii.dev.jsonl: {text, spans:[{start,end,type}], labeled_types, source}.
 *
 *   npx tsx scripts/build-secrets-fixtures.ts [--seed N] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, toBase62 } from '../src/core/guardrails/secrets/checksum.js';
import { SECRET_TYPES } from '../src/core/guardrails/secrets/index.js';

const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? process.argv[outArg + 1] : fileURLToPath(new URL('../test/fixtures/secrets/secrets.jsonl', import.meta.url));
const SOURCE = 'agentguard/synthetic-secrets';
const seedArg = process.argv.indexOf('--seed');
const SEED = seedArg > 0 ? Number(process.argv[seedArg + 1]) : 20260724;

// mulberry32: small, seedable, good enough for fixtures.
let state = SEED >>> 0;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const URLSAFE = ALNUM + '_-';
const B64 = ALNUM + '+/';
const HEX = '0123456789abcdef';
const BASE32 = UPPER + '234567';
const PASSWORD = ALNUM + '!@#$%^&*-_+?';
const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');

// ---- values ---------------------------------------------------------------------------------------------------
const crcToken = (prefix: string) => {
  const body = chars(ALNUM, 30);
  return `${prefix}${body}${toBase62(crc32(body), 6)}`;
};
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const pemBody = (bytes: number) => {
  const b64 = Buffer.from(Array.from({ length: bytes }, () => int(0, 255))).toString('base64');
  return b64.match(/.{1,64}/g)!;
};

type Gen = () => string;
const VALUES: Record<string, Gen> = {
  OPENAI_API_KEY: () =>
    pick([
      () => `sk-proj-${chars(URLSAFE, 74)}T3BlbkFJ${chars(URLSAFE, 74)}`,
      () => `sk-svcacct-${chars(URLSAFE, 74)}T3BlbkFJ${chars(URLSAFE, 74)}`,
      () => `sk-admin-${chars(URLSAFE, 58)}T3BlbkFJ${chars(URLSAFE, 58)}`,
      () => `sk-${chars(ALNUM, 20)}T3BlbkFJ${chars(ALNUM, 20)}`,
      () => `sk-proj-${chars(URLSAFE, 120)}`,
    ])(),
  ANTHROPIC_API_KEY: () => `sk-ant-${pick(['api03', 'admin01'])}-${chars(URLSAFE, 93)}AA`,
  AWS_ACCESS_KEY_ID: () => `${pick(['AKIA', 'AKIA', 'ASIA'])}${chars(BASE32, 16)}`,
  GITHUB_TOKEN: () =>
    rand() < 0.8 ? crcToken(`gh${pick(['p', 'o', 'u', 's', 'r'])}_`) : `github_pat_${chars(ALNUM, 22)}_${chars(ALNUM, 59)}`,
  GITLAB_TOKEN: () =>
    rand() < 0.85 ? `${pick(['glpat', 'glpat', 'gldt', 'glrt', 'glptt', 'glft'])}-${chars(ALNUM + '_-', 20)}` : `GR1348941${chars(ALNUM + '_-', 20)}`,
  SLACK_TOKEN: () =>
    pick([
      () => `xoxb-${chars(DIGITS, 12)}-${chars(DIGITS, 13)}-${chars(ALNUM, 24)}`,
      () => `xoxp-${chars(DIGITS, 12)}-${chars(DIGITS, 12)}-${chars(DIGITS, 13)}-${chars(HEX, 32)}`,
      () => `xapp-1-A${chars(UPPER + DIGITS, 10)}-${chars(DIGITS, 13)}-${chars(HEX, 64)}`,
    ])(),
  SLACK_WEBHOOK_URL: () => `https://hooks.slack.com/services/T${chars(UPPER + DIGITS, 10)}/B${chars(UPPER + DIGITS, 10)}/${chars(ALNUM, 24)}`,
  STRIPE_KEY: () => (rand() < 0.8 ? `${pick(['sk', 'rk'])}_${pick(['live', 'test'])}_${chars(ALNUM, pick([24, 99]))}` : `whsec_${chars(ALNUM, 32)}`),
  GOOGLE_API_KEY: () => `AIza${chars(URLSAFE, 35)}`,
  GOOGLE_OAUTH_CLIENT_SECRET: () => `GOCSPX-${chars(URLSAFE, 28)}`,
  AZURE_CLIENT_SECRET: () => `${chars(ALNUM, 3)}${int(0, 9)}Q~${chars(ALNUM + '_~.-', 34)}`,
  JWT: () => {
    const header = b64url(JSON.stringify({ alg: pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }));
    const payload = b64url(JSON.stringify({ sub: chars(DIGITS, 10), name: pick(['Ada', 'Linus', 'Grace']), iat: int(1.6e9, 1.8e9) }));
    return `${header}.${payload}.${chars(URLSAFE, 43)}`;
  },
  NPM_TOKEN: () => crcToken('npm_'),
  PYPI_TOKEN: () => `pypi-AgEIcHlwaS5vcmc${chars(URLSAFE, int(120, 170))}`,
  TWILIO_API_KEY: () => `SK${chars(HEX, 32)}`,
  SENDGRID_API_KEY: () => `SG.${chars(URLSAFE, 22)}.${chars(URLSAFE, 43)}`,
  HUGGINGFACE_TOKEN: () => `hf_${chars(UPPER + LOWER, 34)}`,
  DISCORD_BOT_TOKEN: () => `${b64url(`${int(1, 9)}${chars(DIGITS, 17)}`)}.${chars(URLSAFE, 6)}.${chars(URLSAFE, 38)}`,
  DISCORD_WEBHOOK_URL: () => `https://discord.com/api/webhooks/${int(1, 9)}${chars(DIGITS, 17)}/${chars(URLSAFE, 68)}`,
  DIGITALOCEAN_TOKEN: () => `dop_v1_${chars(HEX, 64)}`,
  SHOPIFY_TOKEN: () => `shpat_${chars(HEX, 32)}`,
};

const ENV_NAMES: Record<string, string[]> = {
  OPENAI_API_KEY: ['OPENAI_API_KEY'], ANTHROPIC_API_KEY: ['ANTHROPIC_API_KEY'], AWS_ACCESS_KEY_ID: ['AWS_ACCESS_KEY_ID'],
  GITHUB_TOKEN: ['GITHUB_TOKEN', 'GH_TOKEN'], GITLAB_TOKEN: ['GITLAB_TOKEN', 'CI_JOB_TOKEN'], SLACK_TOKEN: ['SLACK_BOT_TOKEN'],
  SLACK_WEBHOOK_URL: ['SLACK_WEBHOOK_URL'], STRIPE_KEY: ['STRIPE_SECRET_KEY'], GOOGLE_API_KEY: ['GOOGLE_API_KEY', 'MAPS_KEY'],
  GOOGLE_OAUTH_CLIENT_SECRET: ['GOOGLE_CLIENT_SECRET'], AZURE_CLIENT_SECRET: ['AZURE_CLIENT_SECRET'], JWT: ['SESSION_JWT'],
  NPM_TOKEN: ['NPM_TOKEN'], PYPI_TOKEN: ['TWINE_PASSWORD'], TWILIO_API_KEY: ['TWILIO_API_KEY'], SENDGRID_API_KEY: ['SENDGRID_API_KEY'],
  HUGGINGFACE_TOKEN: ['HF_TOKEN'], DISCORD_BOT_TOKEN: ['DISCORD_TOKEN'], DISCORD_WEBHOOK_URL: ['DISCORD_WEBHOOK'],
  DIGITALOCEAN_TOKEN: ['DIGITALOCEAN_TOKEN'], SHOPIFY_TOKEN: ['SHOPIFY_ACCESS_TOKEN'],
};

// ---- rows -----------------------------------------------------------------------------------------------------
interface Span { start: number; end: number; type: string }
interface Row { text: string; spans: Span[]; labeled_types: string[]; source: string }
type Part = string | { type: string; value: string };
const rows: Row[] = [];

function add(parts: Part[]): void {
  let text = '';
  const spans: Span[] = [];
  for (const p of parts) {
    if (typeof p === 'string') text += p;
    else {
      spans.push({ start: text.length, end: text.length + p.value.length, type: p.type });
      text += p.value;
    }
  }
  rows.push({ text, spans, labeled_types: [...SECRET_TYPES], source: SOURCE });
}

const secret = (type: string, value = VALUES[type]()) => ({ type, value });
const host = () => pick(['api.internal', 'prod-db-1', 'staging.acme.io', 'build-07', 'worker-3']);
const stamp = () => `2025-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}T${String(int(0, 23)).padStart(2, '0')}:${String(int(10, 59))}:${String(int(10, 59))}Z`;

// Contexts for self-identifying formats (the value alone is enough).
const CONTEXTS: ((s: { type: string; value: string }, name: string) => Part[])[] = [
  (s, n) => [`# .env\nNODE_ENV=production\nPORT=${int(3000, 9000)}\n${n}=`, s, `\nLOG_LEVEL=info\n`],
  (s, n) => [`{\n  "service": "billing",\n  "${n.toLowerCase()}": "`, s, `",\n  "timeout_ms": ${int(100, 9000)}\n}`],
  (s, n) => [`${n.toLowerCase()}: `, s, `\nregion: eu-west-1\nretries: 3\n`],
  (s, n) => [`$ export ${n}=`, s, `\n$ npm run deploy -- --env prod\n`],
  (s) => [`client = Client(key="`, s, `", timeout=30)\nresult = client.fetch()\n`],
  (s) => [`const cfg = { region: 'us-east-1', credential: '`, s, `' };\nexport default cfg;\n`],
  (s) => [`${stamp()} INFO [${host()}] outbound request authorised with `, s, ` status=200 latency=${int(5, 900)}ms\n`],
  (s) => [`Hey, can you check why this fails? I'm using `, s, ` and the API returns 401 since this morning.`],
  (s) => ['Here is my config:\n```\n', s, '\n```\nIt worked yesterday.'],
  (s) => [`curl -s https://example.com/v1/items -H "X-Key: `, s, `" | jq .`],
  (s) => [`| env | key |\n|---|---|\n| prod | `, s, ` |\n`],
  (s) => [`docker run -e KEY=`, s, ` -p 8080:8080 acme/app:1.4.2`],
];

for (const type of Object.keys(VALUES)) {
  for (let i = 0; i < 12; i++) add(pick(CONTEXTS)(secret(type), pick(ENV_NAMES[type])));
}

// AWS secret keys only count next to their name or their key ID.
for (let i = 0; i < 16; i++) {
  const id = secret('AWS_ACCESS_KEY_ID');
  const sk = secret('AWS_SECRET_ACCESS_KEY', chars(B64, 40));
  add(
    pick<Part[]>([
      ['[default]\naws_access_key_id = ', id, '\naws_secret_access_key = ', sk, '\nregion = us-east-1\n'],
      ['AWS_ACCESS_KEY_ID=', id, '\nAWS_SECRET_ACCESS_KEY=', sk, '\n'],
      ['{"AccessKeyId": "', id, '", "SecretAccessKey": "', sk, '", "SessionToken": null}'],
      ['User name,Access key ID,Secret access key\ndeploy-bot,', id, ',', sk, '\n'],
      ['export AWS_SECRET_ACCESS_KEY="', sk, '"\n'],
    ]),
  );
}

// Service-account JSON.
for (let i = 0; i < 8; i++) {
  const pem = `-----BEGIN PRIVATE KEY-----\\n${pemBody(int(900, 1200)).join('\\n')}\\n-----END PRIVATE KEY-----\\n`;
  const project = pick(['acme-prod', 'data-lake-42', 'ml-train']);
  add([
    `{\n  "type": "service_account",\n  "project_id": "${project}",\n  "private_key_id": "${chars(HEX, 40)}",\n  "private_key": "`,
    { type: 'GCP_SERVICE_ACCOUNT_KEY', value: pem },
    `",\n  "client_email": "runner@${project}.iam.gserviceaccount.com"\n}`,
  ]);
}

// Azure connection strings and SAS URLs.
for (let i = 0; i < 10; i++) {
  const account = pick(['acmestore', 'logsprod01', 'mediacdn']);
  add([
    pick(['AZURE_STORAGE_CONNECTION_STRING=', 'conn = "', '"ConnectionStrings": { "Blob": "']),
    `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=`,
    { type: 'AZURE_STORAGE_ACCOUNT_KEY', value: `${chars(B64, 86)}==` },
    ';EndpointSuffix=core.windows.net',
  ]);
}
for (let i = 0; i < 8; i++) {
  const sig = `${chars(B64, 43).replace(/\+/g, '%2B').replace(/\//g, '%2F')}%3D`;
  add([
    `Download: https://acme.blob.core.windows.net/exports/report-${int(1, 99)}.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&spr=https&sig=`,
    { type: 'AZURE_SAS_TOKEN', value: sig },
    ' (valid for 24h)',
  ]);
}

// PEM private keys of each kind.
const PEM_KINDS = ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'PGP PRIVATE KEY BLOCK', 'DSA PRIVATE KEY'];
for (let i = 0; i < 21; i++) {
  const kind = PEM_KINDS[i % PEM_KINDS.length];
  const header = kind.startsWith('PGP') ? 'Version: GnuPG v2\n\n' : '';
  const pem = `-----BEGIN ${kind}-----\n${header}${pemBody(int(90, 1200)).join('\n')}\n-----END ${kind}-----`;
  add(pick<Part[]>([['$ cat ~/.ssh/id_key\n', { type: 'PRIVATE_KEY', value: pem }, '\n$ '], ['key.pem contents:\n', { type: 'PRIVATE_KEY', value: pem }, '\n'], [`tls:\n  key: |\n`, { type: 'PRIVATE_KEY', value: pem }, '\n']]));
}

// Passwords in connection URLs.
for (let i = 0; i < 12; i++) {
  const scheme = pick(['postgres', 'mysql', 'mongodb+srv', 'redis', 'amqp', 'https']);
  add([`DATABASE_URL=${scheme}://${pick(['admin', 'app', 'svc_user'])}:`, { type: 'PASSWORD_IN_URL', value: chars(ALNUM + '!$*', int(10, 24)) }, `@${host()}:${int(1000, 9999)}/main`]);
}

// Generic secrets: random values after secret-looking names.
const GENERIC_VALUE: Gen[] = [() => chars(PASSWORD, int(12, 28)), () => chars(HEX, pick([32, 40, 64])), () => chars(B64, int(24, 44)), () => chars(ALNUM, int(16, 40))];
const GENERIC_CONTEXTS: ((v: Part) => Part[])[] = [
  (v) => ['DB_PASSWORD=', v, '\n'],
  (v) => ['  "client_secret": "', v, '",\n'],
  (v) => ['secret_key = \'', v, "'\n"],
  (v) => ['mysql -u root --password ', v, ' -h 127.0.0.1\n'],
  (v) => ['The admin password is ', v, ' — please rotate it after the demo.'],
  (v) => ['Authorization: Bearer ', v, '\n'],
  (v) => ['apiKey: "', v, '"\n'],
  (v) => ['x-api-key: ', v, '\n'],
  (v) => ['ENCRYPTION_KEY=', v, '\n'],
  (v) => ['session_token => "', v, '"\n'],
  (v) => ['redis:\n  auth: ', v, '\n'],
  (v) => ['<add key="SmtpPassword" value="', v, '" />'],
];
for (let i = 0; i < 48; i++) add(GENERIC_CONTEXTS[i % GENERIC_CONTEXTS.length]({ type: 'GENERIC_SECRET', value: pick(GENERIC_VALUE)() }));

// Several secrets in one file.
const MULTI = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'STRIPE_KEY', 'GITHUB_TOKEN', 'SLACK_TOKEN', 'GOOGLE_API_KEY', 'SENDGRID_API_KEY', 'NPM_TOKEN'];
for (let i = 0; i < 20; i++) {
  const parts: Part[] = ['# production secrets\n'];
  for (const type of shuffle(MULTI).slice(0, int(2, 4))) parts.push(`${ENV_NAMES[type]?.[0] ?? type}=`, secret(type), '\n');
  parts.push('DEBUG=false\n');
  add(parts);
}

// ---- hard negatives -------------------------------------------------------------------------------------------
const uuid = () => `${chars(HEX, 8)}-${chars(HEX, 4)}-4${chars(HEX, 3)}-${pick(['8', '9', 'a', 'b'])}${chars(HEX, 3)}-${chars(HEX, 12)}`;
const lorem = ['Lorem ipsum dolor sit amet, consectetur adipiscing elit.', 'The quick brown fox jumps over the lazy dog.', 'Please find attached the quarterly report for review.', 'Meeting moved to Thursday at 3pm, same room.'];
const NEGATIVES: (() => string)[] = [
  () => `request_id=${uuid()} user=${uuid()} status=ok`,
  () => `{"id": "${uuid()}", "parent": "${uuid()}", "kind": "order"}`,
  () => `commit ${chars(HEX, 40)}\nAuthor: Dev <dev@example.com>\n\n    fix: handle empty cart\n`,
  () => `Merge ${chars(HEX, 7)}..${chars(HEX, 7)} into main (${chars(HEX, 40)})`,
  () => `"node_modules/left-pad": {\n  "version": "1.3.0",\n  "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",\n  "integrity": "sha512-${chars(B64, 86)}=="\n}`,
  () => `${chars(HEX, 64)}  dist/app-${int(1, 9)}.${int(0, 20)}.${int(0, 9)}.tar.gz`,
  () => `image: ghcr.io/acme/api@sha256:${chars(HEX, 64)}`,
  () => `encoded: ${Buffer.from(pick(lorem) + ' ' + pick(lorem)).toString('base64')}`,
  () => `.btn { color: #${chars(HEX, 6)}; background: #${chars(HEX, 3)}; border-color: #${chars(HEX, 8)}; }`,
  () => `OPENAI_API_KEY=sk-...\nANTHROPIC_API_KEY=sk-ant-...`,
  () => `api_key = "YOUR_API_KEY"\nsecret = "<your-secret-here>"`,
  () => `password: xxxxxxxx\ntoken: ********`,
  () => `aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
  () => `GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
  () => `token: \${{ secrets.NPM_TOKEN }}\npassword: \${DB_PASSWORD}`,
  () => `const apiKey = process.env.OPENAI_API_KEY;\nconst password = config.database.password;`,
  () => `password = os.environ["DB_PASSWORD"]\ntoken = get_token()`,
  () => `max_tokens: ${int(256, 8192)}\ntemperature: 0.${int(0, 9)}\ntoken_limit: ${int(1000, 100000)}`,
  () => `Forgot your password? Visit https://example.com/password-reset?ref=${chars(HEX, 12)} to choose a new one.`,
  () => `The secret to good bread is patience. Token economies reward ${pick(['effort', 'sharing'])}.`,
  () => `STRIPE_PUBLISHABLE_KEY=pk_live_${chars(ALNUM, 24)}`,
  () => `Twilio account: AC${chars(HEX, 32)} (account SIDs are not secret)`,
  () => `arn:aws:iam::${chars(DIGITS, 12)}:role/deploy  user id AIDA${chars(BASE32, 16)}`,
  () => `eyJmb28iOiJiYXIifQ.${chars(URLSAFE, 20)}.${chars(URLSAFE, 20)} is not a JWT (no alg)`,
  () => `-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----`,
  () => `-----BEGIN PUBLIC KEY-----\n${pemBody(294).join('\n')}\n-----END PUBLIC KEY-----`,
  () => `-----BEGIN CERTIFICATE-----\n${pemBody(600).join('\n')}\n-----END CERTIFICATE-----`,
  () => `version ${int(1, 9)}.${int(0, 30)}.${int(0, 99)} build ${chars(HEX, 12)} checksum md5:${chars(HEX, 32)}`,
  () => `secret_santa_enabled: true\npassword_min_length: ${int(8, 16)}\nauth_provider: oidc`,
  () => `Use \`sk_test_\` keys in development and rotate your token every 90 days.`,
  () => pick(lorem) + ' ' + pick(lorem),
  () => `data:image/png;base64,${chars(B64, int(80, 200))}=`,
  () => `slack channel C${chars(UPPER + DIGITS, 10)} thread ${chars(DIGITS, 10)}.${chars(DIGITS, 6)}`,
  () => `if password == "" { return errEmptyPassword }`,
];
for (let i = 0; i < 170; i++) add([NEGATIVES[i % NEGATIVES.length]()]);

// agentguard's own API tokens (`agk_` + 32 random bytes in base64url), last so the rows above stay as they were, and
// text with their prefix that is not one: a wrong length, a last character 32 bytes cannot end with, a placeholder.
const agentguardToken = () => `agk_${Buffer.from(Array.from({ length: 32 }, () => int(0, 255))).toString('base64url')}`;
const TOKEN_CONTEXTS: ((s: Part) => Part[])[] = [
  (s) => ['AGENTGUARD_TOKEN=', s, '\n'],
  (s) => ['curl -s http://127.0.0.1:7777/v1/decide -H "Authorization: Bearer ', s, '" -d @action.json'],
  (s) => [`{"sidecar": "http://127.0.0.1:7777", "token": "`, s, '"}'],
  (s) => [`${stamp()} WARN request to /v1/`, s, ' refused (404)\n'],
  (s) => ['My agent token is ', s, ', why does the sidecar answer 401?'],
  (s) => ['const guard = new AgentGuard({ sidecar: { url, token: "', s, '" } });'],
];
for (let i = 0; i < 12; i++) add(TOKEN_CONTEXTS[i % TOKEN_CONTEXTS.length]({ type: 'AGENTGUARD_TOKEN', value: agentguardToken() }));
const TOKEN_NEGATIVES: (() => string)[] = [
  () => `AGENTGUARD_TOKEN=agk_${'x'.repeat(43)}`,
  () => `cache entry agk_${chars(URLSAFE, 42)}${pick([...'BCDFGHJK'])} (a 43rd character 32 bytes cannot end with)`,
  () => `cache entry agk_${chars(URLSAFE, 40)} (three characters short)`,
  () => `export AGENTGUARD_TOKEN=agk_<paste the token shown once by token create>`,
  () => `Tokens look like agk_… followed by 43 characters; token ids like tok_${chars(HEX, 12)} are public.`,
  () => `import { agk_loader_settings_for_the_sidecar_v2 } from "./config";`,
];
for (let i = 0; i < 6; i++) add([TOKEN_NEGATIVES[i]()]);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const positives = rows.reduce((n, r) => n + r.spans.length, 0);
process.stderr.write(`wrote ${rows.length} rows (${positives} secrets, ${rows.filter((r) => r.spans.length === 0).length} negatives) to ${OUT} (seed ${SEED})\n`);

import { base62CrcValid } from './checksum.js';
import { entropyBar, isPlaceholder, shannonEntropy } from './entropy.js';
import { isCanonicalToken, TOKEN_LENGTH, TOKEN_PREFIX, TOKEN_SOURCE } from '../../tokens/token-format.js';

/**
 * Recognizers for key formats vendors document: a fixed prefix or anchor, a charset and a length, plus the
 * checksum where the format has one. Each pattern is global with the `d` flag; the group named `v`, when present,
 * is the secret value (the span reported), otherwise the whole match is. Every repetition is bounded and the
 * value start is pinned by a lookbehind, so a failed attempt only rescans a bounded prefix.
 */
export interface Recognizer {
  readonly type: string;
  readonly pattern: RegExp;
  /** Longest value this pattern can report, in UTF-16 code units. */
  readonly maxLength: number;
  /** Higher wins when spans of different recognizers overlap (generic 1, vendor formats 2, wrappers 3). */
  readonly priority: number;
  /** Score in (0, 1], or null to drop the candidate. `text`/`start` give the context. */
  validate(value: string, text: string, start: number): number | null;
}

/** Random-looking: not a placeholder and as much entropy as a random string of its length should have. */
function randomBody(body: string, cap = 3): boolean {
  return !isPlaceholder(body) && shannonEntropy(body) >= entropyBar(body.length, cap, 0.7);
}

const when = (ok: boolean, score: number): number | null => (ok ? score : null);

function base64UrlJson(part: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A line break inside a PEM block: CR LF, LF, or their JSON escapes, with trailing spaces before and indentation after. */
const PEM_NL = '[ \\t]{0,4}(?:\\r?\\n|\\\\r\\\\n|\\\\n)[ \\t]{0,2}';

export const RECOGNIZERS: readonly Recognizer[] = [
  {
    // Project, service-account, admin and legacy user keys; most carry `T3BlbkFJ` (base64 of "OpenAI").
    type: 'OPENAI_API_KEY',
    pattern: /(?<![\w-])sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{48})(?![\w-])/dg,
    maxLength: 265,
    priority: 2,
    validate: (v) => (v.includes('T3BlbkFJ') ? 1 : when(randomBody(v.slice(v.indexOf('-', 3) + 1)), 0.85)),
  },
  {
    // sk-ant-api03- / sk-ant-admin01- + 93 characters + `AA`.
    type: 'ANTHROPIC_API_KEY',
    pattern: /(?<![\w-])sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_-]{80,120}(?![\w-])/dg,
    maxLength: 140,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(v.indexOf('-', 7) + 1)), /^sk-ant-(?:api03|admin01)-[\w-]{93}AA$/.test(v) ? 1 : 0.9),
  },
  {
    // Access key IDs are a 4-letter kind prefix plus 16 base32 characters.
    type: 'AWS_ACCESS_KEY_ID',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/dg,
    maxLength: 20,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(4), 2.8), 1),
  },
  {
    // 40 base64 characters are only a secret next to a name that says so, or right after an access key ID (CSV exports).
    type: 'AWS_SECRET_ACCESS_KEY',
    pattern:
      /(?:secret[_-]?access[_-]?key|aws[_-]?secret(?:[_-]?key)?|(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16})["']?\s{0,4}(?:[:=,;|]|=>|:=)?\s{0,4}["']?(?<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/dgi,
    maxLength: 40,
    priority: 2,
    validate: (v) => when(randomBody(v, 4) && /[A-Z]/.test(v) && /[a-z]/.test(v), 1),
  },
  {
    type: 'GITHUB_TOKEN',
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/dg,
    maxLength: 255,
    priority: 2,
    validate: (v) => {
      if (v.startsWith('github_pat_')) return when(randomBody(v.slice(11)), 1);
      const body = v.slice(4);
      if (!randomBody(body)) return null;
      return body.length === 36 ? (base62CrcValid(body) ? 1 : 0.5) : 0.8;
    },
  },
  {
    // Personal, deploy, runner, pipeline-trigger, feed, OAuth-app and other GitLab prefixes; runner registration tokens.
    type: 'GITLAB_TOKEN',
    pattern: /(?<![\w-])(?:(?:glpat|gldt|glrt|glrtr|glptt|glft|glsoat|glcbt|glffct|glimt|glagent|gloas|glwt)-[A-Za-z0-9_.-]{20,300}|GR1348941[A-Za-z0-9_-]{20,40})(?![\w.-])/dg,
    maxLength: 310,
    priority: 2,
    validate: (v) => when(randomBody(v.startsWith('GR1348941') ? v.slice(9) : v.slice(v.indexOf('-') + 1)), 1),
  },
  {
    type: 'SLACK_TOKEN',
    pattern: /(?<![\w-])(?:xox[baprse]-(?:[A-Za-z0-9]{1,80}-){1,5}[A-Za-z0-9]{8,80}|xapp-\d-[A-Z0-9]{6,20}-\d{6,20}-[a-f0-9]{32,80})(?![\w-])/dg,
    maxLength: 300,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(5).replace(/-/g, ''), 3), 1),
  },
  {
    type: 'SLACK_WEBHOOK_URL',
    pattern: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_]{6,20}\/[A-Za-z0-9_]{6,20}\/[A-Za-z0-9_/]{16,64}(?![A-Za-z0-9_/])/dg,
    maxLength: 160,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(v.lastIndexOf('/') + 1)), 1),
  },
  {
    // Secret and restricted keys (publishable pk_ keys are public), and webhook signing secrets.
    type: 'STRIPE_KEY',
    pattern: /(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,247}|whsec_[A-Za-z0-9]{32,80})(?![A-Za-z0-9_])/dg,
    maxLength: 255,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(v.lastIndexOf('_') + 1)), 1),
  },
  {
    type: 'GOOGLE_API_KEY',
    pattern: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/dg,
    maxLength: 39,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(4)), 1),
  },
  {
    type: 'GOOGLE_OAUTH_CLIENT_SECRET',
    pattern: /(?<![\w-])GOCSPX-[A-Za-z0-9_-]{28}(?![\w-])/dg,
    maxLength: 35,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(7)), 1),
  },
  {
    // The `private_key` field of a service-account JSON file: a PKCS#8 PEM with JSON-escaped newlines.
    type: 'GCP_SERVICE_ACCOUNT_KEY',
    pattern: /"private_key"\s{0,4}:\s{0,4}"(?<v>-----BEGIN PRIVATE KEY-----(?:\\[rn])+[A-Za-z0-9+/=\\]{64,12000}?-----END PRIVATE KEY-----(?:\\[rn])*)"/dg,
    maxLength: 12_100,
    priority: 3,
    validate: (v) => when(base64Body(v.replace(/\\[rn]/g, '\n')), 1),
  },
  {
    type: 'AZURE_STORAGE_ACCOUNT_KEY',
    pattern: /AccountKey=(?<v>[A-Za-z0-9+/]{40,100}={0,2})(?![A-Za-z0-9+/=])/dgi,
    maxLength: 100,
    priority: 2,
    validate: (v) => when(randomBody(v.replace(/=+$/, ''), 4), /^[A-Za-z0-9+/]{86}==$/.test(v) ? 1 : 0.9),
  },
  {
    // Shared-access-signature `sig=`; only counted inside a SAS query (sv=/se=/sp=/sr= near it).
    type: 'AZURE_SAS_TOKEN',
    pattern: /[?&;]sig=(?<v>[A-Za-z0-9%+/]{30,120}(?:%3D|=){0,2})(?![A-Za-z0-9%+/=])/dgi,
    maxLength: 130,
    priority: 2,
    validate: (v, text, start) => {
      const around = text.slice(Math.max(0, start - 400), start + v.length + 200);
      return when(/[?&;](?:sv|se|sp|sr|spr|srt|ss)=/i.test(around) && randomBody(v.replace(/%[0-9A-F]{2}/gi, '')), 1);
    },
  },
  {
    // Entra ID (Azure AD) client secrets: 3 characters, a digit, `Q~`, then 31-34 characters.
    type: 'AZURE_CLIENT_SECRET',
    pattern: /(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])/dg,
    maxLength: 40,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(6)), 1),
  },
  {
    type: 'PRIVATE_KEY',
    pattern: /-----BEGIN (?<kind>(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----(?:[^-]|-(?!----)){20,12000}?-----END \k<kind>-----/dg,
    maxLength: 12_100,
    priority: 2,
    validate: (v) => when(base64Body(v), 1),
  },
  {
    // A block cut off before its END line (pasted or truncated): the BEGIN line, optional headers and a blank line,
    // lines of 40+ base64 characters, and one shorter last line. Lines end with newlines (also JSON-escaped `\n`), or
    // spaces for a key pasted on one line. A complete block is longer, so it wins. At most ~11,700 characters.
    type: 'PRIVATE_KEY',
    pattern: new RegExp(
      [
        '-----BEGIN (?:(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----',
        `(?:${PEM_NL}[A-Za-z][A-Za-z-]{1,30}: [^\\r\\n\\\\]{1,60}){0,4}(?:${PEM_NL}(?=${PEM_NL}))?`,
        `(?:${PEM_NL}[A-Za-z0-9+/=]{40,96}|[ \\t]{1,4}[A-Za-z0-9+/=]{16,96}){0,105}`,
        `(?:(?:${PEM_NL}|[ \\t]{1,4})[A-Za-z0-9+/=]{1,39}(?![^\\s"'\\\\]))?`,
      ].join(''),
      'dg',
    ),
    maxLength: 12_100,
    priority: 2,
    validate: (v) => when(base64Body(v.replace(/\\[rn]/g, '\n')), 1),
  },
  {
    // Three base64url parts; the header must decode to a JSON object with "alg".
    type: 'JWT',
    pattern: /(?<![\w-])eyJ[A-Za-z0-9_-]{8,2000}\.[A-Za-z0-9_-]{2,8000}\.[A-Za-z0-9_-]{0,2000}(?![\w-])/dg,
    maxLength: 12_005,
    priority: 2,
    validate: (v) => {
      const [header, payload] = v.split('.');
      const h = base64UrlJson(header);
      if (!h || typeof h.alg !== 'string') return null;
      return base64UrlJson(payload) ? 1 : 0.8;
    },
  },
  {
    // Same base62 + CRC-32 layout as GitHub's tokens.
    type: 'NPM_TOKEN',
    pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/dg,
    maxLength: 40,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(4)), base62CrcValid(v.slice(4)) ? 1 : 0.5),
  },
  {
    // Macaroons whose first bytes encode the issuing host: pypi.org or test.pypi.org.
    type: 'PYPI_TOKEN',
    pattern: /(?<![\w-])pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,400}(?![\w-])/dg,
    maxLength: 430,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(24)), 1),
  },
  {
    type: 'TWILIO_API_KEY',
    pattern: /(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])/dg,
    maxLength: 34,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(2)), 0.9),
  },
  {
    type: 'SENDGRID_API_KEY',
    pattern: /(?<![\w.-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])/dg,
    maxLength: 69,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(3)), 1),
  },
  {
    type: 'HUGGINGFACE_TOKEN',
    pattern: /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z0-9]{34}(?![A-Za-z0-9_])/dg,
    maxLength: 42,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(v.indexOf('_', 3) + 1)), 1),
  },
  {
    // base64(user id) . base64(timestamp) . HMAC; the first part must decode to a snowflake id.
    type: 'DISCORD_BOT_TOKEN',
    pattern: /(?<![\w.-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![\w.-])/dg,
    maxLength: 76,
    priority: 2,
    validate: (v) => when(/^\d{17,20}$/.test(Buffer.from(v.slice(0, v.indexOf('.')), 'base64url').toString('latin1')) && randomBody(v.slice(v.lastIndexOf('.') + 1)), 1),
  },
  {
    type: 'DISCORD_WEBHOOK_URL',
    pattern: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d{17,20}\/[A-Za-z0-9_-]{60,80}(?![\w-])/dg,
    maxLength: 160,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(v.lastIndexOf('/') + 1)), 1),
  },
  {
    type: 'DIGITALOCEAN_TOKEN',
    pattern: /(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9_])/dg,
    maxLength: 71,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(7)), 1),
  },
  {
    type: 'SHOPIFY_TOKEN',
    pattern: /(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9_])/dg,
    maxLength: 38,
    priority: 2,
    validate: (v) => when(randomBody(v.slice(6)), 1),
  },
  {
    // agentguard's own API tokens (core/tokens/token-format.ts): `agk_` + the canonical base64url of 32 random bytes.
    // Their 256 random bits keep the body's entropy above 4.1 bits per character (least of 10^6 generated), so 3.5
    // drops placeholders (`agk_AAAA…`) and never a real token.
    type: 'AGENTGUARD_TOKEN',
    pattern: new RegExp(`(?<![\\w-])${TOKEN_SOURCE}(?![\\w-])`, 'dg'),
    maxLength: TOKEN_LENGTH,
    priority: 2,
    validate: (v) => when(isCanonicalToken(v) && shannonEntropy(v.slice(TOKEN_PREFIX.length)) >= 3.5, 1),
  },
  {
    // scheme://user:password@host — the password only.
    type: 'PASSWORD_IN_URL',
    pattern: /(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{1,20}:\/\/[^\s/:@"'<>]{1,64}:(?<v>[^\s/@"'<>]{3,128})@[A-Za-z0-9[]/dgi,
    maxLength: 128,
    priority: 2,
    validate: (v) => when(!isPlaceholder(v) && !/^(?:pass|pwd|\*+)$/i.test(v), 0.9),
  },
];

/** A PEM body: enough base64 between the markers and no elision (`...`) or angle-bracket placeholder. */
function base64Body(pem: string): boolean {
  const body = pem.replace(/-----(?:BEGIN|END) [A-Z ]+-----/g, '').replace(/^[A-Za-z-]+: .*$/gm, '');
  if (/\.\.\.|…|<[^>]*>/.test(body)) return false;
  const b64 = body.replace(/[^A-Za-z0-9+/=]/g, '');
  return b64.length >= 64 && shannonEntropy(b64) >= 4.5;
}

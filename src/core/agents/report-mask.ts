/**
 * The one masking of everything `agentguard scan` reports and the agent registry stores: text notes, JSON output,
 * CycloneDX properties, `agents show`. A report names where a secret is, never the secret, so this masks broadly: a
 * harmless value masked by mistake costs a reader little, a key printed costs its owner the key.
 *
 * What is masked, in any string:
 * - token-shaped text anywhere: every format the secrets guardrail recognises (vendor keys, JWTs, private keys,
 *   passwords in URLs, and high-entropy values after secret names), plus the vendor prefixes below at any length;
 * - in URLs: user info, query values, and path segments that look like key material (`/mcp/sk-ak-…/sse`);
 * - in command lines, one string or one argument each: the value of a secret-named flag (`--api-key X`, `--pat X`,
 *   `--token=X`), secret-named assignments (`GH_PAT=…`, `-e OPENAI_API_KEY=…`) and `Authorization:` style headers;
 * - JSON written into a string (`{"apiKey": …}`): values under secret-named keys, and every string in it.
 */
import { secretsGuardrail } from '../guardrails/secrets/index.js';
import type { Finding } from '../guardrails/types.js';
import { judge } from '../guardrails/secrets/generic.js';
import { DEFAULT_ENTROPY_THRESHOLD } from '../guardrails/secrets/config.js';
import { setOwnKey } from '../own-key.js';

export const MASK = '***';

/**
 * Names of flags, variables, headers and JSON keys whose value is a secret. `key` alone counts (`--key X`); `pat`
 * (personal access token) only as a whole word, so `path` and `compat` do not.
 */
const SECRET_NAME = /key|token|secret|passw|pwd|passphrase|auth|credential|cookie|session|private|signature|(?:^|[^a-z])(?:pat|pass|pin|otp|dsn|sig|jwt)(?:[^a-z]|$)/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Prefixes vendors put on keys (OpenAI-style `sk-` of many vendors, Zapier `sk-ak-`, OpenRouter `sk-or-`, Stripe,
 * GitHub, GitLab, Slack, Google, Hugging Face, npm, AWS, agentguard's own `agk_`). The guardrail claims only the formats it can validate, to
 * keep its precision in prose; a report masks any such token.
 */
const VENDOR_TOKEN =
  /(?<![A-Za-z0-9])(?:(?:sk|pk|rk|ak)[-_][A-Za-z0-9_-]{12,}|(?:gh[pousr]_|github_pat_|glpat-|xox[abprse]-|AIza|hf_|npm_|pypi-|agk_)[A-Za-z0-9_-]{8,}|(?:AKIA|ASIA)[A-Z0-9]{16})/g;

const VENDOR_TOKEN_ONCE = new RegExp(VENDOR_TOKEN.source);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path segment or bare value that looks like key material rather than a word, a name or a version. */
export function looksLikeKeyMaterial(value: string): boolean {
  if (value.length < 16) return false;
  if (UUID.test(value) || /^[0-9a-f]{24,}$/i.test(value)) return true;
  if (VENDOR_TOKEN_ONCE.test(value)) return true;
  return /[0-9]/.test(value) && /[A-Za-z]/.test(value) && judge(value, DEFAULT_ENTROPY_THRESHOLD) !== null;
}

const guardrail = secretsGuardrail.create({});

function replaceSpans(text: string, spans: ReadonlyArray<{ start: number; end: number }>): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let copied = 0;
  for (const { start, end } of sorted) {
    if (end <= copied) continue;
    out += text.slice(copied, Math.max(copied, start)) + MASK;
    copied = end;
  }
  return out + text.slice(copied);
}

/** Token-shaped text anywhere in `text`: what the secrets guardrail finds, and the vendor prefixes. */
function maskTokens(text: string): string {
  // The secrets guardrail detects synchronously (the Guardrail type allows a promise for remote ones).
  const spans = (guardrail.detect(text) as Finding[]).map(({ start, end }) => ({ start, end }));
  for (const m of text.matchAll(VENDOR_TOKEN)) spans.push({ start: m.index, end: m.index + m[0].length });
  return replaceSpans(text, spans);
}

const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>`]+/g;

/** One URL with user info, query values, fragment and key-like path segments masked; the shape is kept. */
export function maskUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (!scheme) return url;
  let rest = url.slice(scheme[0].length);
  const hashAt = rest.indexOf('#');
  const fragment = hashAt >= 0 ? rest.slice(hashAt + 1) : undefined;
  if (hashAt >= 0) rest = rest.slice(0, hashAt);
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : undefined;
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  const slash = rest.indexOf('/');
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = `${MASK}@${authority.slice(at + 1)}`;
  const maskedPath = path
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // keep it as written
      }
      return looksLikeKeyMaterial(decoded) || maskTokens(decoded) !== decoded ? MASK : segment;
    })
    .join('/');
  let out = `${scheme[0]}${authority}${maskedPath}`;
  if (query !== undefined) {
    out += `?${query
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const name = eq < 0 ? '' : pair.slice(0, eq);
        const value = eq < 0 ? pair : pair.slice(eq + 1);
        const secret = (isSecretName(name) && isSecretValue(value)) || looksLikeKeyMaterial(value) || maskTokens(value) !== value;
        return secret ? (eq < 0 ? MASK : `${name}=${MASK}`) : pair;
      })
      .join('&')}`;
  }
  if (fragment !== undefined) out += fragment.length < 8 ? `#${fragment}` : `#${MASK}`;
  return out;
}

const FLAG = /^(--?[A-Za-z][\w.-]*)$/;
const FLAG_WITH_VALUE = /^(--?[A-Za-z][\w.-]*)=(.*)$/s;
const ASSIGNMENT = /^([A-Za-z_][\w.-]*)=(.*)$/s;
/** `Authorization: Bearer X`, `X-Api-Key: X` anywhere in text. */
const HEADER_IN_TEXT = /(?<![\w-])([A-Za-z][\w-]{0,63}):[ \t]*(?:(?:Bearer|Basic|Token|Digest)[ \t]+)?([^\s"',;]+)/gi;
/** `${VAR}`, `${env:VAR}`, `${input:id}`, `${{ secrets.X }}`, `$VAR`: a reference names where a secret is, not the secret. */
const REFERENCE_ONLY = /^(?:\$\{\{[^}]*\}\}|\$\{[^}]*\}|\$[A-Za-z_]\w*|%[A-Za-z_]\w*%)$/;
const HARMLESS = /^(?:true|false|yes|no|on|off|null|none|\d{1,5})$/i;

/** Whether a value written after a secret name is to be masked: anything but a reference or an obvious non-secret. */
function isSecretValue(value: string): boolean {
  const v = value.trim().replace(/^(?:bearer|basic|token)\s+/i, '');
  return v !== '' && !REFERENCE_ONLY.test(v) && !HARMLESS.test(v);
}

/** Flags whose value is never a secret even though the name says key (`--keep-alive`, `--key-file` is a path). */
const NOT_SECRET_FLAG = /(?:file|path|dir|name|id|type|url|uri|length|size|count|limit|prefix|env)$/i;

function isSecretFlag(flag: string): boolean {
  const name = flag.replace(/^-+/, '');
  return isSecretName(name) && !NOT_SECRET_FLAG.test(name);
}

/**
 * One word of a command line; `afterSecretFlag` when the word before it was `--api-key` and the like. Tokens and URLs
 * inside a word are left to the passes over the whole text.
 */
function maskWord(word: string, afterSecretFlag: boolean): string {
  if (afterSecretFlag && isSecretValue(word)) return MASK;
  const flag = FLAG_WITH_VALUE.exec(word);
  if (flag) return isSecretFlag(flag[1]) && isSecretValue(flag[2]) ? `${flag[1]}=${MASK}` : word;
  const assignment = ASSIGNMENT.exec(word);
  if (assignment) return isSecretName(assignment[1]) && isSecretValue(assignment[2]) ? `${assignment[1]}=${MASK}` : word;
  return word;
}

/**
 * A command line given as arguments: each argument masked, and the argument after a secret-named flag masked whole.
 * An argument holding spaces (`sh -c "…"`, a whole command in one string) is masked as a command line of its own.
 */
export function maskArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const previous = argv[i - 1];
    const afterSecretFlag = previous !== undefined && FLAG.test(previous) && isSecretFlag(previous);
    if (afterSecretFlag && isSecretValue(arg)) return MASK;
    // `--api-key=two words` is one value; `KEY=v node app.js` is a script (masked word by word below).
    const flag = FLAG_WITH_VALUE.exec(arg);
    if (flag && isSecretFlag(flag[1]) && isSecretValue(flag[2])) return `${flag[1]}=${MASK}`;
    const assignment = ASSIGNMENT.exec(arg);
    if (assignment && !/\s/.test(assignment[2]) && isSecretName(assignment[1]) && isSecretValue(assignment[2])) return `${assignment[1]}=${MASK}`;
    return maskText(arg);
  });
}

/** A command line in one string: split on blanks (quotes kept with their word), each word masked as an argument. */
function maskCommandLine(text: string): string {
  const parts = text.split(/(\s+)/);
  let previous: string | undefined;
  return parts
    .map((part) => {
      if (part === '' || /^\s+$/.test(part)) return part;
      const unquoted = part.replace(/^(["'])(.*)\1$/s, '$2');
      const afterSecretFlag = previous !== undefined && FLAG.test(previous) && isSecretFlag(previous);
      previous = unquoted;
      const masked = maskWord(unquoted, afterSecretFlag);
      return masked === unquoted ? part : masked;
    })
    .join('');
}

/** Values under secret-named keys, and every string, of parsed JSON. */
function maskJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = maskTokens(k);
    setOwnKey(out, key, isSecretName(k) && (typeof v === 'string' ? isSecretValue(v) : typeof v === 'object' && v !== null) ? MASK : maskJson(v, depth + 1));
  }
  return out;
}

/** `"apiKey": "…"` and `apiKey: …` in text that is not valid JSON (cut short, or JSON inside other text). */
const QUOTED_FIELD = /(["'])([A-Za-z_][\w.-]{0,63})\1(\s*:\s*)(["'])((?:(?!\4)[^\\]|\\.){0,2000})\4/g;

const MAX_TEXT = 64 * 1024;

/**
 * Masks every secret in `text` (see the module comment); the rest is kept as written. Deterministic and idempotent:
 * masking a masked text changes nothing, so it is safe at collection and again where data leaves.
 */
export function maskText(text: string): string {
  if (text.length < 6 || text === MASK || clean.has(text)) return text;
  let masked = maskUncached(text);
  // A secret masked can uncover another (the guardrail reports one of two overlapping spans): mask until nothing
  // changes, so that masking a masked text is a no-op.
  for (let pass = 0; pass < 4 && masked !== text; pass++) {
    const again = maskUncached(masked);
    if (again === masked) break;
    masked = again;
  }
  // Only strings found to hold no secret are remembered, so the cache never keeps one.
  if (masked === text && text.length <= CLEAN_MAX_LENGTH) {
    if (clean.size >= CLEAN_MAX_ENTRIES) clean.clear();
    clean.add(text);
  }
  return masked;
}

/**
 * Strings seen to hold no secret. A scan masks the same strings at collection, at output and in the registry, and a
 * registry read masks every entry again: most strings are clean and repeat.
 */
const clean = new Set<string>();
const CLEAN_MAX_LENGTH = 512;
const CLEAN_MAX_ENTRIES = 8192;

function maskUncached(text: string): string {
  // Longer text than any report field should hold is cut rather than scanned at length.
  const input = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
  const trimmed = input.trim();
  if ((trimmed.startsWith('{') && trimmed.endsWith('}')) || (trimmed.startsWith('[') && trimmed.endsWith(']'))) {
    try {
      return JSON.stringify(maskJson(JSON.parse(trimmed)));
    } catch {
      // not JSON after all: masked as text below
    }
  }
  let out = input.replace(QUOTED_FIELD, (whole, q: string, name: string, sep: string, vq: string, value: string) =>
    isSecretName(name) && isSecretValue(value) ? `${q}${name}${q}${sep}${vq}${MASK}${vq}` : whole,
  );
  // Cheap screens first: most report strings have no secret name and no URL.
  if (out.includes(':') && SECRET_NAME.test(out)) {
    out = out.replace(HEADER_IN_TEXT, (whole, name: string, value: string) =>
      !value.startsWith('//') && isSecretName(name) && isSecretValue(value) ? `${name}: ${MASK}` : whole,
    );
  }
  if (out.includes('://')) out = out.replace(URL_IN_TEXT, (url) => maskUrl(url));
  out = maskCommandLine(out);
  return maskTokens(out);
}

/**
 * A deep copy with every string masked by {@link maskText} (object keys too), and every list of strings masked as a
 * command line ({@link maskArgv}). Field names are not judged here: the objects passed are the report's own
 * (`details.credentialEnv` lists names, not values).
 */
export function maskStrings<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return maskText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  // A list of strings may be a command line (`details.args`): the value after `--api-key` is masked with it.
  if (Array.isArray(value)) return (value.every((v) => typeof v === 'string') ? maskArgv(value) : value.map((v) => maskStrings(v, depth + 1))) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[maskText(k)] = maskStrings(v, depth + 1);
  return out as T;
}

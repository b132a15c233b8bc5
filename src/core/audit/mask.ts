import { foldForMatching, type FoldedText } from '../guardrails/text/fold.js';
import { TOKEN_LIKE_SOURCE } from '../tokens/token-format.js';
import { setOwnKey } from '../own-key.js';

/**
 * Masking of secrets before anything reaches the audit log.
 *
 * Two ways a secret is found:
 * - by its field name (`password`, `api_key`, `Authorization`, …): the value is replaced by `[MASKED]`, the key kept;
 * - by its shape, anywhere in any string: provider keys (OpenAI, Anthropic, AWS, GitHub, …), JWTs, Bearer tokens,
 *   PEM private keys, URL credentials (also with an empty user, `redis://:pw@host`), and `key=value` / `key: value` /
 *   `"key": "value"` text whose key is a secret-looking name. Those become `[MASKED:<kind>]`, e.g. `[MASKED:openai-key]`;
 * - on command lines: the value of a secret-looking flag (`--password=x`, `--api-key x`, `--token "x"`), the password
 *   of `-u`/`--user name:password` (curl), mysql's `-p<password>`, `-p <password>` of sshpass and registry logins, and
 *   a secret-looking setting name followed by its value (`aws configure set aws_secret_access_key x`). Those become
 *   `[MASKED]`.
 *
 * Secrets written in disguise are found too: text holding non-ASCII characters or character references is also matched
 * in its folded form (guardrails/text/fold.ts: full-width and other compatibility forms, invisible characters, Cyrillic
 * and Greek look-alikes inside ASCII words, other scripts' digits), and what is found there is masked on the span of
 * the text as written, so `ｓｋ-ｐｒｏｊ-…` or a key split by zero-width spaces is masked whole and the text around it
 * is kept as it was.
 *
 * Every regex here runs in linear time (recheck finds each alternative safe; test/audit-mask.test.ts feeds them
 * inputs built to backtrack): each repetition is a character class its neighbour cannot match, a failed attempt
 * only ever rescans a bounded prefix, and patterns that could restart inside a longer run have a lookbehind.
 */

/** What replaces the value of a secret-looking field. */
export const MASKED = '[MASKED]';

/** Marker for content below the depth limit. */
export const TOO_DEEP = '[TRUNCATED:max-depth]';

/** Marker for a reference back to an enclosing object. */
export const CIRCULAR = '[CIRCULAR]';

/** Default nesting depth below which content is replaced by {@link TOO_DEEP}. */
export const DEFAULT_MAX_DEPTH = 32;

export interface MaskOptions {
  /** Objects and arrays nested deeper than this are replaced by {@link TOO_DEEP}. Default 32. */
  maxDepth?: number;
}

/** `[MASKED:<hint>]`: the hint says what kind of secret it was, never anything about its value. */
export function maskedAs(hint: string): string {
  return `[MASKED:${hint}]`;
}

// ---- secret-looking field names -------------------------------------------------------------------------------

/** Names compared after lower-casing and removing everything but letters and digits (`X-Api-Key` → `xapikey`). */
const SECRET_NAMES = new Set(['pwd', 'pw', 'pass', 'auth', 'sid', 'sessid', 'jsessionid', 'phpsessid', 'dsn', 'key', 'pat', 'sig', 'bearer']);
const SECRET_SUFFIXES = [
  'token', 'cookie', 'cookies', 'sessionid', 'authorization', 'accesskey', 'signingkey', 'encryptionkey', 'masterkey',
  'accountkey', 'subscriptionkey', 'connectionstring', 'pwd', 'pw', 'auth', 'otp', 'pin', 'bearer',
];
const SECRET_PARTS = ['password', 'passwd', 'passphrase', 'passcode', 'secret', 'apikey', 'privatekey', 'credential'];

const keyCache = new Map<string, boolean>();
const NON_ASCII = /[^\x00-\x7F]/;
const MARKER_RE = /\[MASKED(?::[a-z-]+)?\]/g;

/**
 * True when a field name looks like it holds a secret, whatever its case or separators.
 *
 * @example isSecretKey('X-Api-Key') // true
 * @example isSecretKey('max_tokens') // false
 */
export function isSecretKey(key: string): boolean {
  const cached = keyCache.get(key);
  if (cached !== undefined) return cached;
  const secret = looksLikeSecretName(key);
  if (keyCache.size >= 10_000) keyCache.clear();
  keyCache.set(key, secret);
  return secret;
}

function looksLikeSecretName(key: string): boolean {
  // Markers left by an earlier masking ("[MASKED:github-token]") name a kind of secret but are not one.
  const unmarked = key.includes('[MASKED') ? key.replace(MARKER_RE, '') : key;
  // A name in disguise (`ｐａｓｓｗｏｒｄ`, Cyrillic `раsswоrd`) is read as what it looks like.
  const n = (NON_ASCII.test(unmarked) ? foldForMatching(unmarked).text : unmarked).toLowerCase().replace(/[^a-z0-9]/g, '');
  return n !== '' && (SECRET_NAMES.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s)) || SECRET_PARTS.some((p) => n.includes(p)));
}

// ---- secrets in text -------------------------------------------------------------------------------------------

/** One replacement a pass makes: [start, end) of the text it read becomes `replacement`. */
interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/**
 * A text being masked pass by pass (each pass reads the previous one's result). When it tracks, `from[i]` is where
 * unit i of `text` was in the text masking started with, or -1 inside a replacement, so what each pass replaced can be
 * mapped back to the text as written (maskDisguised).
 */
class Masking {
  text: string;
  from: Int32Array | undefined = undefined;

  constructor(text: string, track: boolean) {
    this.text = text;
    if (track) {
      this.from = new Int32Array(text.length);
      for (let i = 0; i < text.length; i++) this.from[i] = i;
    }
  }

  /** Applies edits sorted by start and not overlapping. */
  apply(edits: readonly Edit[]): void {
    if (edits.length === 0) return;
    const text = this.text;
    const parts: string[] = [];
    let copied = 0;
    for (const e of edits) {
      parts.push(text.slice(copied, e.start), e.replacement);
      copied = e.end;
    }
    parts.push(text.slice(copied));
    const out = parts.join('');
    if (this.from) {
      const from = new Int32Array(out.length);
      let at = 0;
      copied = 0;
      for (const e of edits) {
        from.set(this.from.subarray(copied, e.start), at);
        at += e.start - copied;
        from.fill(-1, at, at + e.replacement.length);
        at += e.replacement.length;
        copied = e.end;
      }
      from.set(this.from.subarray(copied), at);
      this.from = from;
    }
    this.text = out;
  }
}

/** Which provider each alternative of TOKEN_RE stands for, in group order (one capture group per alternative). */
const TOKEN_HINTS = [
  'anthropic-key',
  'openai-key',
  'openai-key',
  'stripe-key',
  'aws-access-key-id',
  'github-token',
  'gitlab-token',
  'slack-token',
  'google-api-key',
  'huggingface-token',
  'npm-token',
  'sendgrid-key',
  'jwt',
  'agentguard-token',
] as const;

const W = 'A-Za-z0-9_\\-'; // base64url alphabet
const TOKEN_RE = new RegExp(
  [
    `(sk-ant-[${W}]{20,})`,
    `(sk-(?:proj|svcacct|admin)-[${W}]{20,})`,
    // Plain `sk-` also starts words ("task-…"): require a token boundary and something a slug has not.
    `(?<![${W}])(sk-(?=[a-z-]*[A-Z0-9_])[${W}]{20,})`,
    `((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,})`,
    `(?<![A-Za-z0-9])((?:AKIA|ASIA)[A-Z0-9]{16})`,
    `((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`,
    `(glpat-[${W}]{20,})`,
    `(xox[abposr]-[A-Za-z0-9-]{10,})`,
    `(?<![${W}])(AIza[${W}]{30,})`,
    `(?<![${W}])(hf_[A-Za-z0-9]{30,})`,
    `(?<![${W}])(npm_[A-Za-z0-9]{30,})`,
    `(?<![${W}])(SG\\.[${W}]{16,}\\.[${W}]{16,})`,
    `(?<![${W}])(eyJ[${W}]{4,}\\.[${W}]{4,}\\.[${W}]{4,})`,
    // agentguard's own tokens, also cut short (as the sidecar masks its log lines).
    `(${TOKEN_LIKE_SOURCE})`,
    // Bearer <token>: a token of lower-case letters only is a word, so prose ("bearer instruments") stays readable.
    `(?<![${W}])([Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+)(?=[a-z]*[A-Z0-9_.~+/=-])([A-Za-z0-9_.~+/-]{8,}=*)`,
    // scheme://user:password@ — the whole user-info goes, since the user part is often a token too.
    `(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}://)([^\\s/?#@:[]*:[^\\s/?#@]*)@`,
  ].join('|'),
  'g',
);
const BEARER_GROUP = TOKEN_HINTS.length + 1;
const URL_GROUP = BEARER_GROUP + 2;

/** Provider tokens, JWTs, bearer tokens and URL credentials: the token is replaced, `Bearer ` and `scheme://` kept. */
function tokenEdits(text: string): Edit[] {
  const edits: Edit[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
    const end = m.index + m[0].length;
    const hint = TOKEN_HINTS.findIndex((_, i) => m![i + 1] !== undefined);
    if (hint >= 0) edits.push({ start: m.index, end, replacement: maskedAs(TOKEN_HINTS[hint]) });
    else if (m[BEARER_GROUP] !== undefined) edits.push({ start: m.index + m[BEARER_GROUP].length, end, replacement: maskedAs('bearer-token') });
    else if (m[URL_GROUP] !== undefined) edits.push({ start: m.index + m[URL_GROUP].length, end: end - 1, replacement: maskedAs('url-credentials') });
  }
  return edits;
}

const PEM_BEGIN = '-----BEGIN ';

/** Replaces PEM private key blocks; a block without its END line is masked to the end of the text. */
function pemEdits(text: string): Edit[] {
  const edits: Edit[] = [];
  let at = text.indexOf(PEM_BEGIN);
  while (at >= 0) {
    const labelEnd = text.indexOf('-----', at + PEM_BEGIN.length);
    if (labelEnd < 0) break;
    if (labelEnd - at > 80 || !text.slice(at + PEM_BEGIN.length, labelEnd).includes('PRIVATE KEY')) {
      at = text.indexOf(PEM_BEGIN, labelEnd);
      continue;
    }
    const endLine = text.indexOf('-----END ', labelEnd + 5);
    const close = endLine < 0 ? -1 : text.indexOf('-----', endLine + 9);
    const blockEnd = close < 0 ? text.length : close + 5;
    edits.push({ start: at, end: blockEnd, replacement: maskedAs('private-key') });
    at = text.indexOf(PEM_BEGIN, blockEnd);
  }
  return edits;
}

/** `name=`, `name:`, `"name":`, `'name' =` … The value that follows is read by hand in maskFields. */
const FIELD_RE = /(?<![A-Za-z0-9_.-])(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,63})\1[ \t]*([=:])[ \t]*/g;

function isQuote(c: string): boolean {
  return c === '"' || c === "'";
}

/** Index just past the value starting at `start`, given how its name was written. */
function valueEnd(text: string, start: number, separator: string, quotedName: boolean): number {
  const first = text[start];
  if (isQuote(first)) {
    for (let i = start + 1; i < text.length; i++) {
      const c = text[i];
      if (c === '\\') i++;
      else if (c === first) return i + 1;
    }
    return text.length;
  }
  let i = start;
  if (separator === '=') {
    // `&`, `;` and `,` end the value only where a list goes on (`&user=…`) or the text ends: in `password=Tr0ub&3x`
    // they are part of the password.
    for (; i < text.length; i++) {
      const c = text[i];
      if (/[\s"']/.test(c)) break;
      if ((c === '&' || c === ';' || c === ',') && endsValue(text, i + 1)) break;
    }
  } else if (quotedName) {
    while (i < text.length && !/[,}\]\r\n]/.test(text[i])) i++;
  } else {
    while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
  }
  return i;
}

const LIST_GOES_ON_RE = /[ \t]*[A-Za-z_][A-Za-z0-9_.-]{0,63}=|[ \t]*$|\s/y;

/** True when the text at `at` (just after a `&`, `;` or `,`) starts another `name=` or is nothing but space. */
function endsValue(text: string, at: number): boolean {
  if (at >= text.length) return true;
  LIST_GOES_ON_RE.lastIndex = at;
  return LIST_GOES_ON_RE.test(text);
}

/** The replacement for a value written in text (quotes kept), or undefined when there is nothing to mask. */
function maskedValue(value: string): string | undefined {
  const quote = isQuote(value[0]) ? value[0] : '';
  const closed = quote !== '' && value.length > 1 && value.endsWith(quote);
  const inner = quote ? value.slice(1, closed ? -1 : undefined) : value;
  if (inner === '' || inner.startsWith('[MASKED')) return undefined;
  return quote + MASKED + (closed ? quote : '');
}

const SEPARATOR_RE = /[ \t]*([=:])[ \t]*/y;

/** Masks the values of secret-looking names written in text: query strings, headers, env lines, JSON in a string. */
function fieldEdits(text: string): Edit[] {
  FIELD_RE.lastIndex = 0;
  const edits: Edit[] = [];
  let m: RegExpExecArray | null;
  while ((m = FIELD_RE.exec(text)) !== null) {
    let start = FIELD_RE.lastIndex;
    if (!isSecretKey(m[2]) || start >= text.length) continue;
    let separator = m[3];
    let quotedName = m[1] !== '';
    for (;;) {
      const end = valueEnd(text, start, separator, quotedName);
      const replacement = maskedValue(text.slice(start, end));
      if (replacement !== undefined) edits.push({ start, end, replacement });
      FIELD_RE.lastIndex = Math.max(end, start);
      // A value followed by a separator was itself a name (`pin="password": "…"`): what it names goes too.
      SEPARATOR_RE.lastIndex = end;
      const next = end > start ? SEPARATOR_RE.exec(text) : null;
      if (next === null || end + next[0].length >= text.length) break;
      quotedName = isQuote(text[end - 1]);
      separator = next[1];
      start = end + next[0].length;
    }
  }
  return edits;
}

// ---- secrets on command lines -----------------------------------------------------------------------------------

/**
 * `--name=value`, `--name value`, `-name value`: the flag and what separates it from its value. The value is read by
 * hand (flagValueEnd). `-u`/`--user`/`-U`/`--proxy-user` are curl's `name:password`.
 */
const FLAG_RE = /(?<![A-Za-z0-9_.-])(--?)([A-Za-z][A-Za-z0-9_-]{0,63})(=|[ \t]+)/g;
const USER_FLAGS = new Set(['u', 'user', 'U', 'proxy-user']);
/** `-u` and `-U` are curl's (and wget's) only: elsewhere `-u 1000:1000` is a user and group. */
const CURL_RE = /(?<![A-Za-z0-9_.-])(?:curl|wget|http|https|xh)(?![A-Za-z0-9_-])/;
/** mysql and its tools read `-p<password>` (attached; `-p` alone prompts). Elsewhere -p is usually a port. */
const MYSQL_RE = /(?<![A-Za-z0-9_.-])(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump|mariadb|mariadb-dump)(?![A-Za-z0-9_-])/;
const MYSQL_P_RE = /(?<![A-Za-z0-9_.-])-p(?=\S)/g;
/** Tools whose `-p <value>` (with a space) is a password: sshpass, registry logins, `az login`. */
const SPACED_P_TOOL_RE = /(?<![A-Za-z0-9_.-])(?:sshpass|(?:docker|podman|buildah|skopeo|nerdctl|oras)[ \t]+login|helm[ \t]+registry[ \t]+login|az[ \t]+login)(?![A-Za-z0-9_-])/;
const SPACED_P_RE = /(?<![A-Za-z0-9_.-])-p[ \t]+(?=[^\s-])/g;
/** Flags that name where a secret comes from, not the secret: `--password-stdin`, `--token-file path`. */
const SOURCE_FLAG_RE = /(?:stdin|file|path|env|prompt|command|cmd)$/i;
/**
 * A setting name with `_` in it, then space, then its value: `aws_secret_access_key x`, `set client_secret x`. Names
 * with hyphens are left out: rule ids (`no-secrets-out`) are written that way in messages.
 */
const SETTING_RE = /(?<![A-Za-z0-9_.:/-])([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)[ \t]+(?=[^\s=:])/g;

/** Index just past a command-line value starting at `start`: a quoted string, or up to the next white space. */
function wordEnd(text: string, start: number): number {
  const first = text[start];
  if (isQuote(first)) {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\' && first === '"') i++;
      else if (text[i] === first) return i + 1;
    }
    return text.length;
  }
  let i = start;
  while (i < text.length && !/\s/.test(text[i])) i++;
  return i;
}

/**
 * The replacement of the word at `start` (quotes kept), from `keepTo` on (what comes before it stays: the `name:` of
 * `name:password`), and where the word ends; undefined when there is nothing to mask.
 */
function maskWord(text: string, start: number, keepTo = start): { replacement: string; end: number } | undefined {
  const end = wordEnd(text, start);
  const quote = isQuote(text[start]) ? text[start] : '';
  const closed = quote !== '' && end - start > 1 && text[end - 1] === quote;
  const valueFrom = keepTo > start ? keepTo : start + quote.length;
  const value = text.slice(valueFrom, closed ? end - 1 : end);
  if (value === '' || value.startsWith('[MASKED')) return undefined;
  const kept = keepTo > start ? text.slice(start, keepTo) : quote;
  return { replacement: kept + MASKED + (closed ? quote : ''), end };
}

/** Masks secret flag values, curl's user passwords, mysql's -p<password> and `setting value` pairs. */
function maskCommandLine(masking: Masking): void {
  if (masking.text.includes('-')) {
    const source = masking.text;
    masking.apply(editsAt(source, FLAG_RE, (m, start) => {
      const name = m[2];
      if (start >= source.length || (m[3] !== '=' && source[start] === '-')) return undefined; // the next flag, not a value
      if (USER_FLAGS.has(name) && (name.length > 1 || CURL_RE.test(source))) {
        const end = wordEnd(source, start);
        const colon = source.indexOf(':', start);
        return colon < 0 || colon >= end ? undefined : maskWord(source, start, colon + 1);
      }
      // Single-dash names of one or two letters are short options (`-p 5432`); spelled out (`-password x`) they count.
      if (m[1] === '-' && name.length < 3) return undefined;
      return isSecretKey(name) && !SOURCE_FLAG_RE.test(name) ? maskWord(source, start) : undefined;
    }));
  }
  if (SPACED_P_TOOL_RE.test(masking.text)) {
    const source = masking.text;
    masking.apply(editsAt(source, SPACED_P_RE, (_m, start) => maskWord(source, start)));
  }
  if (MYSQL_RE.test(masking.text)) {
    const source = masking.text;
    masking.apply(editsAt(source, MYSQL_P_RE, (_m, start) => maskWord(source, start)));
  }
  if (MAY_HAVE_NAME.test(masking.text)) {
    const source = masking.text;
    masking.apply(editsAt(source, SETTING_RE, (m, start) => (isSecretKey(m[1]) ? maskWord(source, start) : undefined)));
  }
}

/** For each match of `re` in `text`, `mask` may replace the text from the match's end to `end`. */
function editsAt(text: string, re: RegExp, mask: (m: RegExpExecArray, valueStart: number) => { replacement: string; end: number } | undefined): Edit[] {
  re.lastIndex = 0;
  const edits: Edit[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = re.lastIndex;
    const found = mask(m, start);
    if (!found) continue;
    edits.push({ start, end: found.end, replacement: found.replacement });
    re.lastIndex = Math.max(found.end, start);
  }
  return edits;
}

// Cheap screens that skip the full scans for the many strings that cannot hold a match (most of an action).
// Every secret-looking name contains one of these words; every TOKEN_RE alternative starts with one of these,
// except URL credentials, which need "://" and "@".
const MAY_HAVE_NAME = /pass|pwd|pw|secret|key|token|auth|cookie|sess|sid|cred|otp|pin|dsn|connection|pat|sig|bearer/i;
/** Command-line secrets need a flag (a `-`) or a setting name (with a `_`). */
const MAY_HAVE_COMMAND_SECRET = /[-_]/;
const MAY_HAVE_SEPARATOR = /[=:]/;
const MAY_HAVE_TOKEN = /sk-|sk_|rk_|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|AIza|hf_|npm_|SG\.|eyJ|agk_|[Bb][Ee][Aa][Rr][Ee][Rr]/;

/** Text that folding may change: non-ASCII characters, or character references (`&#115;k-…`). */
const mayBeDisguised = (text: string): boolean => NON_ASCII.test(text) || (text.includes('&') && CHARACTER_REFERENCE.test(text));
const CHARACTER_REFERENCE = /&[#a-z]/;

/** Runs every pass on `masking`, in order. */
function maskShapes(masking: Masking): Masking {
  masking.apply(pemEdits(masking.text));
  // Tokens before fields: `password=Bearer abc…` must lose the token even though the field's value ends at the space.
  const text = masking.text;
  if (text.length >= 8 && (MAY_HAVE_TOKEN.test(text) || (text.includes('@') && text.includes('://')))) masking.apply(tokenEdits(text));
  if (MAY_HAVE_SEPARATOR.test(masking.text) && MAY_HAVE_NAME.test(masking.text)) masking.apply(fieldEdits(masking.text));
  if (MAY_HAVE_COMMAND_SECRET.test(masking.text)) maskCommandLine(masking);
  return masking;
}

/**
 * Masks what the passes find in the folded form of `text` (a secret in disguise) on the span of `text` it was folded
 * from, keeping the rest of `text` as written. Linear: one fold, the passes, one walk over their result.
 */
function maskDisguised(text: string): string {
  const folded = foldForMatching(text);
  if (folded.identity) return text;
  const masking = maskShapes(new Masking(folded.text, true));
  if (masking.text === folded.text) return text;
  return replaceOriginal(text, folded, replacedSpans(masking, folded.text.length));
}

/** The spans of the folded text the passes replaced, each with what replaced it, in order. */
function replacedSpans(masking: Masking, foldedLength: number): Edit[] {
  const from = masking.from!;
  const spans: Edit[] = [];
  for (let i = 0; i < from.length; ) {
    if (from[i] !== -1) {
      i++;
      continue;
    }
    let j = i;
    while (j < from.length && from[j] === -1) j++;
    // Everything between the last unit kept before the replacement and the first kept after it was replaced.
    const start = i === 0 ? 0 : from[i - 1] + 1;
    const end = j === from.length ? foldedLength : from[j];
    if (end > start) spans.push({ start, end, replacement: masking.text.slice(i, j) });
    i = j;
  }
  return spans;
}

/** `text` with the original span of each folded span replaced; spans meeting inside one original character merge. */
function replaceOriginal(text: string, folded: FoldedText, spans: readonly Edit[]): string {
  const edits: Edit[] = [];
  for (const span of spans) {
    const { start, end } = folded.original(span.start, span.end);
    const last = edits[edits.length - 1];
    if (last && start < last.end) {
      last.end = Math.max(last.end, end);
      last.replacement += span.replacement;
    } else edits.push({ start, end, replacement: span.replacement });
  }
  const masking = new Masking(text, false);
  masking.apply(edits);
  return masking.text;
}

/**
 * Strings seen to hold no secret. Agents repeat most strings (names, kinds, rule ids, messages, hashes), so a lookup
 * beats rescanning; only clean strings are kept, so the cache never holds a secret.
 */
const cleanStrings = new Set<string>();
const CLEAN_CACHE_MAX_LENGTH = 256;
const CLEAN_CACHE_SIZE = 8192;

/**
 * Masks every secret found in a piece of text; the rest of the text is kept as it was.
 *
 * @example maskText('curl -H "Authorization: Bearer sk-ant-api03-…"') // 'curl -H "Authorization: [MASKED]'
 */
export function maskText(text: string): string {
  if (text.length < 5) return text;
  const cacheable = text.length <= CLEAN_CACHE_MAX_LENGTH;
  if (cacheable && cleanStrings.has(text)) return text;
  let out = maskShapes(new Masking(text, false)).text;
  if (mayBeDisguised(out)) out = maskDisguised(out);
  if (cacheable && out === text) {
    if (cleanStrings.size >= CLEAN_CACHE_SIZE) cleanStrings.clear();
    cleanStrings.add(text);
  }
  return out;
}

// ---- values ----------------------------------------------------------------------------------------------------

interface KeyInfo {
  secret: boolean;
  /** The key itself with any secret in it masked (a provider key used as a field name). */
  masked: string;
}

const keyInfoCache = new Map<string, KeyInfo>();

function keyInfo(key: string): KeyInfo {
  const cached = keyInfoCache.get(key);
  if (cached !== undefined) return cached;
  const masked = maskText(key);
  // A field name holding a secret is not cached, so no cache ever keeps a secret alive.
  if (masked !== key) return { secret: looksLikeSecretName(key), masked };
  const info = { secret: isSecretKey(key), masked };
  if (keyInfoCache.size >= 10_000) keyInfoCache.clear();
  keyInfoCache.set(key, info);
  return info;
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  let k = key;
  for (let n = 2; Object.prototype.hasOwnProperty.call(target, k); n++) k = `${key}#${n}`;
  setOwnKey(target, k, value);
}

class Masker {
  private readonly open: object[] = [];
  constructor(private readonly maxDepth: number) {}

  value(v: unknown, depth: number): unknown {
    switch (typeof v) {
      case 'string':
        return maskText(v);
      case 'number':
      case 'boolean':
      case 'undefined':
        return v;
      case 'bigint':
        return v.toString();
      case 'object':
        return v === null ? null : this.object(v, depth);
      default:
        return undefined; // functions and symbols have no JSON form
    }
  }

  private object(v: object, depth: number): unknown {
    if (this.open.includes(v)) return CIRCULAR;
    if (depth >= this.maxDepth) return TOO_DEEP;
    this.open.push(v);
    try {
      return this.jsonOf(v, depth);
    } finally {
      this.open.pop();
    }
  }

  private jsonOf(v: object, depth: number): unknown {
    // What JSON.parse makes (plain objects without toJSON, arrays) comes first, before the checks for other kinds.
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Array.prototype) return this.items(v as unknown[], depth);
    if ((proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function') return this.fields(v as Record<string, unknown>, depth);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[binary ${v.byteLength} bytes]`;
    if (v instanceof Error) {
      const code = (v as Error & { code?: unknown }).code;
      return this.fields({ name: v.name, message: v.message, ...(typeof code === 'string' ? { code } : {}) }, depth);
    }
    if (Array.isArray(v)) return this.items(v, depth);
    if (v instanceof Set) return [...v].map((item) => this.value(item, depth + 1) ?? null);
    if (v instanceof Map) return this.fields(Object.fromEntries([...v].map(([k, x]) => [String(k), x])), depth);
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let json: unknown;
      try {
        json = toJSON.call(v);
      } catch {
        return '[UNSERIALISABLE]';
      }
      return json === v ? this.fields(v as Record<string, unknown>, depth) : this.value(json, depth);
    }
    return this.fields(v as Record<string, unknown>, depth);
  }

  /** Holes and values with no JSON form become null, as in JSON.stringify. */
  private items(v: readonly unknown[], depth: number): unknown[] {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.value(v[i], depth + 1) ?? null;
    return out;
  }

  private fields(v: Record<string, unknown>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let renamed = false;
    for (const key of Object.keys(v)) {
      const item = v[key];
      const info = keyInfo(key);
      const masked = info.secret && item !== null && item !== undefined && typeof item !== 'boolean' ? MASKED : this.value(item, depth + 1);
      if (masked === undefined) continue;
      // Source keys are unique, so only after a key was masked can two collide; "__proto__" needs defineProperty.
      if (!renamed && info.masked === key && key !== '__proto__') out[key] = masked;
      else {
        renamed ||= info.masked !== key;
        setKey(out, info.masked, masked);
      }
    }
    return out;
  }
}

/**
 * A deep copy of `value` with secrets masked; the input is never changed. Values of secret-looking fields become
 * `[MASKED]` (null and booleans are kept: they carry no secret); secrets found in any string or field name become
 * `[MASKED:<kind>]`. Cycles become `[CIRCULAR]` and content nested deeper than `maxDepth` becomes
 * `[TRUNCATED:max-depth]`, so any input is safe to pass. The result has the same shape, except that masked
 * values are strings and non-JSON values are converted as JSON.stringify would (Dates to ISO strings, functions dropped).
 *
 * @example
 * maskSecrets({ headers: { Authorization: 'Bearer abc123' }, note: 'key sk-proj-AbC…' })
 * // { headers: { Authorization: '[MASKED]' }, note: 'key [MASKED:openai-key]' }
 */
export function maskSecrets<T>(value: T, options: MaskOptions = {}): T {
  return new Masker(options.maxDepth ?? DEFAULT_MAX_DEPTH).value(value, 0) as T;
}

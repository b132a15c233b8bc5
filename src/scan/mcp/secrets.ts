/**
 * Judging whether a config holds a secret, by NAME and by the shape of the value, without ever returning the value.
 */

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|AUTH|CREDENTIAL|COOKIE)/i;
/** Values that are obviously not secrets even under a secret-looking name. */
const HARMLESS_VALUE = /^(true|false|yes|no|on|off|null|none|\d{1,5})$/i;
/** `${VAR}`, `${env:VAR}`, `${input:id}`, Continue's `${{ secrets.NAME }}`. */
const REFERENCE = /\$\{\{[^}]*\}\}|\$\{[^}]*\}/g;
/** A whole value of `$VAR` also names a variable rather than holding a secret. */
const BARE_REFERENCE = /^\$[A-Za-z_][A-Za-z0-9_]*$/;
const AUTH_SCHEME = /^(bearer|basic|token|apikey|api-key)\s+/i;
/** Well-known token prefixes, so a secret passed as a bare argument is masked too. */
const TOKEN_SHAPE = /^(sk-[A-Za-z0-9_-]{8,}|sk_(live|test)_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[A-Z0-9]{16}|AIza[A-Za-z0-9_-]{30,}|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)$/;

export const MASK = '***';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A value written literally (not a reference to the environment, an input or a file path). */
export function isLiteralSecretValue(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const stripped = value.trim().replace(AUTH_SCHEME, '');
  const rest = stripped.replace(REFERENCE, '').trim();
  if (rest === '' || HARMLESS_VALUE.test(rest) || BARE_REFERENCE.test(rest)) return false;
  // A path to a key file is where the secret lives, not the secret.
  if (/^(\/|~\/|\.{1,2}\/|[A-Za-z]:[\\/])/.test(rest)) return false;
  // A reference with a little literal text around it (`${A}-${B}`, `v1:${KEY}`) is still a reference.
  if (rest !== stripped) return rest.length >= 8;
  return true;
}

/** A secret-named entry (`env`, `headers`) whose value is written in the config. */
export function holdsSecret(name: string, value: unknown): boolean {
  return isSecretName(name) && isLiteralSecretValue(value);
}

export function looksLikeToken(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export interface MaskedArgs {
  args: string[];
  /** Which arguments held a secret (for the risk note): `args[3] (--api-key)`. */
  secrets: string[];
}

/**
 * Masks secret values in arguments: `--token=abc`, `--api-key abc`, `-e OPENAI_API_KEY=abc`, header arguments
 * (`Authorization: Bearer abc`), URLs with credentials or secret query parameters, bare well-known tokens, and the
 * same inside a `sh -c "…"` script.
 */
export function maskArgs(args: readonly string[]): MaskedArgs {
  const out: string[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const previous = args[i - 1];
    const header = /^([A-Za-z][\w-]*):\s*(.+)$/s.exec(arg);
    const assignment = /^(-{0,2}[A-Za-z_][\w.-]*)=(.*)$/s.exec(arg);
    if (previous !== undefined && /^(-l?c|\/c|-command)$/i.test(previous) && /\s/.test(arg.trim())) {
      // A script passed as one argument: mask inside it, keeping its spacing.
      const parts = arg.split(/(\s+)/);
      const inner = maskArgs(parts.filter((_, k) => k % 2 === 0));
      out.push(parts.map((p, k) => (k % 2 === 0 ? inner.args[k / 2] : p)).join(''));
      if (inner.secrets.length > 0) secrets.push(`args[${i}] (script)`);
    } else if (header && !header[2].startsWith('//') && holdsSecret(header[1], header[2])) {
      out.push(`${header[1]}: ${MASK}`);
      secrets.push(`args[${i}] (${header[1]} header)`);
    } else if (assignment && holdsSecret(assignment[1], assignment[2])) {
      out.push(`${assignment[1]}=${MASK}`);
      secrets.push(`args[${i}] (${assignment[1]})`);
    } else if (assignment && /^[A-Za-z][\w-]*:/.test(assignment[2]) && maskArgs([assignment[2]]).secrets.length > 0) {
      // `--header=Authorization: Bearer abc`
      out.push(`${assignment[1]}=${maskArgs([assignment[2]]).args[0]}`);
      secrets.push(`args[${i}] (${assignment[1]})`);
    } else if (previous !== undefined && /^--?[\w-]+$/.test(previous) && !arg.startsWith('-') && holdsSecret(previous, arg)) {
      out.push(MASK);
      secrets.push(`args[${i}] (${previous})`);
    } else if (looksLikeToken(arg)) {
      out.push(MASK);
      secrets.push(`args[${i}]`);
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      const url = sanitizeUrl(arg);
      out.push(url.url);
      if (url.secret) secrets.push(`args[${i}] (URL)`);
    } else out.push(arg);
  }
  return { args: out, secrets };
}

/**
 * A URL fit for a report: credentials, query and fragment removed. `secret` tells whether a password or a
 * secret-named query parameter was written in it.
 */
export function sanitizeUrl(raw: string): { url: string; secret: boolean } {
  try {
    const url = new URL(raw);
    let secret = url.password !== '' && isLiteralSecretValue(decodeURIComponent(url.password));
    for (const [name, value] of url.searchParams) if (holdsSecret(name, value)) secret = true;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return { url: url.toString(), secret };
  } catch {
    // Not parseable (e.g. holds a `${input:…}` placeholder): strip the same parts by hand.
    const secret = /:\/\/[^/@\s]*:[^/@\s]+@/.test(raw) || /[?&][^=&#]*(key|token|secret|password|auth)[^=&#]*=[^&#$]/i.test(raw);
    return { url: raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1').replace(/[?#].*$/s, ''), secret };
  }
}

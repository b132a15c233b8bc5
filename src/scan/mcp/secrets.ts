/**
 * Judging whether a config holds a secret, by NAME and by the shape of the value, without ever returning the value.
 * What is shown goes through the one report masking (core/agents/report-mask.ts); this file only says WHERE a
 * secret was written, for the risk note.
 */
import { isSecretName as isSecretNameForReport, MASK, maskArgv, maskText, maskUrl } from '../../core/agents/report-mask.js';

export { MASK };

/** Values that are obviously not secrets even under a secret-looking name. */
const HARMLESS_VALUE = /^(true|false|yes|no|on|off|null|none|\d{1,5})$/i;
/** `${VAR}`, `${env:VAR}`, `${input:id}`, Continue's `${{ secrets.NAME }}`. */
const REFERENCE = /\$\{\{[^}]*\}\}|\$\{[^}]*\}/g;
/** A whole value of `$VAR` also names a variable rather than holding a secret. */
const BARE_REFERENCE = /^\$[A-Za-z_][A-Za-z0-9_]*$/;
const AUTH_SCHEME = /^(bearer|basic|token|apikey|api-key)\s+/i;

export function isSecretName(name: string): boolean {
  return isSecretNameForReport(name);
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

/** A value that carries a secret whatever its name: a token, URL credentials, a key in a URL path. */
export function carriesSecret(value: unknown): boolean {
  return typeof value === 'string' && maskText(value) !== value;
}

/** An entry (`env`, `headers`) whose value is a secret: a secret name with a literal value, or a secret-shaped value. */
export function holdsSecret(name: string, value: unknown): boolean {
  return (isSecretName(name) && isLiteralSecretValue(value)) || carriesSecret(value);
}

export function looksLikeToken(value: string): boolean {
  return maskText(value) === MASK;
}

export interface MaskedArgs {
  args: string[];
  /** Which arguments held a secret (for the risk note): `args[3] (--api-key)`. */
  secrets: string[];
}

/** What kind of place an argument is, for the note: `(--api-key)`, `(GH_PAT)`, `(URL)`, `(script)`. */
function placeOf(args: readonly string[], i: number): string {
  const arg = args[i];
  const previous = args[i - 1];
  if (previous !== undefined && /^--?[A-Za-z][\w.-]*$/.test(previous) && maskArgv([previous, arg])[1] === MASK) return ` (${previous})`;
  const named = /^(-{0,2}[A-Za-z_][\w.-]*)=/.exec(arg);
  if (named && (named[1].startsWith('-') || !/\s/.test(arg))) return ` (${named[1]})`;
  const header = /^([A-Za-z][\w-]*):/.exec(arg);
  if (header && !arg.startsWith(`${header[1]}://`)) return ` (${header[1]} header)`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return ' (URL)';
  if (/^\s*[{[]/.test(arg)) return ' (JSON)';
  if (/\s/.test(arg.trim())) return ' (script)';
  return '';
}

/**
 * Masks secret values in arguments (flag values, assignments, headers, URLs, tokens, JSON blobs, scripts in one
 * argument) and says which arguments held one.
 */
export function maskArgs(args: readonly string[]): MaskedArgs {
  const masked = maskArgv(args);
  const secrets: string[] = [];
  masked.forEach((m, i) => {
    if (m !== args[i]) secrets.push(`args[${i}]${placeOf(args, i)}`);
  });
  return { args: masked, secrets };
}

/**
 * A URL fit for a report: credentials, query and fragment removed, key-like path segments masked. `secret` tells
 * whether a credential, a secret query parameter or a key in the path was written in it.
 */
export function sanitizeUrl(raw: string): { url: string; secret: boolean } {
  const secret = maskText(raw) !== raw;
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return { url: maskUrl(url.toString()), secret };
  } catch {
    // Not parseable (e.g. holds a `${input:…}` placeholder): strip the same parts by hand.
    return { url: maskUrl(raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1').replace(/[?#].*$/s, '')), secret };
  }
}

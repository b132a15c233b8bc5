import { readFileSync } from 'node:fs';

/**
 * The version handshake between the SDKs and the sidecar. Each SDK request names its SDK and version in SDK_HEADER
 * (`agentguard-js/0.1.0`, `agentguard-python/0.1.0`); every sidecar answer names the sidecar's version in
 * SIDECAR_VERSION_HEADER and the SDK versions it serves in SDK_SUPPORT_HEADER. The sidecar refuses an SDK outside its
 * range with SDK_TOO_OLD or SDK_TOO_NEW; an SDK refuses a sidecar older than it needs with SDK_TOO_NEW. A request
 * without the header (curl, an SDK from before the handshake, another client) is served as before.
 */
export const SDK_HEADER = 'x-agentguard-sdk';
export const SIDECAR_VERSION_HEADER = 'x-agentguard-sidecar';
export const SDK_SUPPORT_HEADER = 'x-agentguard-sdk-support';

/** The TypeScript SDK's name in SDK_HEADER. */
export const JS_SDK_NAME = 'agentguard-js';

/** The oldest sidecar the TypeScript SDK of this package works with (the first with the handshake). */
export const MIN_SIDECAR_VERSION = '0.1.0';

/** The SDK versions this sidecar serves, per SDK: from `min` up to, not including, `below` (the next major API). */
export const SUPPORTED_SDKS: Readonly<Record<string, { min: string; below: string }>> = {
  [JS_SDK_NAME]: { min: '0.1.0', below: '1.0.0' },
  'agentguard-python': { min: '0.1.0', below: '1.0.0' },
};

/** The package version (src/ and dist/ sit at the same depth below the package root); 0.0.0 when unreadable. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** `x.y.z` (a pre-release or build suffix allowed) as numbers, with whether it is a pre-release; undefined when not a version. */
function parse(version: string): { parts: [number, number, number]; pre: boolean } | undefined {
  const match = /^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(version.trim());
  if (!match) return undefined;
  return { parts: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4] !== undefined };
}

/** Orders two versions: negative when a < b. A pre-release sorts before its release. Throws on a non-version. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) throw new RangeError(`not a version: ${JSON.stringify(x ? b : a)}`);
  for (let i = 0; i < 3; i++) if (x.parts[i] !== y.parts[i]) return x.parts[i]! - y.parts[i]!;
  return Number(y.pre) - Number(x.pre);
}

export function isVersion(value: string): boolean {
  return parse(value) !== undefined;
}

/** SDK_SUPPORT_HEADER's value: `agentguard-js >=0.1.0 <1.0.0, agentguard-python >=0.1.0 <1.0.0`. */
export function supportHeader(supported: Readonly<Record<string, { min: string; below: string }>> = SUPPORTED_SDKS): string {
  return Object.entries(supported).map(([name, range]) => `${name} >=${range.min} <${range.below}`).join(', ');
}

/** What the sidecar makes of an SDK_HEADER: serve it, or refuse it with a code and an upgrade message. */
export type SdkCheck =
  | { ok: true }
  | { ok: false; code: 'SDK_TOO_OLD' | 'SDK_TOO_NEW' | 'INVALID_REQUEST'; message: string; actions: string[] };

/**
 * Checks the SDK a request names against the range this sidecar serves. No header, or an SDK it has no range for, is
 * served (backward compatible); a known SDK with an unreadable version is refused rather than guessed at.
 */
export function checkSdk(header: string | undefined, sidecarVersion: string, supported = SUPPORTED_SDKS): SdkCheck {
  if (header === undefined || header === '') return { ok: true };
  const slash = header.lastIndexOf('/');
  const name = slash > 0 ? header.slice(0, slash).trim() : header.trim();
  const range = Object.prototype.hasOwnProperty.call(supported, name) ? supported[name] : undefined;
  if (!range) return { ok: true };
  const version = slash > 0 ? header.slice(slash + 1).trim() : '';
  if (!isVersion(version)) {
    return { ok: false, code: 'INVALID_REQUEST', message: `the ${SDK_HEADER} header must be "<sdk>/<version>", e.g. "${name}/1.2.3"`, actions: [`Send ${SDK_HEADER}: ${name}/<its version>, or leave the header out.`] };
  }
  const said = version.slice(0, 40);
  if (compareVersions(version, range.min) < 0) {
    return {
      ok: false,
      code: 'SDK_TOO_OLD',
      message: `${name} ${said} is too old for this sidecar (version ${sidecarVersion}), which serves ${name} >=${range.min} <${range.below}`,
      actions: [`Upgrade ${name} to ${range.min} or later.`],
    };
  }
  if (compareVersions(version, range.below) >= 0) {
    return {
      ok: false,
      code: 'SDK_TOO_NEW',
      message: `${name} ${said} is newer than this sidecar (version ${sidecarVersion}) serves: ${name} >=${range.min} <${range.below}`,
      actions: [`Upgrade the sidecar (agentguard) to a version that serves ${name} ${said}, or use ${name} below ${range.below}.`],
    };
  }
  return { ok: true };
}

/**
 * What an SDK makes of the sidecar's SIDECAR_VERSION_HEADER: undefined to go on, or the upgrade message when the sidecar
 * is older than `min`. No header means a sidecar from before the handshake, which speaks the same /v1 API: served.
 */
export function sidecarTooOld(header: string | null | undefined, min: string, sdk: string): string | undefined {
  if (header === null || header === undefined || header === '') return undefined;
  const version = header.trim();
  if (isVersion(version) && compareVersions(version, min) >= 0) return undefined;
  return `the sidecar's version ${JSON.stringify(version.slice(0, 40))} is older than ${sdk} needs (agentguard sidecar ${min} or later): upgrade the sidecar, or use an older ${sdk}`;
}

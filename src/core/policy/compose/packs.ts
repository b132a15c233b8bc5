import { fileURLToPath } from 'node:url';

/** The packs that ship in the installed package (policies/<pack>/policy.yaml), versioned with it. */
export const PACKS_DIR = fileURLToPath(new URL('../../../../policies/', import.meta.url));

/** The prefix that names a built-in pack in `include`. */
export const PACK_SCHEME = 'agentguard:';

export interface PackSpec {
  /** The pack's folder name, e.g. `readonly-db`. */
  name: string;
  /** The major version asked for (`agentguard:shell-safety@1`), when given. */
  major?: number;
}

const PACK_SPEC = /^agentguard:([a-z0-9][a-z0-9-]*)(?:@(\d+))?$/;

/** Parses `agentguard:<pack>` or `agentguard:<pack>@<major>`; a string for a malformed spec says what is wrong. */
export function parsePackSpec(spec: string): PackSpec | string {
  const match = PACK_SPEC.exec(spec);
  if (!match) {
    return /@/.test(spec) && !/@\d+$/.test(spec)
      ? 'a pack version is its major version only, e.g. agentguard:shell-safety@1'
      : 'a pack is named agentguard:<pack> (lower-case letters, digits, "-"), optionally with @<major>';
  }
  return { name: match[1], ...(match[2] !== undefined ? { major: Number(match[2]) } : {}) };
}

/** The major part of a pack's `pack.version` (semantic versioning), or undefined when it has none. */
export function majorOf(version: string): number | undefined {
  const match = /^(\d+)\.\d+\.\d+(?:[-+].*)?$/.exec(version);
  return match ? Number(match[1]) : undefined;
}

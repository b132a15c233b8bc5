/**
 * Risk notes for one MCP server: unpinned packages, shell pipes, plain-HTTP remotes, secrets written in the config
 * and broad permissions. Notes name what is risky, never a secret value.
 */
import type { ParsedServer } from './parse.js';
import { carriesSecret, holdsSecret, maskArgs, sanitizeUrl } from './secrets.js';

export type RiskCode = 'shell-pipe' | 'secret-in-config' | 'plain-http' | 'unpinned-package' | 'broad-permissions';

export interface RiskNote {
  code: RiskCode;
  level: 'high' | 'medium';
  message: string;
}

const LEVEL: Record<RiskCode, RiskNote['level']> = {
  'shell-pipe': 'high',
  'secret-in-config': 'high',
  'plain-http': 'high',
  'unpinned-package': 'medium',
  'broad-permissions': 'medium',
};

const note = (code: RiskCode, message: string): RiskNote => ({ code, level: LEVEL[code], message });

/** `/usr/local/bin/npx.cmd` → `npx`. */
const executable = (command: string) => command.split(/[\\/]/).pop()!.replace(/\.(cmd|exe|bat|ps1)$/i, '').toLowerCase();

/** The command line as tokens, unwrapping `cmd /c …` and `sh -c "…"`. */
export function commandTokens(command: string | undefined, args: readonly string[] = []): string[] {
  if (command === undefined) return [];
  // A whole command line written in `command` (`npx -y pkg --flag`), when its first word is a bare program name.
  const words = command.trim().split(/\s+/);
  if (words.length > 1 && !/[\\/]/.test(words[0])) return commandTokens(words[0], [...words.slice(1), ...args]);
  const tokens = [executable(command), ...args];
  if (tokens[0] === 'cmd' && /^\/c$/i.test(tokens[1] ?? '')) return commandTokens(tokens[2], tokens.slice(3));
  if (['sh', 'bash', 'zsh'].includes(tokens[0]) && /^-l?c$/.test(tokens[1] ?? '') && tokens[2] !== undefined) {
    const inner = tokens[2].trim().split(/\s+/);
    return commandTokens(inner[0], [...inner.slice(1), ...tokens.slice(3)]);
  }
  return tokens;
}

interface RunnerPackages {
  runner: string;
  ecosystem: 'npm' | 'pypi';
  packages: string[];
}

const NPM_VALUE_FLAGS = new Set(['-c', '--call', '--registry', '--cache', '--prefix', '--userconfig', '-w', '--workspace']);
const PY_VALUE_FLAGS = new Set(['--with-editable', '--with-requirements', '--python', '-p', '--index', '--index-url',
  '--default-index', '--extra-index-url', '--env-file', '--directory', '--constraints', '--overrides', '--python-version']);

/** The packages a package runner (`npx`, `uvx`, `pnpm dlx`, …) downloads and runs. */
export function runnerPackages(tokens: readonly string[]): RunnerPackages | undefined {
  const [exe, ...rest] = tokens;
  let runner: string;
  let ecosystem: RunnerPackages['ecosystem'];
  let start = 0;
  if (exe === 'npx' || exe === 'bunx' || exe === 'pnpx') [runner, ecosystem] = [exe, 'npm'];
  else if ((exe === 'npm' || exe === 'bun') && (rest[0] === 'exec' || rest[0] === 'x')) [runner, ecosystem, start] = [`${exe} ${rest[0]}`, 'npm', 1];
  else if ((exe === 'pnpm' || exe === 'yarn') && rest.includes('dlx')) [runner, ecosystem, start] = [`${exe} dlx`, 'npm', rest.indexOf('dlx') + 1];
  else if (exe === 'uvx') [runner, ecosystem] = [exe, 'pypi'];
  else if (exe === 'uv' && rest[0] === 'tool' && rest[1] === 'run') [runner, ecosystem, start] = ['uv tool run', 'pypi', 2];
  else if (exe === 'pipx' && rest[0] === 'run') [runner, ecosystem, start] = ['pipx run', 'pypi', 1];
  else return undefined;

  const explicit: string[] = [];
  // pnpm and yarn take `--package` before `dlx` too.
  const scan = exe === 'pnpm' || exe === 'yarn' ? rest : rest.slice(start);
  let positional: string | undefined;
  for (let i = 0; i < scan.length; i++) {
    const t = scan[i];
    if (t === 'dlx' && (exe === 'pnpm' || exe === 'yarn')) continue;
    if (t === '--') {
      positional = scan[i + 1];
      break;
    }
    const withValue = /^(--package|--from|--with|--spec)=(.+)$/.exec(t);
    if (withValue) explicit.push(withValue[2]);
    else if (['-p', '--package', '--from', '--with', '--spec'].includes(t) && !(ecosystem === 'pypi' && t === '-p')) explicit.push(scan[++i] ?? '');
    else if ((ecosystem === 'npm' ? NPM_VALUE_FLAGS : PY_VALUE_FLAGS).has(t)) i++;
    else if (t.startsWith('-')) continue;
    else {
      positional = t;
      break;
    }
  }
  // `--with` adds packages but `--from`/`--package`/`--spec` replace the positional one, which is then a command name.
  const replacesPositional = scan.some((t) => /^(--package|-p|--from|--spec)(=|$)/.test(t) && !(ecosystem === 'pypi' && t === '-p'));
  const packages = [...explicit];
  if (positional !== undefined && !replacesPositional) packages.push(positional);
  return { runner, ecosystem, packages: packages.filter((p) => p !== '') };
}

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const EXACT_PEP440 = /^\d+(\.\d+)*((a|b|rc|\.post|\.dev)\d+)*$/i;

/** `undefined` when the spec is not a registry package (a path, a URL, a git ref): nothing to pin then. */
export function isPinned(spec: string, ecosystem: RunnerPackages['ecosystem']): boolean | undefined {
  if (/^(\.{0,2}\/|~|[A-Za-z]:[\\/])/.test(spec) || /^[a-z+]+:/i.test(spec) || /^[\w.-]+\/[\w.-]+$/.test(spec) && ecosystem === 'npm' && !spec.startsWith('@'))
    return undefined;
  if (ecosystem === 'npm') {
    const at = spec.lastIndexOf('@');
    if (at <= 0) return false;
    return EXACT_SEMVER.test(spec.slice(at + 1));
  }
  const pinned = /^[A-Za-z0-9][\w.-]*(\[[^\]]*\])?\s*(==|===|@)\s*(.+)$/.exec(spec);
  return pinned !== null && EXACT_PEP440.test(pinned[3].trim());
}

const SHELL_PIPES: readonly RegExp[] = [
  /\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da|k|fi)?sh\b/i,
  /\$\(\s*(curl|wget)\b/i,
  /`\s*(curl|wget)\b/i,
  /<\(\s*(curl|wget)\b/i,
  /\b(iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|;]*\|\s*(iex|invoke-expression)\b/i,
  /\b(iex|invoke-expression)\b\s*\(?\s*(\(?\s*(iwr|irm|invoke-webrequest|invoke-restmethod|new-object\s+net\.webclient)\b)/i,
];

export function hasShellPipe(text: string): boolean {
  return SHELL_PIPES.some((re) => re.test(text));
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || h === '0.0.0.0';
}

/** True for `http://` to anything but loopback. */
export function isPlainHttpRemote(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname);
  } catch {
    return /^http:\/\//i.test(url) && !/^http:\/\/(localhost|127\.|\[::1\])/i.test(url);
  }
}

function broadPathLabel(arg: string, home: string): string | undefined {
  const a = arg.replace(/^--?[\w-]+=/, '');
  const trimmed = a.length > 1 ? a.replace(/[\\/]+$/, '') : a;
  if (a === '/' || /^[A-Za-z]:[\\/]*$/.test(a)) return `${a} (the whole disk)`;
  if (['~', '$HOME', '${HOME}', '${env:HOME}', '${userHome}', '%USERPROFILE%', '${env:USERPROFILE}'].includes(trimmed) || trimmed === home.replace(/[\\/]+$/, ''))
    return `${a} (the home folder)`;
  return undefined;
}

function broadPermissions(parsed: ParsedServer, tokens: readonly string[], home: string): RiskNote[] {
  const notes: RiskNote[] = [];
  const { server, entry } = parsed;
  const args = server.args ?? [];
  const isFilesystem = /filesystem/i.test([server.name, server.command ?? '', ...args].join(' '));
  if (isFilesystem) {
    for (const arg of args) {
      const label = broadPathLabel(arg, home);
      if (label) notes.push(note('broad-permissions', `broad permissions: the filesystem server can reach ${label}`));
    }
  }
  for (const key of ['alwaysAllow', 'autoApprove']) {
    const list = entry[key];
    if (Array.isArray(list) && list.length > 0)
      notes.push(note('broad-permissions', `broad permissions: ${key} runs ${list.length} tool(s) without asking (${list.map(String).join(', ')})`));
    else if (list === true) notes.push(note('broad-permissions', `broad permissions: ${key} runs every tool without asking`));
  }
  if (entry.trust === true) notes.push(note('broad-permissions', 'broad permissions: "trust": true skips every tool confirmation'));

  if ((tokens[0] === 'docker' || tokens[0] === 'podman') && tokens.includes('run')) {
    if (tokens.some((t) => t === '--privileged' || t === '--privileged=true'))
      notes.push(note('broad-permissions', `broad permissions: the ${tokens[0]} container runs --privileged`));
    if (tokens.some((t) => /docker\.sock/.test(t)))
      notes.push(note('broad-permissions', `broad permissions: the ${tokens[0]} container mounts the Docker socket (/var/run/docker.sock)`));
    for (let i = 0; i < tokens.length; i++) {
      const mount = /^(-v|--volume)$/.test(tokens[i]) ? tokens[i + 1] ?? '' : /^--volume=/.test(tokens[i]) ? tokens[i].slice(9) : '';
      const source = mount.split(':')[0];
      const label = source ? broadPathLabel(source, home) : undefined;
      if (label) notes.push(note('broad-permissions', `broad permissions: the ${tokens[0]} container mounts ${label}`));
    }
  }
  return notes;
}

/** Every risk note for one server, most severe first. */
export function assessRisks(parsed: ParsedServer, home: string): RiskNote[] {
  const { server } = parsed;
  const notes: RiskNote[] = [];
  const tokens = commandTokens(server.command, server.args);

  if (hasShellPipe([server.command ?? '', ...(server.args ?? [])].join(' ')))
    notes.push(note('shell-pipe', 'shell pipe: the command downloads a script and runs it (e.g. curl … | sh)'));

  const secretPlaces = [
    // A whole command line written in one string (`npx -y x --api-key …`).
    ...(server.command !== undefined && carriesSecret(server.command) ? ['command'] : []),
    ...Object.entries(parsed.env).filter(([k, v]) => holdsSecret(k, v)).map(([k]) => `env.${k}`),
    ...Object.entries(parsed.headers).filter(([k, v]) => holdsSecret(k, v)).map(([k]) => `headers.${k}`),
    ...maskArgs(server.args ?? []).secrets,
  ];
  for (const place of secretPlaces)
    notes.push(note('secret-in-config', `secret in the config: ${place} is written in the config (use an environment variable reference instead)`));
  if (server.url !== undefined && sanitizeUrl(server.url).secret)
    notes.push(note('secret-in-config', 'secret in the config: the url carries a credential (user info, a secret query parameter or a key in its path)'));

  if (server.url !== undefined && isPlainHttpRemote(server.url))
    notes.push(note('plain-http', `plain-HTTP remote: ${sanitizeUrl(server.url).url} is not encrypted (use https://)`));

  const run = runnerPackages(tokens);
  for (const spec of run?.packages ?? []) {
    if (isPinned(spec, run!.ecosystem) === false)
      notes.push(note('unpinned-package', `unpinned package: ${run!.runner} runs ${spec} without an exact version, so each start may fetch new code`));
  }

  notes.push(...broadPermissions(parsed, tokens, home));
  return notes.sort((a, b) => (a.level === b.level ? 0 : a.level === 'high' ? -1 : 1));
}

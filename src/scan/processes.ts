/**
 * Running processes classified as agents: Node and Python processes that load agent frameworks or LLM SDKs, known
 * agent CLIs, MCP servers, and processes holding LLM credentials (environment variable names only).
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { AGENT_CLIS, AGENTGUARD_ENV, byNpmPackage, byPythonModule, FINGERPRINTS, LLM_CREDENTIAL_ENV, type Fingerprint } from './fingerprints.js';
import {
  listLinuxProcesses,
  listPsProcesses,
  mapLimit,
  maskCommand,
  reasonOf,
  SIDECAR_URL_ENV,
  TOKEN_ENV,
  type ProcessInfo,
  type ProcessListing,
  type ReadProblem,
} from './process-info.js';
import { notReadReason, readRegularFile } from './read-regular.js';
import { packageOfSpecifier, pythonImports } from './source-imports.js';
import type { FindingKind, ScanFinding, ScanOptions, ScanSection, Skipped } from './types.js';

const NODE_EXE = /^(node|nodejs)(\d+)?(\.exe)?$/i;
const PYTHON_EXE = /^python(\d+(\.\d+)?)?[dmu]?(\.exe)?$/i;
const NODE_PRELOAD_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
const NODE_VALUE_FLAGS = new Set([...NODE_PRELOAD_FLAGS, '-C', '--conditions', '--input-type', '--env-file', '--title', '--inspect-port', '--disable-warning', '--watch-path', '--redirect-warnings', '--stack-size', '--diagnostic-dir', '--report-dir', '--test-reporter', '--test-reporter-destination', '--test-name-pattern']);
const PYTHON_VALUE_FLAGS = new Set(['-W', '-X', '--check-hash-based-pycs']);
const MCP_COMMAND = /(?:^|[\s/\\])(@modelcontextprotocol\/server-[\w.-]+|mcp-server-[\w.-]+|mcp_server_[\w.]+)/;
const UVX_MCP = /(?:^|[\s/\\])(?:uvx|pipx\s+run|uv\s+tool\s+run)\s+(?:-\S+\s+)*(mcp[-_][\w.-]+|[\w.-]+[-_]mcp(?:[-_][\w.-]+)?)(?=\s|$)/;
const SCRIPT_EXTENSION = /\.(m?js|cjs|ts|py)$/;
const MAX_SCRIPT_BYTES = 512 * 1024;

interface Seen {
  version?: string;
  category: Fingerprint['category'];
}

/** What one process turned out to be, before it becomes a finding. */
interface Classified {
  runtime?: 'node' | 'python';
  script?: string;
  module?: string;
  project?: string;
  agentCli?: string;
  mcpServer?: string | true;
  frameworks: Map<string, Seen>;
  evidence: string[];
  securedBy: string[];
  preloads: string[];
  /** The process is agentguard itself (its CLI or sidecar), not an agent. */
  isAgentguard?: boolean;
}

/** Caches shared by all processes of one scan (many processes run from the same project). */
class Lookup {
  private files = new Map<string, Promise<string | undefined>>();
  constructor(readonly skipped: Skipped[]) {}

  /** File text, or undefined when absent; unreadable files become Skipped entries. */
  text(path: string, what = path): Promise<string | undefined> {
    let cached = this.files.get(path);
    if (!cached) {
      // Regular files only: a FIFO named package.json or app.py must not stall the scan.
      cached = readRegularFile(path, { truncate: true }).then(
        (t) => t,
        (error: NodeJS.ErrnoException) => {
          const notRead = notReadReason(error);
          if (notRead !== undefined) this.skipped.push({ what, reason: notRead });
          else if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') this.skipped.push({ what, reason: reasonOf(error).replace('the process exited during the scan', 'missing') });
          return undefined;
        },
      );
      this.files.set(path, cached);
    }
    return cached;
  }

  async json(path: string): Promise<Record<string, unknown> | undefined> {
    const text = await this.text(path);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    } catch {
      if (!this.skipped.some((s) => s.what === path)) this.skipped.push({ what: path, reason: 'malformed JSON' });
      return undefined;
    }
  }

  /** The nearest package.json at or above `dir`. */
  async project(dir: string): Promise<{ dir: string; pkg: Record<string, unknown> } | undefined> {
    for (let current = dir; ; current = dirname(current)) {
      if (basename(current) !== 'node_modules') {
        const pkg = await this.json(join(current, 'package.json'));
        if (pkg) return { dir: current, pkg };
      }
      if (dirname(current) === current) return undefined;
    }
  }

  /** The package Node would resolve from `dir`, with its version, or undefined when it is not installed. */
  async installed(dir: string, name: string): Promise<{ path: string; version?: string } | undefined> {
    for (let current = dir; ; current = dirname(current)) {
      if (basename(current) !== 'node_modules') {
        const path = join(current, 'node_modules', name, 'package.json');
        const pkg = await this.json(path);
        if (pkg) return { path, version: typeof pkg.version === 'string' ? pkg.version : undefined };
      }
      if (dirname(current) === current) return undefined;
    }
  }
}

const base = (path: string | undefined) => (path ? basename(path.split(' ')[0]) : '');

function parseNodeArgs(argv: readonly string[]): { script?: string; preloads: string[]; evaluates: boolean } {
  const preloads: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return { script: argv[i + 1], preloads, evaluates: false };
    if (['-e', '--eval', '-p', '--print'].includes(arg)) return { preloads, evaluates: true };
    if (!arg.startsWith('-')) return { script: arg, preloads, evaluates: false };
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    if (NODE_PRELOAD_FLAGS.has(flag)) {
      const value = inline ?? argv[++i];
      if (value) preloads.push(value);
    } else if (inline === undefined && NODE_VALUE_FLAGS.has(flag)) i++;
  }
  return { preloads, evaluates: false };
}

function parsePythonArgs(argv: readonly string[]): { script?: string; module?: string } {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-c' || /^-[a-zA-Z]*c$/.test(arg)) return {};
    const moduleFlag = /^-[a-zA-Z]*m(.*)$/.exec(arg);
    if (moduleFlag && !arg.startsWith('--')) return { module: moduleFlag[1] || argv[i + 1] };
    if (PYTHON_VALUE_FLAGS.has(arg)) i++;
    else if (!arg.startsWith('-')) return { script: arg };
  }
  return {};
}

function addFramework(c: Classified, fp: Fingerprint, version?: string): void {
  const seen = c.frameworks.get(fp.name);
  if (!seen) c.frameworks.set(fp.name, { version, category: fp.category });
  else if (!seen.version && version) seen.version = version;
}

async function classifyNode(p: ProcessInfo, c: Classified, lookup: Lookup): Promise<void> {
  const { script, preloads, evaluates } = parseNodeArgs(p.argv);
  for (const spec of preloads) {
    c.preloads.push(spec);
    const fp = byNpmPackage(packageOfSpecifier(spec) ?? '');
    if (fp) {
      addFramework(c, fp);
      c.evidence.push(`node preloads ${spec} (${fp.name})`);
    }
  }
  // With no script, `node -e` and the REPL resolve packages from the working folder. A process that rewrote its
  // title (`npm exec …`) has no readable arguments: its project is not guessed from the folder it runs in.
  let from = evaluates || (p.argv.length === 1 && NODE_EXE.test(base(p.argv[0]))) ? p.cwd : undefined;
  let insidePackage = false;
  if (script) {
    const path = isAbsolute(script) ? script : p.cwd ? resolve(p.cwd, script) : undefined;
    c.script = path ?? script;
    if (path) {
      const real = await realpath(path).catch(() => path);
      from = dirname(real);
      insidePackage = real.split(/[\\/]/).includes('node_modules');
      c.evidence.push(`command line runs node with script ${real}`);
    }
  }
  if (!from) return;
  const project = await lookup.project(from);
  if (project) {
    c.project = project.dir;
    if (project.pkg.name === 'agentguard') c.isAgentguard = true;
    // A tool run from node_modules (vitest, tsx, an MCP server package) loads what its own package declares; the
    // other packages installed next to it say nothing about it. Its devDependencies are not installed.
    const fields = insidePackage ? ['dependencies', 'optionalDependencies', 'peerDependencies'] : ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
    for (const field of fields) {
      const deps = project.pkg[field];
      if (!deps || typeof deps !== 'object') continue;
      for (const [name, range] of Object.entries(deps as Record<string, unknown>)) {
        const fp = byNpmPackage(name);
        if (!fp) continue;
        const installed = await lookup.installed(from, name);
        addFramework(c, fp, installed?.version ?? (typeof range === 'string' ? range : undefined));
        c.evidence.push(`${join(project.dir, 'package.json')} ${field} has ${name} ${String(range)}`);
        // A declared MCP SDK makes the script an MCP server; one pulled in transitively does not.
        if (fp.category === 'mcp-sdk') c.mcpServer ??= true;
      }
    }
  }
  if (insidePackage) return;
  const names = FINGERPRINTS.flatMap((fp) => (fp.npm ?? []).map((name) => ({ fp, name })));
  const found = await Promise.all(names.map(async ({ fp, name }) => ({ fp, name, installed: await lookup.installed(from!, name) })));
  for (const { fp, name, installed } of found) {
    if (!installed) continue;
    addFramework(c, fp, installed.version);
    c.evidence.push(`${installed.path}: ${name} ${installed.version ?? '(no version)'} is installed`);
  }
}

async function classifyPython(p: ProcessInfo, c: Classified, lookup: Lookup): Promise<void> {
  const { script, module } = parsePythonArgs(p.argv);
  const modules: string[] = [];
  if (module) {
    c.module = module;
    modules.push(module);
    c.evidence.push(`command line runs python -m ${module}`);
  }
  if (script) {
    const path = isAbsolute(script) ? script : p.cwd ? resolve(p.cwd, script) : undefined;
    c.script = path ?? script;
    const text = path ? await lookup.text(path) : undefined;
    if (text !== undefined) {
      for (const imported of pythonImports(text.slice(0, MAX_SCRIPT_BYTES))) {
        if (!byPythonModule(imported)) continue;
        modules.push(imported);
        c.evidence.push(`${path} imports ${imported}`);
      }
    }
  }
  for (const m of modules) {
    const fp = byPythonModule(m);
    if (!fp) continue;
    addFramework(c, fp);
    if (fp.category === 'mcp-sdk') c.mcpServer ??= true;
  }
}

async function classify(p: ProcessInfo, lookup: Lookup): Promise<Classified> {
  const c: Classified = { frameworks: new Map(), evidence: [], securedBy: [], preloads: [] };
  const names = [base(p.exe), base(p.argv[0])];
  if (names.some((n) => NODE_EXE.test(n))) {
    c.runtime = 'node';
    await classifyNode(p, c, lookup);
  } else if (names.some((n) => PYTHON_EXE.test(n))) {
    c.runtime = 'python';
    await classifyPython(p, c, lookup);
  }
  const candidates = [...names, base(c.script).replace(SCRIPT_EXTENSION, '')];
  const cli = AGENT_CLIS.find((a) => a.executables.some((e) => candidates.includes(e)));
  if (cli) {
    c.agentCli = cli.name;
    c.evidence.push(`executable name ${candidates.find((n) => cli.executables.includes(n))} is ${cli.name}`);
  }
  const command = p.argv.join(' ');
  const mcp = MCP_COMMAND.exec(command) ?? UVX_MCP.exec(command);
  if (mcp) {
    c.mcpServer = mcp[1];
    c.evidence.push(`command line runs the MCP server package ${mcp[1]}`);
  }
  if (c.agentCli) c.mcpServer = undefined;
  if (c.frameworks.has('agentguard')) c.securedBy.push('it loads agentguard');
  return c;
}

/**
 * Whether the environment wires the process to an agentguard sidecar: a non-empty AGENTGUARD_TOKEN and an http(s)
 * AGENTGUARD_SIDECAR_URL, both. `problem` says what is missing when only part of it is there.
 */
function sidecarWiring(p: ProcessInfo): { ok: boolean; problem?: string } {
  const env = p.agentguardEnv;
  if (env === undefined || (env.token === 'absent' && env.sidecarUrl === 'absent')) return { ok: false };
  const problems: string[] = [];
  if (env.token === 'absent') problems.push(`${TOKEN_ENV} is not set`);
  if (env.token === 'empty') problems.push(`${TOKEN_ENV} is empty`);
  if (env.sidecarUrl === 'absent') problems.push(`${SIDECAR_URL_ENV} is not set`);
  if (env.sidecarUrl === 'invalid') problems.push(`${SIDECAR_URL_ENV} is not an http(s) URL`);
  return problems.length === 0 ? { ok: true } : { ok: false, problem: problems.join('; ') };
}

function toFinding(p: ProcessInfo, c: Classified): ScanFinding | undefined {
  const envNames = p.envNames ?? [];
  const credentialEnv = envNames.filter((n) => LLM_CREDENTIAL_ENV.some((r) => r.test(n))).sort();
  const guardEnv = envNames.filter((n) => AGENTGUARD_ENV.includes(n));
  const wiring = sidecarWiring(p);
  const frameworks = [...c.frameworks].filter(([, s]) => s.category !== 'agentguard');
  const isAgent = Boolean(c.agentCli || c.mcpServer || frameworks.length > 0);
  if (c.isAgentguard || (!isAgent && credentialEnv.length === 0)) return undefined;

  const evidence = [...c.evidence];
  if (credentialEnv.length > 0) evidence.push(`environment has ${credentialEnv.join(', ')} (names only; values not read)`);
  if (guardEnv.length > 0) evidence.push(`environment has ${guardEnv.join(', ')}`);
  const securedBy = [...c.securedBy, ...(wiring.ok ? [`${TOKEN_ENV} and ${SIDECAR_URL_ENV} are set`] : [])];
  const secured = securedBy.length > 0;
  const notes: string[] = [];
  if (!secured) {
    notes.push(credentialEnv.length > 0 ? 'holds LLM credentials and does not go through agentguard' : 'does not go through agentguard');
    if (wiring.problem) notes.push(`not secured although agentguard variables are set: ${wiring.problem}`);
  }
  if (p.envNames === undefined) notes.push('environment names could not be read, so credentials and agentguard settings are unknown');

  const target = c.module ? `-m ${c.module}` : c.script ? basename(c.script) : '';
  const program = base(p.argv[0]) || p.name;
  const label = c.agentCli
    ? c.agentCli
    : typeof c.mcpServer === 'string'
      ? `MCP server ${c.mcpServer}`
      : `${program}${target ? ` ${target}` : ''}${c.mcpServer ? ' (MCP server)' : ''}`;
  return {
    id: `process:${p.pid}:${p.startTime ?? '?'}`,
    kind: isAgent ? 'agent-process' : 'credential-process',
    name: label,
    frameworks: frameworks.map(([name, s]) => (s.version ? { name, version: s.version } : { name })),
    location: `pid ${p.pid}`,
    status: secured ? 'secured' : 'unsecured',
    risk: secured ? 'low' : credentialEnv.length > 0 ? 'high' : 'medium',
    evidence: [...evidence, ...securedBy.map((s) => `secured: ${s}`)],
    notes,
    details: {
      pid: p.pid,
      ppid: p.ppid,
      command: maskCommand(p.argv),
      cwd: p.cwd,
      credentialEnv,
      user: p.user,
      exe: p.exe,
      ...(c.runtime ? { runtime: c.runtime } : {}),
      ...(c.script ? { script: c.script } : {}),
      ...(c.module ? { module: c.module } : {}),
      ...(c.project ? { project: c.project } : {}),
      ...(c.agentCli ? { agentCli: c.agentCli } : {}),
      ...(c.mcpServer ? { mcpServer: true, ...(typeof c.mcpServer === 'string' ? { mcpPackage: c.mcpServer } : {}) } : {}),
      ...(c.preloads.length > 0 ? { preloads: c.preloads } : {}),
      ...(guardEnv.length > 0 ? { agentguardEnv: guardEnv } : {}),
    },
  };
}

/** One Skipped entry per kind of problem, with a count and a few example pids. */
function summarise(problems: ReadProblem[]): Skipped[] {
  const groups = new Map<string, ReadProblem[]>();
  for (const problem of problems) {
    const key = `${problem.part}\0${problem.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), problem]);
  }
  return [...groups.values()].map((group) => {
    const pids = group.map((g) => g.pid);
    const examples = `pid${pids.length > 1 ? 's' : ''} ${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ', …' : ''}`;
    const count = `${pids.length} process${pids.length > 1 ? 'es' : ''}`;
    const what = group[0].part === 'details' ? `${count} (${examples})` : `${group[0].part} of ${count} (${examples})`;
    return { what, reason: group[0].reason };
  });
}

export async function scanProcesses(options: ScanOptions): Promise<ScanSection> {
  const skipped: Skipped[] = [];
  let listing: ProcessListing;
  try {
    if (options.platform === 'linux') {
      listing = await listLinuxProcesses(options.procRoot, options.pids);
    } else {
      listing = await listPsProcesses(options.pids);
      skipped.push({
        what: 'environment variable names and working folders of processes',
        reason: `cannot be read on ${options.platform}: only command lines are inspected, so processes holding LLM credentials are not found`,
      });
      if (options.platform === 'win32') skipped.push({ what: 'process command lines', reason: 'not available on win32: only executable names are inspected' });
    }
  } catch (error) {
    return { findings: [], skipped: [{ what: 'processes', reason: `could not be listed: ${reasonOf(error)}` }] };
  }
  options.progress?.(`classifying ${listing.processes.length} processes`);
  const lookup = new Lookup(skipped);
  const classified = await mapLimit(listing.processes, 8, async (p) => toFinding(p, await classify(p, lookup)));
  const findings = classified.filter((f): f is ScanFinding => f !== undefined);
  return {
    findings,
    skipped: [...skipped, ...summarise(listing.problems)],
    // Every process was listed (not only some pids): one found before and not now has exited.
    ...(options.pids === undefined ? { completeKinds: ['agent-process', 'credential-process'] as FindingKind[] } : {}),
    notInspected: [...new Set(listing.problems.filter((p) => p.part === 'details').map((p) => `process:${p.pid}:`))],
  };
}

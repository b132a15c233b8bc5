/**
 * Projects on disk: walks the given folders, finds Node and Python projects, and reports those whose dependencies
 * or imports reveal agent frameworks, LLM SDKs or MCP SDKs, as secured (they use agentguard) or unsecured.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { byNpmPackage, byPypiPackage, byPythonModule, type Fingerprint } from './fingerprints.js';
import {
  fsReason,
  parseToml,
  pipfileDependencies,
  pyprojectDependencies,
  readRequirements,
  setupPyDependencies,
  type PythonDependency,
} from './python-deps.js';
import { PROJECT_CONFIG_MARKERS } from './mcp/clients.js';
import { parseJsonc } from './mcp/jsonc.js';
import { mapLimit } from './process-info.js';
import { readRegularFile } from './read-regular.js';
import { JS_EXTENSIONS, jsImports, PY_EXTENSIONS, pythonImports } from './source-imports.js';
import type { Risk, ScanFinding, ScanOptions, ScanSection, Skipped } from './types.js';
import { isPlainObject } from '../core/plain-object.js';

export interface ProjectScanLimits {
  /** Folder levels below each path to enter (default 6). */
  maxDepth?: number;
  /** Directory entries to look at under each path before stopping (default 20,000). */
  maxEntries?: number;
  /** JS/TS files, and separately Python files, read per project for imports (default 200). */
  maxSourceFiles?: number;
}

/** A dependency that matched a fingerprint; kept in `details.packages` for the AI bill of materials. */
export interface ProjectPackage {
  ecosystem: 'npm' | 'pypi';
  name: string;
  /** Framework or SDK name from fingerprints.ts. */
  framework: string;
  /** The declared specifier (`^0.3.0`, `>=1.2`). */
  declared?: string;
  /** An exact version: the installed one when found, else a pinned declaration (`==1.2`). */
  version?: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', 'venv', '__pycache__', 'dist', 'build']);
const MANIFESTS = ['package.json', 'pyproject.toml', 'Pipfile', 'setup.py'];
const isRequirements = (name: string) => /^requirements.*\.txt$/i.test(name);
const rank = (name: string) => (name === 'requirements.txt' ? 0 : 1);
/** Bytes of each source file read for imports; imports sit at the top. */
const SOURCE_HEAD_BYTES = 256 * 1024;

interface ProjectDraft {
  dir: string;
  /** The scan path it was found under (installed packages are looked up to here). */
  root: string;
  names: Set<string>;
  jsFiles: string[];
  pyFiles: string[];
}

export interface ProjectScanSection extends ScanSection {
  /** Folders under the paths that hold a project-level MCP config (`.mcp.json`, `.cursor/`, `.vscode/`, …). */
  mcpConfigDirs: string[];
}

export async function scanProjects(options: ScanOptions & ProjectScanLimits): Promise<ProjectScanSection> {
  const limits = { maxDepth: options.maxDepth ?? 6, maxEntries: options.maxEntries ?? 20_000, maxSourceFiles: options.maxSourceFiles ?? 200 };
  const skipped: Skipped[] = [];
  const seenDirs = new Set<string>();
  const drafts: ProjectDraft[] = [];
  const mcpConfigDirs: string[] = [];
  for (const path of options.paths) {
    const root = resolve(path);
    options.progress?.(`looking for projects under ${root}`);
    const before = seenDirs.size;
    drafts.push(...(await walk(root, limits, seenDirs, skipped, mcpConfigDirs)));
    options.scanned?.(`${root} (projects: ${seenDirs.size - before} folder${seenDirs.size - before === 1 ? '' : 's'} walked)`);
  }
  options.progress?.(`reading ${drafts.length} project${drafts.length === 1 ? '' : 's'}`);
  const findings = await mapLimit(drafts, 4, (draft) => analyzeProject(draft, limits.maxSourceFiles, skipped));
  return { findings: findings.filter((f): f is ScanFinding => f !== undefined), skipped, mcpConfigDirs };
}

async function walk(
  root: string,
  limits: Required<ProjectScanLimits>,
  seenDirs: Set<string>,
  skipped: Skipped[],
  mcpConfigDirs: string[] = [],
): Promise<ProjectDraft[]> {
  const drafts: ProjectDraft[] = [];
  const queue: Array<{ dir: string; depth: number; project?: ProjectDraft }> = [{ dir: root, depth: 0 }];
  let entries = 0;
  // Breadth first, so that when the entry limit stops the walk, the shallow projects have been seen.
  for (let q = 0; q < queue.length; q++) {
    const { dir, depth } = queue[q];
    let project = queue[q].project;
    if (seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    let dirents;
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      skipped.push({ what: dir, reason: fsReason(error) });
      continue;
    }
    const names = new Set(dirents.map((d) => d.name));
    if ([...PROJECT_CONFIG_MARKERS].some((m) => names.has(m))) mcpConfigDirs.push(dir);
    const isProject = MANIFESTS.some((m) => names.has(m)) || [...names].some(isRequirements);
    const hasPython = dirents.some((d) => d.isFile() && PY_EXTENSIONS.includes(extname(d.name)));
    // A folder of Python scripts outside any project counts as one, so script-only agents are found too.
    if (isProject || (!project && hasPython)) {
      project = { dir, root, names, jsFiles: [], pyFiles: [] };
      drafts.push(project);
    }
    for (const d of dirents) {
      if (++entries > limits.maxEntries) {
        skipped.push({ what: root, reason: `stopped after ${limits.maxEntries.toLocaleString('en-US')} entries under ${root}` });
        return drafts;
      }
      const path = join(dir, d.name);
      if (d.isDirectory()) {
        const hidden = d.name.startsWith('.') && d.name !== '.agentguard';
        if (!hidden && !SKIP_DIRS.has(d.name) && depth < limits.maxDepth) queue.push({ dir: path, depth: depth + 1, project });
      } else if (d.isFile() && project) {
        const ext = extname(d.name);
        if (JS_EXTENSIONS.includes(ext) && !d.name.endsWith('.d.ts') && project.jsFiles.length < limits.maxSourceFiles) {
          project.jsFiles.push(path);
        } else if (PY_EXTENSIONS.includes(ext) && project.pyFiles.length < limits.maxSourceFiles) {
          project.pyFiles.push(path);
        }
      }
    }
  }
  return drafts;
}

interface Hit {
  fingerprint: Fingerprint;
  evidence: string;
  pkg?: ProjectPackage;
  /** From a source import, not a declaration: evidence lines are capped per fingerprint. */
  importedBy?: string;
}

async function analyzeProject(draft: ProjectDraft, maxSourceFiles: number, skipped: Skipped[]): Promise<ScanFinding | undefined> {
  const { dir, names } = draft;
  const hits: Hit[] = [];
  const dependencyFiles: string[] = [];
  const languages = new Set<string>();
  let projectName: string | undefined;

  if (names.has('package.json')) {
    dependencyFiles.push('package.json');
    languages.add('javascript');
    const manifest = await readJson(join(dir, 'package.json'), skipped);
    if (manifest) {
      if (typeof manifest.name === 'string') projectName = manifest.name;
      hits.push(...(await npmHits(manifest, draft)));
      const deps = { ...asRecord(manifest.dependencies), ...asRecord(manifest.devDependencies) };
      if ('typescript' in deps) languages.add('typescript');
    }
  }

  const pythonDeps: PythonDependency[] = [];
  const seenRequirements = new Set<string>();
  // requirements.txt first, so the files it includes are read in its order.
  const requirementFiles = [...names].filter(isRequirements).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const name of requirementFiles) {
    const parsed = await readRequirements(join(dir, name), dir, seenRequirements);
    for (const f of parsed.files) if (!dependencyFiles.includes(f)) dependencyFiles.push(f);
    for (const p of parsed.problems) skipped.push({ what: p.file, reason: p.reason });
    pythonDeps.push(...parsed.dependencies);
  }
  if (names.has('pyproject.toml')) {
    dependencyFiles.push('pyproject.toml');
    const toml = await readToml(join(dir, 'pyproject.toml'), skipped);
    if (toml) {
      const parsed = pyprojectDependencies(toml);
      projectName ??= parsed.name;
      pythonDeps.push(...parsed.dependencies);
    }
  }
  if (names.has('Pipfile')) {
    dependencyFiles.push('Pipfile');
    const toml = await readToml(join(dir, 'Pipfile'), skipped);
    if (toml) pythonDeps.push(...pipfileDependencies(toml));
  }
  if (names.has('setup.py')) {
    dependencyFiles.push('setup.py');
    const text = await readText(join(dir, 'setup.py'), skipped);
    if (text !== undefined) pythonDeps.push(...setupPyDependencies(text));
  }
  for (const dep of pythonDeps) {
    const fingerprint = byPypiPackage(dep.name);
    if (!fingerprint) continue;
    const pkg: ProjectPackage = { ecosystem: 'pypi', name: dep.name, framework: fingerprint.name, declared: dep.spec, version: dep.version };
    hits.push({ fingerprint, pkg, evidence: `${dep.source}: ${dep.name}${dep.spec ? ` ${dep.spec}` : ''}` });
  }
  if (pythonDeps.length > 0 || draft.pyFiles.length > 0 || dependencyFiles.some((f) => f !== 'package.json')) languages.add('python');
  if (draft.jsFiles.some((f) => /\.[mc]?tsx?$/.test(f))) languages.add('typescript');
  else if (draft.jsFiles.length > 0) languages.add('javascript');

  hits.push(...(await sourceHits(draft, skipped)));

  const securedBy: string[] = [];
  if (names.has('agentguard.config.json')) securedBy.push('agentguard.config.json is present');
  if (names.has('agentguard') && (await isFile(join(dir, 'agentguard', 'policy.yaml')))) securedBy.push('agentguard/policy.yaml is present');
  const usesAgentguard = hits.some((h) => h.fingerprint.category === 'agentguard');
  const aiHits = hits.filter((h) => h.fingerprint.category !== 'agentguard');
  if (aiHits.length === 0 && !usesAgentguard) return undefined;

  const secured = usesAgentguard || securedBy.length > 0;
  const hasFramework = aiHits.some((h) => h.fingerprint.category === 'agent-framework');
  const risk: Risk = secured ? 'info' : hasFramework ? 'medium' : 'low';
  const packages = hits.flatMap((h) => (h.pkg ? [h.pkg] : []));

  return {
    id: `project:${dir}`,
    kind: 'project',
    name: projectName ?? basename(dir),
    frameworks: frameworksOf(aiHits),
    location: dir,
    status: secured ? 'secured' : 'unsecured',
    risk,
    evidence: [...evidenceOf(hits), ...securedBy],
    notes: secured ? [] : [`uses ${hasFramework ? 'an agent framework' : 'an LLM or MCP SDK'} without agentguard`],
    details: {
      path: dir,
      languages: [...languages].sort(),
      dependencyFiles,
      packages,
      sourceFilesScanned: { javascript: draft.jsFiles.length, python: draft.pyFiles.length },
      sourceFileLimit: maxSourceFiles,
    },
  };
}

async function npmHits(manifest: Record<string, unknown>, draft: ProjectDraft): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    for (const [name, spec] of Object.entries(asRecord(manifest[field]))) {
      const fingerprint = byNpmPackage(name);
      if (!fingerprint) continue;
      const declared = typeof spec === 'string' ? spec : undefined;
      const installed = await installedVersion(draft, name);
      const version = installed?.version ?? (declared && /^\d+\.\d+\.\d+\S*$/.test(declared) ? declared : undefined);
      let evidence = `package.json ${field}: ${name}${declared ? ` ${declared}` : ''}`;
      if (installed) evidence += ` (installed ${installed.version}, read from ${installed.where})`;
      hits.push({ fingerprint, evidence, pkg: { ecosystem: 'npm', name, framework: fingerprint.name, declared, version } });
    }
  }
  return hits;
}

/** The version in `node_modules/<pkg>/package.json`, in the project or a parent up to the scan path (hoisted workspaces). */
async function installedVersion(draft: ProjectDraft, pkg: string): Promise<{ version: string; where: string } | undefined> {
  for (let dir = draft.dir; ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', ...pkg.split('/'), 'package.json');
    try {
      const parsed = JSON.parse(await readRegularFile(file)) as { version?: unknown };
      if (typeof parsed.version === 'string') return { version: parsed.version, where: relative(draft.dir, file) };
    } catch {
      // not installed here (or unreadable): the declared version stands
    }
    if (dir === draft.root || !dir.startsWith(draft.root + sep) || dirname(dir) === dir) return undefined;
  }
}

async function sourceHits(draft: ProjectDraft, skipped: Skipped[]): Promise<Hit[]> {
  const hits: Hit[] = [];
  const jsTexts = await mapLimit(draft.jsFiles, 16, (f) => readHead(f, skipped));
  draft.jsFiles.forEach((file, n) => {
    const text = jsTexts[n];
    if (text === undefined) return;
    for (const pkg of jsImports(text)) {
      const fingerprint = byNpmPackage(pkg);
      const rel = relative(draft.dir, file);
      if (fingerprint) hits.push({ fingerprint, evidence: `${rel} imports ${pkg}`, importedBy: rel });
    }
  });
  const pyTexts = await mapLimit(draft.pyFiles, 16, (f) => readHead(f, skipped));
  for (const [n, file] of draft.pyFiles.entries()) {
    const text = pyTexts[n];
    if (text === undefined) continue;
    for (const module of pythonImports(text)) {
      const fingerprint = byPythonModule(module);
      if (!fingerprint || (await isLocalModule(module, dirname(file), draft.dir))) continue;
      const rel = relative(draft.dir, file);
      hits.push({ fingerprint, evidence: `${rel} imports ${module}`, importedBy: rel });
    }
  }
  return hits;
}

/** A module the project itself defines (`agents/`, `openai.py`) shadows the package of the same name. */
async function isLocalModule(module: string, fileDir: string, projectDir: string): Promise<boolean> {
  const top = module.split('.')[0];
  for (const dir of new Set([fileDir, projectDir])) {
    if ((await isFile(join(dir, `${top}.py`))) || (await isDir(join(dir, top)))) return true;
  }
  return false;
}

function frameworksOf(hits: Hit[]): ScanFinding['frameworks'] {
  const out = new Map<string, { name: string; version?: string }>();
  for (const h of hits) {
    const name = h.fingerprint.name;
    const version = h.pkg?.version ?? h.pkg?.declared;
    const known = out.get(name);
    if (!known) out.set(name, version ? { name, version } : { name });
    else if (!known.version && version) known.version = version;
  }
  return [...out.values()];
}

/** Every declaration, and up to 3 importing files per framework (the rest counted), so evidence stays readable. */
function evidenceOf(hits: Hit[]): string[] {
  const lines: string[] = [];
  const importers = new Map<string, Set<string>>();
  for (const h of hits) {
    if (!h.importedBy) {
      lines.push(h.evidence);
      continue;
    }
    const files = importers.get(h.fingerprint.name) ?? new Set<string>();
    importers.set(h.fingerprint.name, files);
    if (files.size < 3 && !files.has(h.importedBy)) lines.push(h.evidence);
    files.add(h.importedBy);
  }
  for (const [name, files] of importers) {
    if (files.size > 3) lines.push(`${files.size - 3} more files import ${name}`);
  }
  return [...new Set(lines)];
}

// ---------- reading, never throwing for I/O ----------

async function readText(file: string, skipped: Skipped[]): Promise<string | undefined> {
  try {
    return await readRegularFile(file);
  } catch (error) {
    skipped.push({ what: file, reason: fsReason(error) });
    return undefined;
  }
}

async function readHead(file: string, skipped: Skipped[]): Promise<string | undefined> {
  try {
    return await readRegularFile(file, { maxBytes: SOURCE_HEAD_BYTES, truncate: true });
  } catch (error) {
    skipped.push({ what: file, reason: fsReason(error) });
    return undefined;
  }
}

async function readJson(file: string, skipped: Skipped[]): Promise<Record<string, unknown> | undefined> {
  const text = await readText(file, skipped);
  if (text === undefined) return undefined;
  // npm reads a package.json that starts with a byte order mark; the message never quotes the file (it may hold a token).
  const parsed = parseJsonc(text.replace(/^\uFEFF/, ''), { strict: true });
  if (!parsed.ok) skipped.push({ what: file, reason: `malformed: not valid JSON: ${parsed.message}` });
  else if (isPlainObject(parsed.value)) return parsed.value;
  else skipped.push({ what: file, reason: 'malformed: not a JSON object' });
  return undefined;
}

async function readToml(file: string, skipped: Skipped[]): Promise<ReturnType<typeof parseToml> | undefined> {
  const text = await readText(file, skipped);
  if (text === undefined) return undefined;
  try {
    return parseToml(text);
  } catch (error) {
    skipped.push({ what: file, reason: `malformed: ${(error as Error).message}` });
    return undefined;
  }
}

const asRecord = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

import { lstat, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONFIG_FILE, DEFAULT_DATA_DIR, DEFAULT_POLICY_DIR, type ProjectConfig } from '../config/project-config.js';
import { AgentGuardError } from '../errors.js';
import { compilePolicy } from '../policy/compile.js';
import { parseSourceText } from '../policy/load.js';
import { gitignoreAddition } from './gitignore.js';
import { agentIdProblem, policyNameProblem } from './names.js';
import { isTemplateId, readTemplate, TEMPLATE_FILES, TEMPLATE_IDS, type TemplateId } from './templates.js';

/** What `agentguard init` is asked to do, after prompts and defaults. */
export interface InitOptions {
  /** Project folder, absolute or relative to the current directory; created when missing. */
  dir: string;
  template: TemplateId;
  /** Policy name written into the policy (and recorded in every decision). */
  name: string;
  /** Agent id written into agentguard.config.json. */
  agentId: string;
}

/** What happened to one path, as reported by `agentguard init --json`. */
export type InitFileAction = 'created' | 'overwritten' | 'updated';

export interface InitFile {
  /** Path relative to the project folder, with `/` separators; folders end in `/`. */
  path: string;
  action: InitFileAction;
}

/** One change init will make. `exists` tells a create from an overwrite (write) or an append from a create (.gitignore). */
export type InitStep =
  | { type: 'write'; path: string; absolute: string; content: string; exists: boolean }
  | { type: 'append'; path: string; absolute: string; content: string; exists: boolean }
  | { type: 'mkdir'; path: string; absolute: string; mode: number };

/** Everything init will do in a project, computed without writing anything. */
export interface InitPlan {
  /** Absolute project folder. */
  dir: string;
  template: TemplateId;
  name: string;
  agentId: string;
  steps: InitStep[];
  /** Relative paths of existing files the plan would overwrite; init refuses them without --force. */
  conflicts: string[];
}

/** Mode of the runtime data folder: it will hold the database and signing keys. */
export const DATA_DIR_MODE = 0o700;

export const POLICY_PATH = `${DEFAULT_POLICY_DIR}/${TEMPLATE_FILES.policy}`;
export const POLICY_TEST_PATH = `${DEFAULT_POLICY_DIR}/${TEMPLATE_FILES.test}`;

/** Checks the options and the project folder, reads the template and returns the steps. Reads only; never writes. */
export async function planInit(options: InitOptions): Promise<InitPlan> {
  checkOptions(options);
  const dir = resolve(options.dir);
  const template = await readTemplate(options.template);
  const policyText = renderPolicy(template.policy, options.name, options.template);
  const config: ProjectConfig = {
    policy: POLICY_PATH,
    policyDir: DEFAULT_POLICY_DIR,
    dataDir: DEFAULT_DATA_DIR,
    agentId: options.agentId,
  };

  if ((await pathKind(dir, '.')) === 'file') throw blocked(dir, 'the project folder is a file');
  if ((await pathKind(join(dir, DEFAULT_POLICY_DIR), DEFAULT_POLICY_DIR)) === 'file') throw blocked(join(dir, DEFAULT_POLICY_DIR), `"${DEFAULT_POLICY_DIR}" must be a folder for the policy files`);

  const steps: InitStep[] = [];
  const conflicts: string[] = [];
  const files: Array<[string, string]> = [
    [CONFIG_FILE, `${JSON.stringify(config, null, 2)}\n`],
    [POLICY_PATH, policyText],
    [POLICY_TEST_PATH, template.test],
  ];
  for (const [path, content] of files) {
    const absolute = join(dir, path);
    const kind = await pathKind(absolute, path);
    if (kind === 'dir') throw blocked(absolute, `"${path}" is a folder, so init cannot write the file there`);
    if (kind === 'file') conflicts.push(path);
    steps.push({ type: 'write', path, absolute, content, exists: kind === 'file' });
  }

  const dataDir = join(dir, DEFAULT_DATA_DIR);
  const dataKind = await pathKind(dataDir, DEFAULT_DATA_DIR);
  if (dataKind === 'file') throw blocked(dataDir, `"${DEFAULT_DATA_DIR}" must be a folder for agentguard's runtime data`);
  if (dataKind === 'missing') steps.push({ type: 'mkdir', path: `${DEFAULT_DATA_DIR}/`, absolute: dataDir, mode: DATA_DIR_MODE });

  const gitignore = join(dir, '.gitignore');
  const gitignoreKind = await pathKind(gitignore, '.gitignore');
  if (gitignoreKind === 'dir') throw blocked(gitignore, '".gitignore" is a folder');
  const existing = gitignoreKind === 'file' ? await readText(gitignore) : undefined;
  const addition = gitignoreAddition(existing, DEFAULT_DATA_DIR);
  if (addition !== undefined) steps.push({ type: 'append', path: '.gitignore', absolute: gitignore, content: addition, exists: existing !== undefined });

  return { dir, template: options.template, name: options.name, agentId: options.agentId, steps, conflicts };
}

/**
 * Puts `name` into a template policy's top-level `name:` line (quoted when YAML would read it as something
 * other than that string, such as `true` or `123`) and checks that the result is a valid policy.
 */
export function renderPolicy(templateText: string, name: string, template: string): string {
  const nameLine = /^name:[^\n]*$/m;
  if (!nameLine.test(templateText)) {
    throw new AgentGuardError('TEMPLATE_BROKEN', `The "${template}" template has no top-level "name:" line`, { actions: ['Reinstall agentguard.'] });
  }
  const scalar = parseYaml(name) === name ? name : JSON.stringify(name);
  const text = templateText.replace(nameLine, () => `name: ${scalar}`);
  try {
    compilePolicy(parseSourceText(text, `templates/${template}/${TEMPLATE_FILES.policy}`));
  } catch (error) {
    throw new AgentGuardError('TEMPLATE_BROKEN', `The "${template}" template does not give a valid policy: ${(error as Error).message}`, {
      actions: ['Reinstall agentguard, or report this at the project issue tracker.'],
      cause: error,
    });
  }
  return text;
}

function checkOptions(options: InitOptions): void {
  if (!isTemplateId(options.template)) {
    throw new AgentGuardError('INIT_INVALID_OPTION', `unknown template "${options.template}"`, { actions: [`Use one of: ${TEMPLATE_IDS.join(', ')}.`] });
  }
  const nameProblem = policyNameProblem(options.name);
  if (nameProblem) throw new AgentGuardError('INIT_INVALID_OPTION', nameProblem, { actions: ['Pass --name with a name such as support-bot.'] });
  const idProblem = agentIdProblem(options.agentId);
  if (idProblem) throw new AgentGuardError('INIT_INVALID_OPTION', idProblem, { actions: ['Pass --agent-id with an id such as support-bot.'] });
}

type PathKind = 'missing' | 'file' | 'dir';

/** What is at a path; a symlink counts as what it points to, a dangling one as a file (it would be replaced). */
async function pathKind(absolute: string, shown: string): Promise<PathKind> {
  let info;
  try {
    info = await lstat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') throw blocked(absolute, `a parent of "${shown}" is a file, not a folder`);
    throw new AgentGuardError('INIT_UNREADABLE', `${absolute}: cannot be checked (${code ?? String(error)})`, {
      actions: ['Check the permissions of the project folder.'],
      cause: error,
    });
  }
  if (info.isDirectory()) return 'dir';
  if (info.isSymbolicLink()) {
    try {
      return (await stat(absolute)).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'file';
    }
  }
  return 'file';
}

async function readText(absolute: string): Promise<string> {
  try {
    return await readFile(absolute, 'utf8');
  } catch (error) {
    throw new AgentGuardError('INIT_UNREADABLE', `${absolute}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      actions: ['Check the file permissions.'],
      cause: error,
    });
  }
}

function blocked(absolute: string, why: string): AgentGuardError {
  return new AgentGuardError('INIT_PATH_BLOCKED', `${absolute}: ${why}`, {
    actions: ['Move or rename what is in the way, or run init in another folder with --dir.'],
  });
}

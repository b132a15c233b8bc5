import { AgentGuardError } from '../core/errors.js';
import { offsetToPosition } from '../core/policy/load.js';
import { readStdinText, readTextFile } from './read-input.js';

/** One action read from the user's input, with where it came from (for error messages). */
export interface ActionInput {
  source: string;
  value?: unknown;
  error?: string;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const pos = /position (\d+)/.exec(String((error as Error).message));
    const where = pos ? `:${offsetToPosition(text, Number(pos[1])).line}:${offsetToPosition(text, Number(pos[1])).column}` : '';
    throw new AgentGuardError('ACTION_NOT_JSON', `${source}${where}: the action is not valid JSON (${(error as Error).message.replace(/ in JSON at position \d+.*$/s, '')})`, {
      actions: ['Quote the JSON for your shell, e.g. --action \'{"kind":"tool","name":"kb.search"}\', or put it in a file and pass --action @file.json.'],
    });
  }
}

/** `--action '<json>'` or `--action @file.json`. */
export async function readActionFlag(flag: string): Promise<ActionInput> {
  if (flag.startsWith('@')) {
    const path = flag.slice(1);
    return { source: path, value: parseJson(await readTextFile(path, { label: 'action file' }), path) };
  }
  return { source: '--action', value: parseJson(flag, '--action') };
}

/** JSON Lines: one action per non-empty line; a bad line becomes an entry with an error, so the others still run. */
export function parseJsonLines(text: string, source: string): ActionInput[] {
  const out: ActionInput[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    try {
      out.push({ source: where, value: JSON.parse(line) });
    } catch (error) {
      out.push({ source: where, error: `not valid JSON (${(error as Error).message.replace(/ in JSON at position \d+.*$/s, '')})` });
    }
  });
  return out;
}

export async function readJsonLinesFile(path: string): Promise<ActionInput[]> {
  return parseJsonLines(await readTextFile(path, { label: 'input file' }), path);
}

/** Standard input: one JSON document, or JSON Lines. Never waits on a terminal. */
export async function readStdinActions(): Promise<ActionInput[]> {
  if (process.stdin.isTTY) {
    throw new AgentGuardError('NO_ACTION', 'no action given', {
      actions: ['Pass --action \'<json>\', --action @file.json, --input actions.jsonl, or pipe JSON into the command.'],
    });
  }
  const text = await readStdinText();
  if (text.trim() === '') {
    throw new AgentGuardError('NO_ACTION', 'standard input is empty: no action given', {
      actions: ['Pipe an action as JSON, or pass --action or --input.'],
    });
  }
  try {
    return [{ source: 'stdin', value: JSON.parse(text) }];
  } catch {
    return parseJsonLines(text, 'stdin');
  }
}

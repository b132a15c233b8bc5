/**
 * Writes docs/errors.md from the error registry (src/core/errors/): every code with its HTTP status, exit code, meaning
 * and fix, grouped by area. Run it after adding or changing a code; test/errors-registry.test.ts fails while the page
 * and the registry disagree.
 *
 *   npm run docs:errors            # rewrite the page
 *   npm run docs:errors -- --check # exit 1 when the page is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_AREAS, type ErrorSpec } from '../src/core/errors/registry.js';

export const ERRORS_DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

/** A table cell: one line, pipes escaped, and `<` outside code spans written as `&lt;` so `<folder>` is not read as HTML. */
function cell(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
  return oneLine.split('`').map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;') : part)).join('`');
}

function row(code: string, spec: ErrorSpec): string {
  return `| \`${code}\` | ${spec.status} | ${spec.exit} | ${cell(spec.meaning)} | ${cell(spec.fix)} |`;
}

/** The whole page. */
export function renderErrorsDoc(): string {
  const lines = [
    '<!-- Generated from src/core/errors/ by `npm run docs:errors`; do not edit by hand. -->',
    '# Errors',
    '',
    'Every error agentguard shows has a stable code. The same error has the same JSON shape wherever it appears: printed',
    'on stdout by a command run with `--json`, and answered by the sidecar with the HTTP status listed here:',
    '',
    '```json',
    '{ "error": { "code": "AGENT_MISMATCH", "message": "this token belongs to agent \\"bot\\" and cannot decide for agent \\"finance-bot\\"", "actions": ["Leave out action.agent.id (it is filled in from the token), or use the token of that agent."] } }',
    '```',
    '',
    '`message` says what went wrong and where; `actions` says what to do next (the fix below, or a more precise one);',
    '`details` is there when there is more for a program to read (a validation\'s `problems`, a size `limit`). Without',
    '`--json` a command prints `Error (CODE): message` and the actions under `Try this:` on stderr.',
    '',
    'Exit codes: 1 the thing checked failed (a refused token, an invalid policy, a denied action), 2 usage or input that',
    'cannot be read or used, 70 a bug in agentguard, 130 cancelled. In the SDK, every error is an `AgentGuardError` with',
    'this `code`; in sidecar mode a request the sidecar refused (4xx) denies with the sidecar\'s code as the reason code,',
    'and only a missing, late or unusable answer is `sidecar_unavailable`.',
    '',
    'To add a code: add it to its area in `src/core/errors/codes/`, throw it with `new AgentGuardError(\'CODE\', message)`',
    '(any other code does not compile), and run `npm run docs:errors`.',
  ];
  for (const [area, specs] of Object.entries(ERROR_AREAS)) {
    lines.push('', `## ${area}`, '', '| Code | HTTP | Exit | Meaning | How to fix |', '| --- | --- | --- | --- | --- |');
    for (const [code, spec] of Object.entries(specs).sort(([a], [b]) => a.localeCompare(b))) lines.push(row(code, spec as ErrorSpec));
  }
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = renderErrorsDoc();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(ERRORS_DOC, 'utf8');
    } catch {
      // A missing page is out of date.
    }
    if (current !== fresh) {
      console.error('docs/errors.md is out of date with the error registry. Run: npm run docs:errors');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(ERRORS_DOC, fresh);
    console.error('docs/errors.md: written from the error registry');
  }
}

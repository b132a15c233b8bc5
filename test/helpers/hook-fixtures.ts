import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** A payload from test/fixtures/hooks/<agent>/<file>, with its working folder and session filled in. */
export function hookFixture(agent: string, file: string, fill: { cwd: string; session: string }): Record<string, unknown> {
  const text = readFileSync(join(ROOT, 'test/fixtures/hooks', agent, file), 'utf8');
  return JSON.parse(text.replaceAll('__CWD__', fill.cwd).replaceAll('__SESSION__', fill.session)) as Record<string, unknown>;
}

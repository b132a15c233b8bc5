import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './cli.js';

/**
 * The labelled evaluation data lives outside the repository (`../shared/data` by default,
 * `AGENTGUARD_SHARED_DATA` to point elsewhere). Tests that need it use `describe.skipIf(!hasSharedData)`
 * and say why in their title, so a clone without the data still runs every other test.
 */
export const SHARED_DATA = resolve(ROOT, process.env.AGENTGUARD_SHARED_DATA ?? '../shared/data');
export const hasSharedData = existsSync(resolve(SHARED_DATA, 'eval'));
export const SKIP_REASON = `(skipped: no evaluation data at ${SHARED_DATA}; set AGENTGUARD_SHARED_DATA)`;

export function evalFile(name: string): string {
  return resolve(SHARED_DATA, 'eval', name);
}

export function readJsonl<T = Record<string, unknown>>(name: string): T[] {
  return readFileSync(evalFile(name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { makeTempDir } from './helpers/temp-dirs.js';

/**
 * Processes racing on one rate limit through one data folder (dist/): between them they never allow more than `max`
 * per window. Every process decides on the same fixed clock, so all decisions fall in one window whatever the load.
 */

const PROCESSES = 4;
const EACH = 12;
const MAX = 10;

const POLICY = (window: string) => `version: 1
name: racing
rules:
  - id: search
    effect: allow
    when: { name: web.search }
    rate: { key: [agent.id], max: ${MAX}, per: 1h, window: ${window} }
`;

function child(dataDir: string, window: string): { ready: Promise<void>; go: () => void; done: Promise<{ allowed: number; limited: number; code: number | null; stderr: string }> } {
  const dist = (file: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', file)).href);
  const script = `
    import { openEngine } from ${dist('core/engine/open-engine.js')};
    import { Policy } from ${dist('core/policy/policy.js')};
    const engine = await openEngine({ policy: Policy.parse(${JSON.stringify(POLICY(window))}), record: true, dataDir: ${JSON.stringify(dataDir)},
      now: () => new Date('2026-03-01T12:30:00.000Z') });
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    process.stdin.destroy();
    let allowed = 0, limited = 0;
    await Promise.all(Array.from({ length: ${EACH} }, async () => {
      const d = await engine.decide({ agent: { id: 'bot' }, kind: 'tool', name: 'web.search', input: { q: 'x' } });
      if (d.effect === 'allow') allowed++;
      else if (d.reasons.some((r) => r.code === 'rate_limited')) limited++;
    }));
    await engine.close();
    process.stdout.write(JSON.stringify({ allowed, limited }) + '\\n');
  `;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    proc.once('exit', () => reject(new Error(`child exited early: ${stderr}`)));
  });
  const done = new Promise<{ allowed: number; limited: number; code: number | null; stderr: string }>((resolve) =>
    proc.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '{}';
      const parsed = last.startsWith('{') ? (JSON.parse(last) as { allowed: number; limited: number }) : { allowed: NaN, limited: NaN };
      resolve({ ...parsed, code, stderr });
    }),
  );
  return { ready, go: () => proc.stdin.end('go\n'), done };
}

describe('rate limits across processes', () => {
  for (const window of ['sliding', 'fixed']) {
    it(`${PROCESSES} processes deciding at once allow exactly max between them (${window} window)`, async () => {
      expect(existsSync(join(ROOT, 'dist/core/rate/enforce.js')), 'run `npm run build` first: the processes use dist/').toBe(true);
      const dataDir = join(makeTempDir('ag-rate-procs-'), 'data');
      const children = Array.from({ length: PROCESSES }, () => child(dataDir, window));
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go();
      const results = await Promise.all(children.map((c) => c.done));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const allowed = results.reduce((n, r) => n + r.allowed, 0);
      const limited = results.reduce((n, r) => n + r.limited, 0);
      expect(allowed).toBe(MAX);
      expect(limited).toBe(PROCESSES * EACH - MAX);
    }, 120_000);
  }
});

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const EXAMPLES = join(ROOT, 'examples');

/** Every example as examples/run.js finds them: a folder with an index.js, except shared code (_lib) and python/. */
const examples = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('_') && e.name !== 'python' && existsSync(join(EXAMPLES, e.name, 'index.js')))
  .map((e) => e.name)
  .sort();

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('examples/', () => {
  it('has the plain-SDK, sidecar and framework examples', () => {
    expect(examples).toEqual(expect.arrayContaining(['plain-sdk', 'sidecar', 'sql-agent-langchain']));
  });

  it.each(examples)('node examples/%s runs offline and shows an allowed call, a denial, a redaction and an approval', async (name) => {
    const { code, stdout, stderr } = await node([join('examples', name)]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/Error|at .+:\d+:\d+/) });
    for (const label of ['allowed', 'denied', 'redacted', 'approved']) expect(stdout).toMatch(new RegExp(`^${label}:\\s+\\S`, 'm'));
  }, 240_000);

  it('npm run example lists the examples and refuses an unknown name', async () => {
    const list = await node(['examples/run.js']);
    expect(list.code).toBe(0);
    for (const name of examples) expect(list.stdout).toContain(`  ${name}\n`);
    const unknown = await node(['examples/run.js', 'no-such-example']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No example named "no-such-example". Choose one of: .*sql-agent-langchain/);
  });
});

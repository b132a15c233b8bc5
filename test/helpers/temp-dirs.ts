import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const created: string[] = [];

/**
 * A new folder in the system's temporary directory, removed with everything in it after the test file's own
 * afterAll hooks (which stop the daemons that write there) have run. test/global-setup.ts fails the run when a
 * folder made some other way is left behind.
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

// Registered while the test file is collected, before the file's own hooks: after-hooks run last-registered first.
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

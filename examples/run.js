// `npm run example <name>` (the package's build runs first): runs examples/<name> as `node examples/<name>` would.
// Without a name, lists the examples.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Every folder with an index.js, except shared code (`_lib`) and the Python examples (`python`, run with python). */
const examples = readdirSync(here, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('_') && e.name !== 'python' && existsSync(join(here, e.name, 'index.js')))
  .map((e) => e.name)
  .sort();

const name = process.argv[2];
if (name === undefined) {
  console.log(`Examples (npm run example <name>, or node examples/<name> after npm run build):\n${examples.map((e) => `  ${e}`).join('\n')}`);
} else if (!examples.includes(name)) {
  console.error(`No example named "${name}". Choose one of: ${examples.join(', ')}`);
  process.exitCode = 2;
} else {
  const run = spawnSync(process.execPath, [join(here, name)], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
}

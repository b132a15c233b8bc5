// `npm run contracts:update`: rewrites every generated contract file (schemas/*.schema.json, schemas/cli/*.json, the
// command and OpenAPI snapshots, the SDK's precompiled Decision validator) from the code, and says which changed.
import { fileURLToPath } from 'node:url';
import { writeStaleFiles } from '../generated-files.js';

// oclif reads the commands from src/ (through tsx, which runs this script) rather than a possibly stale dist/.
process.env.NODE_ENV ??= 'development';
const { buildArtifacts } = await import('./artifacts.js');

const root = fileURLToPath(new URL('../..', import.meta.url));
const changed = writeStaleFiles(root, await buildArtifacts(root));
process.stdout.write(changed.length === 0 ? 'Every contract file is up to date.\n' : `Updated:\n${changed.map((p) => `  ${p}`).join('\n')}\nReview the diff: it is the contract change.\n`);

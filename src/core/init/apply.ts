import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, open, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AgentGuardError } from '../errors.js';
import type { InitFile, InitPlan, InitStep } from './plan.js';

/**
 * Carries out a plan. New files are created exclusively (`wx`), so a file that appeared since the plan was
 * made is never clobbered; existing files are replaced by writing a temporary file and renaming it over them
 * (a symlink is replaced, not followed). If a step fails, the files and folders this call created are removed.
 */
export async function applyInitPlan(plan: InitPlan): Promise<InitFile[]> {
  const createdFiles: string[] = [];
  const createdDirs: string[] = [];
  const done: InitFile[] = [];
  try {
    await makeDirs(plan.dir, createdDirs);
    for (const step of plan.steps) {
      await makeDirs(dirname(step.absolute), createdDirs);
      await applyStep(step, createdFiles, createdDirs);
      done.push({ path: step.path, action: actionOf(step) });
    }
    return done;
  } catch (error) {
    await rollback(createdFiles, createdDirs);
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentGuardError('INIT_WRITE_FAILED', `Cannot write the project files in ${plan.dir}: ${(error as Error).message}`, {
      actions: [
        code === 'EEXIST' ? 'A file appeared while init was running; run init again.' : 'Check that you can write to the project folder.',
        'Nothing that init created was left behind.',
      ],
      cause: error,
    });
  }
}

function actionOf(step: InitStep): InitFile['action'] {
  if (step.type === 'mkdir') return 'created';
  if (step.type === 'append') return step.exists ? 'updated' : 'created';
  return step.exists ? 'overwritten' : 'created';
}

async function applyStep(step: InitStep, createdFiles: string[], createdDirs: string[]): Promise<void> {
  switch (step.type) {
    case 'mkdir':
      await mkdir(step.absolute, { mode: step.mode });
      createdDirs.push(step.absolute);
      // mkdir's mode is filtered by the umask; set it exactly.
      await chmod(step.absolute, step.mode);
      return;
    case 'append':
      if (step.exists) await appendFile(step.absolute, step.content, 'utf8');
      else await createFile(step.absolute, step.content, createdFiles);
      return;
    case 'write':
      if (step.exists) await replaceFile(step.absolute, step.content);
      else await createFile(step.absolute, step.content, createdFiles);
      return;
  }
}

async function createFile(absolute: string, content: string, createdFiles: string[]): Promise<void> {
  const handle = await open(absolute, 'wx');
  createdFiles.push(absolute);
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

async function replaceFile(absolute: string, content: string): Promise<void> {
  const temp = join(dirname(absolute), `.${basename(absolute)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, content, { encoding: 'utf8', flag: 'wx' });
  try {
    // Keep the permissions the user gave the file they are replacing.
    const previous = await stat(absolute).catch(() => undefined);
    if (previous?.isFile()) await chmod(temp, previous.mode & 0o7777);
    await rename(temp, absolute);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** mkdir -p that records every folder it had to create, deepest last. */
async function makeDirs(absolute: string, createdDirs: string[]): Promise<void> {
  const first = await mkdir(absolute, { recursive: true });
  if (first === undefined) return;
  const made: string[] = [];
  for (let d = absolute; ; d = dirname(d)) {
    made.unshift(d);
    if (d === first || dirname(d) === d) break;
  }
  createdDirs.push(...made);
}

async function rollback(createdFiles: string[], createdDirs: string[]): Promise<void> {
  for (const file of [...createdFiles].reverse()) await rm(file, { force: true }).catch(() => undefined);
  // Only empty folders are removed: anything else in them was not put there by this run.
  for (const dir of [...createdDirs].reverse()) await rmdir(dir).catch(() => undefined);
}

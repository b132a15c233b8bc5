import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { keyPaths } from '../../core/audit/keys.js';
import { loadPublicKey } from '../../core/audit/keys.js';
import { verifyAudit } from '../../core/audit/verify.js';
import type { LoadedProjectConfig } from '../../core/config/project-config.js';
import { isAgentGuardError } from '../../core/errors.js';
import { validatePolicyFile } from '../../core/policy/validate.js';
import { databasePath, openStore } from '../../core/store/open-store.js';
import { resolveStoreUrl } from '../../core/store/store-url.js';
import { fail, ok, skip, warn, type DoctorCheck } from './check.js';

const display = (file: string) => relative(process.cwd(), file) || file;

/** The project config: found, readable, and pointing at files that exist. */
export function configCheck(loaded: LoadedProjectConfig | Error): DoctorCheck {
  if (loaded instanceof Error) {
    return fail('config', loaded.message, isAgentGuardError(loaded) && loaded.actions.length > 0 ? loaded.actions : ['Fix agentguard.config.json, or delete it and run `agentguard init`.']);
  }
  if (!loaded.file) {
    return warn('config', `no agentguard.config.json in ${loaded.root} or any folder above it; using the defaults`, ['Run `agentguard init` to create one.']);
  }
  return ok('config', display(loaded.file));
}

/** The policy file: readable, valid, and free of lint warnings. */
export async function policyCheck(file: string): Promise<DoctorCheck> {
  const report = await validatePolicyFile(file);
  const where = (p: { line: number | null; column: number | null }) => (p.line === null ? display(file) : `${display(file)}:${p.line}:${p.column ?? 1}`);
  if (report.errors.length > 0) {
    const first = report.errors[0];
    const more = report.errors.length > 1 ? ` (and ${report.errors.length - 1} more)` : '';
    const fix = first.code === 'unreadable'
      ? ['Run `agentguard init` to create a starter policy, or set "policy" in agentguard.config.json.']
      : [`Run \`agentguard policy validate ${display(file)}\` for every problem with its fix.`];
    return fail('policy', `${where(first)}: ${first.message}${more}`, fix);
  }
  if (report.warnings.length > 0) {
    return warn('policy', `${display(file)} is valid with ${report.warnings.length} warning(s); first: ${where(report.warnings[0])}: ${report.warnings[0].message}`, [
      `Run \`agentguard policy validate ${display(file)}\` to see them.`,
    ]);
  }
  return ok('policy', `${display(file)} is valid`);
}

/** The database: present, writable, readable, and its audit chain intact. */
export async function storeChecks(dataDir: string): Promise<DoctorCheck[]> {
  if (resolveStoreUrl() !== undefined) return sharedStoreChecks(dataDir);
  const file = databasePath({ dataDir });
  if (!existsSync(file)) {
    return [skip('store', `no database yet at ${display(file)}; it is created when the first decision is recorded`), skip('audit', 'nothing recorded yet')];
  }
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
    accessSync(dataDir, constants.W_OK);
  } catch {
    return [fail('store', `${display(file)} or its folder is not writable by this user, so decisions cannot be recorded (and are denied)`, [`Give this user write access: \`chmod u+rw ${display(file)}\` and \`chmod u+rwx ${display(dataDir)}\`.`]), skip('audit', 'store not usable')];
  }
  let store;
  try {
    store = await openStore({ dataDir, create: false });
  } catch (error) {
    return [fail('store', (error as Error).message, isAgentGuardError(error) ? error.actions : undefined), skip('audit', 'store not usable')];
  }
  try {
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
    const audit = result.ok
      ? ok('audit', `${result.records} record(s) intact, ${result.checkpoints} signed checkpoint(s)`)
      : fail('audit', `the audit log was tampered with: ${result.problems[0]?.message ?? 'see `agentguard audit verify`'}`, ['Run `agentguard audit verify` for every problem; keep the database as evidence.']);
    return [ok('store', `${display(file)} is readable and writable`), audit];
  } catch (error) {
    return [ok('store', `${display(file)} is readable and writable`), fail('audit', (error as Error).message, isAgentGuardError(error) ? error.actions : undefined)];
  } finally {
    await store.close();
  }
}

/** A fleet's PostgreSQL store: reachable, migrated, and this instance's audit chain intact (`audit verify` checks them all). */
async function sharedStoreChecks(dataDir: string): Promise<DoctorCheck[]> {
  let store;
  try {
    store = await openStore({ dataDir, create: false });
  } catch (error) {
    return [fail('store', (error as Error).message, isAgentGuardError(error) ? error.actions : undefined), skip('audit', 'store not usable')];
  }
  try {
    const result = await verifyAudit(store, { publicKey: loadPublicKey(dataDir) });
    const audit = result.ok
      ? ok('audit', `this instance's chain: ${result.records} record(s) intact, ${result.checkpoints} signed checkpoint(s); \`agentguard audit verify\` checks every chain`)
      : fail('audit', `this instance's audit chain was tampered with: ${result.problems[0]?.message ?? 'see `agentguard audit verify`'}`, ['Run `agentguard audit verify` for every problem; keep the database as evidence.']);
    return [ok('store', `${store.location} answers and is up to date`), audit];
  } catch (error) {
    return [ok('store', `${store.location} answers`), fail('audit', (error as Error).message, isAgentGuardError(error) ? error.actions : undefined)];
  } finally {
    await store.close();
  }
}

/** The audit signing key: only this user may read it. */
export function keyCheck(dataDir: string): DoctorCheck {
  const paths = keyPaths(dataDir);
  if (!existsSync(paths.privateKey)) return skip('keys', `no audit signing key yet in ${display(paths.dir)}; it is created on first use`);
  if (process.platform === 'win32') return ok('keys', `${display(paths.privateKey)} exists (file modes are not checked on Windows)`);
  const problems: string[] = [];
  const fix: string[] = [];
  const dirMode = statSync(paths.dir).mode & 0o777;
  if ((dirMode & 0o077) !== 0) {
    problems.push(`${display(paths.dir)} has mode 0${dirMode.toString(8)}`);
    fix.push(`chmod 700 ${display(paths.dir)}`);
  }
  const keyMode = statSync(paths.privateKey).mode & 0o777;
  if ((keyMode & 0o077) !== 0) {
    problems.push(`${display(paths.privateKey)} has mode 0${keyMode.toString(8)}`);
    fix.push(`chmod 600 ${display(paths.privateKey)}`);
  }
  if (problems.length === 0) return ok('keys', `${display(paths.privateKey)} is readable by this user only`);
  return fail('keys', `other users can read the audit signing key: ${problems.join('; ')}`, [
    `Run \`${fix.join(' && ')}\`.`,
    'If other users may already have read it, delete the keys folder to create a new key and give verifiers the new public key.',
  ]);
}

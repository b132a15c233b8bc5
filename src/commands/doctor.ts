import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { dataDirFlag } from '../cli/data-dir.js';
import type { DoctorCheck } from '../cli/doctor/check.js';
import { configCheck, keyCheck, policyCheck, storeChecks } from '../cli/doctor/local-checks.js';
import { findSidecar, sidecarCheck, tokenCheck, type SidecarTarget } from '../cli/doctor/sidecar-checks.js';
import { paint } from '../cli/style.js';
import { loadProjectConfig, type LoadedProjectConfig } from '../core/config/project-config.js';
import { resolve } from 'node:path';

/** `--json` output. `ok` is false when any check failed; warnings do not fail. */
export interface DoctorResult {
  ok: boolean;
  checks: DoctorCheck[];
}

const MARK: Record<DoctorCheck['status'], string> = { ok: paint.green('✓'), warn: paint.yellow('!'), fail: paint.red('✗'), skip: paint.dim('-') };

export default class Doctor extends BaseCommand {
  static summary = 'Check the config, policy, store, key files, sidecar and token, and say exactly what to fix.';
  static description = `Runs every check and prints one line per check; failed checks say what to do. Exit codes: 0 nothing failed (warnings allowed), 1 something failed.

The sidecar checked is the one given by --sidecar-url or $AGENTGUARD_SIDECAR_URL, else the one running for this data folder. The token checked is read from an environment variable (default AGENTGUARD_TOKEN), never from the command line, and is never printed.`;

  static examples = [
    { description: 'Check this project', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Check the sidecar and token an agent uses', command: 'AGENTGUARD_TOKEN=agk_... <%= config.bin %> <%= command.id %> --sidecar-url http://127.0.0.1:7777' },
  ];

  static flags = {
    policy: Flags.string({ char: 'p', description: 'Policy file to check (default: "policy" from agentguard.config.json).', helpValue: '<file>' }),
    ...dataDirFlag,
    'sidecar-url': Flags.string({ description: 'Sidecar to check (default: $AGENTGUARD_SIDECAR_URL, else the one running for the data folder).', helpValue: '<url>' }),
    'token-env': Flags.string({ description: 'Environment variable holding the token to check.', default: 'AGENTGUARD_TOKEN', helpValue: '<name>' }),
  };

  async run(): Promise<DoctorResult> {
    const { flags } = await this.parse(Doctor);
    let loaded: LoadedProjectConfig | Error;
    try {
      loaded = await loadProjectConfig();
    } catch (error) {
      loaded = error as Error;
    }
    const checks: DoctorCheck[] = [configCheck(loaded)];
    const paths = loaded instanceof Error ? null : loaded.paths;
    const policyFile = flags.policy ? resolve(flags.policy) : paths?.policy;
    const dataDir = flags['data-dir'] ? resolve(flags['data-dir']) : paths?.dataDir;

    checks.push(policyFile ? await policyCheck(policyFile) : { name: 'policy', status: 'skip', message: 'no config to find the policy from', fix: ['Pass --policy <file>.'] });
    if (dataDir) {
      checks.push(...(await storeChecks(dataDir)), keyCheck(dataDir));
    } else {
      checks.push({ name: 'store', status: 'skip', message: 'no config to find the data folder from', fix: ['Pass --data-dir <folder>.'] });
    }

    const explicitUrl = flags['sidecar-url'] ?? process.env.AGENTGUARD_SIDECAR_URL;
    const found = dataDir || explicitUrl ? findSidecar(dataDir ?? '', { url: explicitUrl, source: flags['sidecar-url'] ? 'flag' : 'env' }) : null;
    let target: SidecarTarget | null = null;
    if (found && 'url' in found) {
      const check = await sidecarCheck(found);
      checks.push(check);
      if (check.status === 'ok') target = found;
    } else if (found) {
      checks.push(found);
    }
    checks.push(await tokenCheck(target, process.env[flags['token-env']], flags['token-env']));

    const result: DoctorResult = { ok: !checks.some((c) => c.status === 'fail'), checks };
    if (!result.ok) process.exitCode = 1;
    if (!this.jsonEnabled()) this.render(result);
    return result;
  }

  private render(result: DoctorResult): void {
    const width = Math.max(...result.checks.map((c) => c.name.length));
    const lines: string[] = [];
    for (const check of result.checks) {
      lines.push(`${MARK[check.status]} ${check.name.padEnd(width)}  ${check.message}`);
      if (check.status === 'fail' || check.status === 'warn') for (const fix of check.fix ?? []) lines.push(`  ${' '.repeat(width)}  ${paint.bold('fix:')} ${fix}`);
    }
    const failed = result.checks.filter((c) => c.status === 'fail').length;
    lines.push('', failed === 0 ? paint.green('No problems found.') : paint.red(`${failed} problem(s) to fix.`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

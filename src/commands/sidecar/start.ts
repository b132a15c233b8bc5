import { spawn } from 'node:child_process';
import { selectedStoreUrl, selectStoreUrl } from '../../core/store/store-url.js';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { dataDirFlag } from '../../cli/data-dir.js';
import { paint } from '../../cli/style.js';
import { approvalsSectionName, costSectionName, loadProjectConfig, readProjectConfig } from '../../core/config/project-config.js';
import { checkSessionsConfig } from '../../core/sessions/config.js';
import { checkOtlpEndpoint } from '../../core/config/telemetry-config.js';
import { AgentGuardError, isErrorCode } from '../../core/errors.js';
import type { SidecarServerOptions } from '../../sidecar/server.js';
import type { TrustedPolicyKey } from '../../core/policy-signing/keys.js';
import { DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_BYTES } from '../../sidecar/log/rotating-file.js';
import { assertNotRunning, DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, logFilePath, readPidFile, sidecarUrl } from '../../sidecar/pid-file.js';
import { pollUntil } from '../../core/poll.js';

/** `--json` output: the running sidecar. */
export interface SidecarStartResult {
  pid: number;
  url: string;
  dataDir: string;
  policy: string;
  logFile: string;
  detached: boolean;
}

const DETACH_TIMEOUT_MS = 10_000;

export default class SidecarStart extends BaseCommand {
  static summary = 'Start the sidecar: the local HTTP daemon agents ask before they act.';
  static description = `Serves the decision API (POST /v1/decide, outcomes, audit, policy reload, /healthz, /readyz, /metrics, /docs) on loopback by default. Runs in the foreground unless --detach is given; either way it writes <data-dir>/sidecar.pid and logs JSON lines to <data-dir>/sidecar.log (see \`agentguard sidecar logs\`), which rotates by size (--log-max-mb, --log-files); request lines are rate-limited and never hold query strings.

SIGTERM or Ctrl-C stops accepting requests, finishes those in flight and signs a final audit checkpoint. SIGHUP (or POST /v1/policy/reload) reloads the policy file; an invalid new policy is refused and the previous one stays in force.

It also expires and escalates pending approvals on time, and, with "approvals.notify" in the project config, sends their notifications (webhook, Slack), retrying failures, and accepts the channels' signed callbacks (POST /v1/approvals/callback, /v1/slack/interactions). A channel whose secret environment variable is not set stops the start.

Agents authenticate with tokens from \`agentguard token create\`.`;

  static examples = [
    { description: 'Run in the foreground on the default port (7777)', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Run in the background with a given policy and port', command: '<%= config.bin %> <%= command.id %> --detach --port 8181 --policy agentguard/policy.yaml' },
    { description: 'Listen on every interface (reachable from other machines)', command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --allow-remote' },
    { description: 'Export a span per decision to an OpenTelemetry collector', command: '<%= config.bin %> <%= command.id %> --otlp-endpoint http://localhost:4318' },
  ];

  static flags = {
    port: Flags.integer({ description: `Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one).`, min: 0, max: 65535, helpValue: '<n>' }),
    host: Flags.string({ description: `Address to bind (default ${DEFAULT_HOST}). Other than loopback needs --allow-remote.`, helpValue: '<address>' }),
    'allow-remote': Flags.boolean({ description: 'Allow a --host other machines can reach (the API is then exposed to the network).' }),
    policy: Flags.string({ char: 'p', description: 'Policy file (default: the policy in agentguard.config.json, else agentguard/policy.yaml).', helpValue: '<file>' }),
    config: Flags.string({ description: 'Project config file (default: agentguard.config.json found from the current folder).', helpValue: '<file>' }),
    ...dataDirFlag,
    detach: Flags.boolean({ char: 'd', description: 'Run in the background; returns once /healthz answers.' }),
    'policy-from-store': Flags.boolean({
      description: 'Use the policy pushed to the fleet\'s PostgreSQL store (`agentguard policy push`) instead of a file (--policy is then ignored), and switch to every version pushed later at once.',
    }),
    'trust-policy-key': Flags.string({
      description:
        'With --policy-from-store: use only versions signed (`policy push --sign-key`) by this Ed25519 public key (from `agentguard policy keygen`), and none signed before the version in force. Repeat for several keys. Without it, the store\'s policies are not signature-checked.',
      helpValue: '<public.pem>',
      multiple: true,
      dependsOn: ['policy-from-store'],
    }),
    'log-max-mb': Flags.integer({ description: `Rotate sidecar.log when it would pass this many MiB (default ${DEFAULT_LOG_MAX_BYTES / 1024 / 1024}).`, min: 1, max: 10_240, helpValue: '<MiB>' }),
    'log-files': Flags.integer({ description: `How many rotated logs to keep: sidecar.log.1 … (default ${DEFAULT_LOG_FILES}; 0 keeps none).`, min: 0, max: 100, helpValue: '<n>' }),
    'otlp-endpoint': Flags.string({
      description:
        'Export a span per decision (OpenTelemetry, OTLP/HTTP) to this collector, e.g. http://localhost:4318 (/v1/traces is added). Replaces "telemetry.otlp.endpoint" of the project config; headers come from there or OTEL_EXPORTER_OTLP_HEADERS. Off by default.',
      helpValue: '<url>',
      env: 'AGENTGUARD_OTLP_ENDPOINT',
    }),
  };

  async run(): Promise<SidecarStartResult> {
    const { flags } = await this.parse(SidecarStart);
    const project = flags.config === undefined ? await loadProjectConfig() : await readProjectConfig(resolve(flags.config));
    // "store.url" of a --config file elsewhere counts like the one found from here (after --store and the environment).
    if (project.config.store?.url && selectedStoreUrl() === undefined && !process.env.AGENTGUARD_STORE_URL) selectStoreUrl(project.config.store.url);
    const dataDir = resolve(flags['data-dir'] ?? project.paths.dataDir);
    const policy = resolve(flags.policy ?? project.paths.policy);
    const host = flags.host ?? DEFAULT_HOST;
    const port = flags.port ?? DEFAULT_PORT;
    if (!isLoopbackHost(host)) {
      if (!flags['allow-remote']) {
        throw new AgentGuardError('REMOTE_BIND', `--host ${host} would expose the sidecar to other machines`, {
          actions: ['Keep the default 127.0.0.1, or add --allow-remote if other machines must reach it (and protect the network path).'],
        });
      }
      process.stderr.write(`${paint.yellow('Warning')}: listening on ${host}: the sidecar API is reachable from other machines. Every /v1 route still needs a token.\n`);
    }
    const log = { ...(flags['log-max-mb'] !== undefined ? { maxBytes: flags['log-max-mb'] * 1024 * 1024 } : {}), ...(flags['log-files'] !== undefined ? { files: flags['log-files'] } : {}) };
    const logArgs = [...(flags['log-max-mb'] !== undefined ? ['--log-max-mb', String(flags['log-max-mb'])] : []), ...(flags['log-files'] !== undefined ? ['--log-files', String(flags['log-files'])] : [])];
    if (flags['policy-from-store']) logArgs.push('--policy-from-store');
    const trustedPolicyKeys = await trustedKeys(flags['trust-policy-key']);
    for (const file of flags['trust-policy-key'] ?? []) logArgs.push('--trust-policy-key', resolve(file));
    if (flags['policy-from-store'] && trustedPolicyKeys.length === 0) {
      process.stderr.write(`${paint.yellow('Warning')}: the policies in the store are not signature-checked: whoever can write the database decides the policy in force. Sign pushes (policy push --sign-key) and start with --trust-policy-key <public.pem>.\n`);
    }
    const fromEnv = !this.argv.some((arg) => arg === '--otlp-endpoint' || arg.startsWith('--otlp-endpoint='));
    const otlpEndpoint = flags['otlp-endpoint'] === undefined ? undefined : checkOtlpEndpoint(flags['otlp-endpoint'], fromEnv ? 'AGENTGUARD_OTLP_ENDPOINT' : '--otlp-endpoint');
    if (flags.detach) return this.detach({ dataDir, policy, host, port, allowRemote: flags['allow-remote'], configFile: project.file, logArgs, otlpEndpoint });
    return this.foreground({
      dataDir,
      policyPath: policy,
      host,
      port,
      cost: project.config.cost,
      costSource: costSectionName(project.file),
      approvals: project.config.approvals,
      approvalsSource: approvalsSectionName(project.file),
      guardrails: project.config.guardrails,
      sessions: checkSessionsConfig(project.config.sessions, `${project.file ?? 'agentguard.config.json'}: sessions`),
      log,
      policyFromStore: flags['policy-from-store'],
      ...(trustedPolicyKeys.length > 0 ? { trustedPolicyKeys } : {}),
      telemetry: { ...(project.config.telemetry ? { config: project.config.telemetry } : {}), ...(otlpEndpoint !== undefined ? { endpoint: otlpEndpoint } : {}) },
    });
  }

  private async foreground(options: SidecarServerOptions): Promise<SidecarStartResult> {
    // fastify and the native store load only here, so other commands start fast.
    const { startSidecarServer, handleSignals } = await import('../../sidecar/server.js');
    const running = await startSidecarServer(options);
    handleSignals(running);
    this.note(`${paint.green('Sidecar listening')} on ${running.url} (pid ${process.pid}). Log: ${running.logFile}. Stop with Ctrl-C or \`agentguard sidecar stop\`.`);
    return { pid: process.pid, url: running.url, dataDir: options.dataDir, policy: options.policyPath, logFile: running.logFile, detached: false };
  }

  private async detach(options: {
    dataDir: string;
    policy: string;
    host: string;
    port: number;
    allowRemote: boolean;
    configFile?: string;
    logArgs: string[];
    otlpEndpoint?: string;
  }): Promise<SidecarStartResult> {
    const { dataDir } = options;
    assertNotRunning(dataDir);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const logFile = logFilePath(dataDir);
    const logFd = openSync(logFile, 'a', 0o600);
    const logStart = statSync(logFile).size;
    const args = [
      ...process.execArgv,
      process.argv[1],
      'sidecar',
      'start',
      '--data-dir',
      dataDir,
      '--policy',
      options.policy,
      '--host',
      options.host,
      '--port',
      String(options.port),
      ...(options.allowRemote ? ['--allow-remote'] : []),
      ...(options.configFile ? ['--config', options.configFile] : []),
      ...options.logArgs,
    ];
    // A --store URL (and an --otlp-endpoint, which may carry a key in its query) goes through the environment: a
    // command line is visible to every user of the machine (ps).
    const store = selectedStoreUrl();
    const env = { ...process.env, NO_COLOR: '1', ...(store ? { AGENTGUARD_STORE_URL: store } : {}), ...(options.otlpEndpoint ? { AGENTGUARD_OTLP_ENDPOINT: options.otlpEndpoint } : {}) };
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    child.unref();

    const ready = await pollUntil(
      async () => {
        if (exited !== undefined) throw this.childFailed(logFile, logStart, exited);
        const pidFile = readPidFile(dataDir);
        if (pidFile === null || pidFile === 'invalid' || pidFile.pid !== child.pid) return undefined;
        const url = sidecarUrl(pidFile.host, pidFile.port);
        return (await answers(`${url}/healthz`)) ? { pid: pidFile.pid, url } : undefined;
      },
      { intervalMs: 100, timeoutMs: DETACH_TIMEOUT_MS },
    );
    if (ready.status === 'done') {
      const { pid, url } = ready.value;
      if (!this.jsonEnabled()) {
        process.stdout.write(`${url}\n`);
        this.note(`${paint.green('Sidecar started')} in the background: pid ${pid}, ${url}. Log: ${logFile}. Stop it with \`agentguard sidecar stop\`.`);
      }
      return { pid, url, dataDir, policy: options.policy, logFile, detached: true };
    }
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw new AgentGuardError('SIDECAR_START_TIMEOUT', `the sidecar did not answer /healthz within ${DETACH_TIMEOUT_MS / 1000} s; it was killed`, {
      actions: [`Read the log: agentguard sidecar logs --data-dir ${dataDir}`, 'Run `agentguard sidecar start` without --detach to see errors directly.'],
    });
  }

  /** The child's own error message (what BaseCommand printed to its stderr, now in the log) as our error. */
  private childFailed(logFile: string, from: number, code: number | null): AgentGuardError {
    const output = readFileSync(logFile, 'utf8').slice(from);
    const errorLine = /Error \(([A-Z_]+)\): (.*)/.exec(output);
    const actions = [...output.matchAll(/^\s+\* (.*)$/gm)].map((m) => m[1]);
    if (errorLine) {
      // Only a registered code is taken over as ours; another is kept in the message.
      const [, childCode = '', message = ''] = errorLine;
      const exitCode = code === 2 ? 2 : 1;
      if (isErrorCode(childCode)) return new AgentGuardError(childCode, message, { actions, exitCode });
      return new AgentGuardError('SIDECAR_START_FAILED', `${childCode}: ${message}`, { actions, exitCode });
    }
    return new AgentGuardError('SIDECAR_START_FAILED', `the sidecar exited with code ${code} before it was ready`, {
      actions: [`Read the log: ${logFile}`],
    });
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The keys of --trust-policy-key, read (and checked) before anything starts. */
async function trustedKeys(files: string[] | undefined): Promise<TrustedPolicyKey[]> {
  if (!files || files.length === 0) return [];
  const { readTrustedPolicyKey } = await import('../../core/policy-signing/keys.js');
  return files.map((file) => readTrustedPolicyKey(resolve(file)));
}

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Test files that start real agentguard processes (the CLI through bin/run.js, the sidecar daemon, racing writers),
 * run the built package in dist/ or are slow by nature (restarts, the demo). Everything else is `unit`: no build
 * needed, CLI commands run in-process (test/helpers/cli-in-process.ts).
 *   npx vitest run --project unit     npx vitest run --project e2e     npm test (build, then both)
 */
const E2E = [
  'test/approvals-restart.test.ts', // sidecar daemon stopped and started again with approvals pending
  'test/sidecar-e2e.test.ts', // sidecar daemon over HTTP
  'test/sidecar-perf-kill.test.ts', // sidecar daemon SIGKILLed under load: every answered decision is in the audit log
  'test/otel-off.test.ts', // fresh processes (sidecar daemon and local mode) with trace export off and on: which OpenTelemetry modules load
  'test/otel-cli.test.ts', // sidecar start --detach --otlp-endpoint: the daemon (dist) exports to a fake collector and flushes on stop
  'test/hook-cli.test.ts', // bin/agentguard-hook.js and agentguard hook as child processes fed each agent's payloads
  'test/hook-daemon.test.ts', // hook decision daemons started from dist by hooks, racing, stopped
  'test/cli-sidecar.test.ts', // sidecar start --detach, SIGHUP, stop
  'test/cli-audit-query.test.ts', // audit tail -f stopped by SIGINT / SIGTERM
  'test/cli-approvals-watch.test.ts', // approvals watch in a terminal, stopped by signals
  'test/cli-in-process-parity.test.ts', // the same commands through bin/run.js and in-process
  'test/cli-approvals.test.ts', // six processes race to consume one approval (dist)
  'test/cost-concurrency.test.ts', // processes racing on one budget
  'test/policy-rate-processes.test.ts', // processes racing on one rate limit (dist)
  'test/store-sqlite.test.ts', // a second process on the same database (dist)
  'test/sdk-local.test.ts', // SDK and CLI processes writing one audit log
  'test/sdk-exports.test.ts', // the package's exports, from dist
  'test/hardening-audit-followups.test.ts', // a script using dist/sdk
  'test/hardening-regex-safety.test.ts', // sidecar start refusing a policy
  'test/contracts-cli-json.test.ts', // every command's --json, with a sidecar daemon
  'test/mcp-wrap.test.ts', // mcp wrap as a stdio proxy process between a client and a server
  'test/mcp-install-e2e.test.ts', // a config rewritten by mcp install, started as a client starts it
  'test/mcp-install-upstream-e2e.test.ts', // a URL server rewritten by mcp install to mcp wrap --upstream, started as a client starts it (dist)
  'test/hooks-install-e2e.test.ts', // the hook command line hooks install writes, run as the agent runs it (dist)
  'test/mcp-proxy-cli.test.ts', // mcp proxy as an HTTP proxy process between a client and a server
  'test/demo.test.ts', // npm run demo
  'test/docs-examples.test.ts', // the docs' shell examples
  'test/docs-generated.test.ts', // oclif readme in a subprocess
  'test/store-pg-fleet.test.ts', // two sidecar daemons on one private PostgreSQL cluster, stopped and restarted
  'test/policy-sign-e2e.test.ts', // sidecar daemons refusing or using signed policy versions on a private PostgreSQL cluster
  'test/store-pg-race.test.ts', // processes racing on one budget in PostgreSQL (dist)
  'test/store-pg-contract.test.ts', // the store contract on a private PostgreSQL cluster (and SQLite)
  'test/sidecar-perf-audit-writer-pg.test.ts', // the audit writer thread on a private PostgreSQL cluster
  'test/store-pg-migrate.test.ts', // store migrate and --from on a private PostgreSQL cluster
  'test/store-pg-append-fast.test.ts', // the one-statement audit append on a private PostgreSQL cluster, stopped once
  'test/adapter-langchain-exports.test.ts', // agentguard/langchain from dist, with and without LangChain installed
  'test/adapter-openai-agents-exports.test.ts', // agentguard/ai-sdk and agentguard/openai-agents from dist, with and without their frameworks
  'test/examples-run.test.ts', // every example under examples/, as node runs it, from dist
];

const shared = {
  testTimeout: 30_000,
  pool: 'forks' as const,
  globalSetup: ['test/global-setup.ts'],
  // The regex-safety verdicts cache (see src/core/policy/lint/redos-cache.ts) stays inside the checkout, not in ~/.cache.
  // Hooks decide in their own process unless a test turns the hook decision daemon on (test/hook-daemon-*.test.ts).
  env: { AGENTGUARD_CACHE_DIR: fileURLToPath(new URL('./node_modules/.cache/agentguard', import.meta.url)), AGENTGUARD_HOOK_DAEMON: '0' },
};

export default defineConfig({
  test: {
    // vitest's default leaves one core to itself; its main process is idle while files run, so use them all.
    maxWorkers: availableParallelism(),
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E } },
      { test: { ...shared, name: 'e2e', include: E2E } },
    ],
  },
});

// What every command prints with --json, by command id: the types schemas/cli/*.json are generated from
// (`npm run contracts:update`, scripts/contracts/cli-schemas.ts). Types only: nothing here exists at run time.
import type { AuditRecord } from '../core/audit/types.js';
import type { BudgetStatus } from '../core/cost/budget-status.js';
import type { CostReport } from '../core/cost/report.js';
import type { Recommendation } from '../core/cost/recommend.js';
import type { InitResult } from '../core/init/init-project.js';
import type { ScanResult } from '../scan/run-scan.js';
import type { WatchEvent as ScanWatchEvent } from '../scan/watch-events.js';
import type { Same, MustBeTrue } from '../core/contracts/type-agreement.js';
import type { WatchChange } from './approvals-watch/changes.js';
import type { AgentsDeregisterResult } from '../commands/agents/deregister.js';
import type { AgentsListResult } from '../commands/agents/list.js';
import type { AgentsRegisterResult } from '../commands/agents/register.js';
import type { AgentsShowResult } from '../commands/agents/show.js';
import type { AgentsStatusResult } from '../commands/agents/status.js';
import type { ApprovalsApproveResult } from '../commands/approvals/approve.js';
import type { ApprovalsDeliveriesResult } from '../commands/approvals/deliveries.js';
import type { ApprovalsDenyResult } from '../commands/approvals/deny.js';
import type { ApprovalsListResult } from '../commands/approvals/list.js';
import type { ApprovalsShowResult } from '../commands/approvals/show.js';
import type { AuditCheckpointResult } from '../commands/audit/checkpoint.js';
import type { AuditExportResult } from '../commands/audit/export.js';
import type { AuditPublicKeyResult } from '../commands/audit/public-key.js';
import type { AuditQueryResult } from '../commands/audit/query.js';
import type { PolicyDiffResult } from '../commands/policy/diff.js';
import type { PolicyReplayResult } from '../commands/policy/replay.js';
import type { AuditVerifyResult } from '../commands/audit/verify.js';
import type { CostPricesListResult, CostPricesModelResult } from '../commands/cost/prices.js';
import type { CostPricesImportResult } from '../commands/cost/prices/import.js';
import type { DoctorResult } from '../commands/doctor.js';
import type { GuardrailsCheckResult } from '../commands/guardrails/check.js';
import type { GuardrailsEvalResult } from '../commands/guardrails/eval.js';
import type { GuardrailsListResult } from '../commands/guardrails/list.js';
import type { HooksInstallResult } from '../commands/hooks/install.js';
import type { HooksStatusResult } from '../commands/hooks/status.js';
import type { HooksStopDaemonsResult } from '../commands/hooks/stop-daemons.js';
import type { HooksUninstallResult } from '../commands/hooks/uninstall.js';
import type { McpInstallResult } from '../commands/mcp/install.js';
import type { McpPinResult } from '../commands/mcp/pin.js';
import type { McpPinsApproveResult } from '../commands/mcp/pins/approve.js';
import type { McpPinsListResult } from '../commands/mcp/pins/list.js';
import type { McpPinsPolicyResult } from '../commands/mcp/pins/policy.js';
import type { McpPinsResetResult } from '../commands/mcp/pins/reset.js';
import type { McpUninstallResult } from '../commands/mcp/uninstall.js';
import type { PolicyHistoryResult } from '../commands/policy/history.js';
import type { PolicyKeygenResult } from '../commands/policy/keygen.js';
import type { PolicyPushResult } from '../commands/policy/push.js';
import type { PolicyRollbackResult } from '../commands/policy/rollback.js';
import type { PolicySimulateResult } from '../commands/policy/simulate.js';
import type { PolicyTestResult } from '../commands/policy/test.js';
import type { PolicyValidateResult } from '../commands/policy/validate.js';
import type { SidecarLogsResult } from '../commands/sidecar/logs.js';
import type { SidecarStartResult } from '../commands/sidecar/start.js';
import type { SidecarStatusResult } from '../commands/sidecar/status.js';
import type { SidecarStopResult } from '../commands/sidecar/stop.js';
import type { StoreMigrateResult } from '../commands/store/migrate.js';
import type { TokenCreateResult } from '../commands/token/create.js';
import type { TokenListResult } from '../commands/token/list.js';
import type { TokenRevokeResult } from '../commands/token/revoke.js';

/** The one JSON document a command prints with --json (pretty-printed), keyed by oclif command id. */
export interface CliJsonOutput {
  'agents:deregister': AgentsDeregisterResult;
  'agents:list': AgentsListResult;
  'agents:register': AgentsRegisterResult;
  'agents:show': AgentsShowResult;
  'agents:status': AgentsStatusResult;
  'approvals:approve': ApprovalsApproveResult;
  'approvals:deliveries': ApprovalsDeliveriesResult;
  'approvals:deny': ApprovalsDenyResult;
  'approvals:list': ApprovalsListResult;
  'approvals:show': ApprovalsShowResult;
  'audit:checkpoint': AuditCheckpointResult;
  /** Only with --out: the records go to the file, this summary to stdout. */
  'audit:export': AuditExportResult;
  'audit:public-key': AuditPublicKeyResult;
  'audit:query': AuditQueryResult;
  'audit:verify': AuditVerifyResult;
  'cost:budgets': BudgetStatus[];
  /** The catalog, or one model's prices when a model is named. */
  'cost:prices': CostPricesListResult | CostPricesModelResult;
  'cost:prices:import': CostPricesImportResult;
  'cost:recommend': Recommendation[];
  'cost:report': CostReport;
  doctor: DoctorResult;
  'guardrails:check': GuardrailsCheckResult;
  'guardrails:eval': GuardrailsEvalResult;
  'guardrails:list': GuardrailsListResult;
  init: InitResult;
  'mcp:install': McpInstallResult;
  'mcp:pin': McpPinResult;
  'mcp:pins:approve': McpPinsApproveResult;
  'mcp:pins:list': McpPinsListResult;
  /** Each agent's settings file written (or, with --dry-run, that would be), with its diff and backup. */
  'hooks:install': HooksInstallResult;
  /** Per agent and scope: whether its hooks run agentguard. */
  'hooks:status': HooksStatusResult;
  /** The hook decision daemons that were running, now stopped. */
  'hooks:stop-daemons': HooksStopDaemonsResult;
  /** Each settings file restored or cleaned of agentguard's entries. */
  'hooks:uninstall': HooksUninstallResult;
  /** The built-in description policy document. */
  'mcp:pins:policy': McpPinsPolicyResult;
  'mcp:pins:reset': McpPinsResetResult;
  'mcp:uninstall': McpUninstallResult;
  /** The policy JSON Schema itself (schemas/policy.schema.json). */
  'policy:schema': Record<string, unknown>;
  /** The diff; with --replay, `replay` is the replay report of the new policy. */
  'policy:diff': PolicyDiffResult;
  /** Every change and every "cannot tell", with counts per transition and per rule. */
  'policy:replay': PolicyReplayResult;
  /** For one action (--action, or one JSON action on stdin); many actions stream, see CliJsonLines. */
  /** The versions pushed to the fleet's store, newest first. */
  'policy:history': PolicyHistoryResult;
  /** The new policy signing key's id and files. */
  'policy:keygen': PolicyKeygenResult;
  /** The version stored and now in force. */
  'policy:push': PolicyPushResult;
  /** The earlier version put back in force. */
  'policy:rollback': PolicyRollbackResult;
  'policy:simulate': PolicySimulateResult;
  'policy:test': PolicyTestResult;
  'policy:validate': PolicyValidateResult;
  /** Without --watch. */
  scan: ScanResult;
  'sidecar:logs': SidecarLogsResult;
  'sidecar:start': SidecarStartResult;
  'sidecar:status': SidecarStatusResult;
  'sidecar:stop': SidecarStopResult;
  /** The store's schema version before and after, and what --from copied. */
  'store:migrate': StoreMigrateResult;
  'token:create': TokenCreateResult;
  'token:list': TokenListResult;
  'token:revoke': TokenRevokeResult;
}

/** Commands that stream with --json: one compact JSON value per line (JSON Lines), the type of one line. */
export interface CliJsonLines {
  /** Pending approvals first (event `pending`), then each change as it is seen, until SIGINT or SIGTERM. */
  'approvals:watch': WatchChange;
  /** Each audit record as stored, oldest first; with --follow, new ones as they are recorded. */
  'audit:tail': AuditRecord;
  /** With --input or JSON Lines on stdin: one Decision per action. */
  'policy:simulate': PolicySimulateResult;
  /** With --watch: agents starting and stopping, servers going up and down, MCP servers added, changed or removed. */
  scan: ScanWatchEvent;
}


/** The command classes, by id: the documented output above must be what each run() returns (checked below). */
interface Commands {
  'agents:deregister': typeof import('../commands/agents/deregister.js').default;
  'agents:list': typeof import('../commands/agents/list.js').default;
  'agents:register': typeof import('../commands/agents/register.js').default;
  'agents:show': typeof import('../commands/agents/show.js').default;
  'agents:status': typeof import('../commands/agents/status.js').default;
  'approvals:approve': typeof import('../commands/approvals/approve.js').default;
  'approvals:deliveries': typeof import('../commands/approvals/deliveries.js').default;
  'approvals:deny': typeof import('../commands/approvals/deny.js').default;
  'approvals:list': typeof import('../commands/approvals/list.js').default;
  'approvals:show': typeof import('../commands/approvals/show.js').default;
  'approvals:watch': typeof import('../commands/approvals/watch.js').default;
  'audit:checkpoint': typeof import('../commands/audit/checkpoint.js').default;
  'audit:export': typeof import('../commands/audit/export.js').default;
  'audit:public-key': typeof import('../commands/audit/public-key.js').default;
  'audit:query': typeof import('../commands/audit/query.js').default;
  'audit:tail': typeof import('../commands/audit/tail.js').default;
  'audit:verify': typeof import('../commands/audit/verify.js').default;
  'cost:budgets': typeof import('../commands/cost/budgets.js').default;
  'cost:prices': typeof import('../commands/cost/prices.js').default;
  'cost:prices:import': typeof import('../commands/cost/prices/import.js').default;
  'cost:recommend': typeof import('../commands/cost/recommend.js').default;
  'cost:report': typeof import('../commands/cost/report.js').default;
  doctor: typeof import('../commands/doctor.js').default;
  'guardrails:check': typeof import('../commands/guardrails/check.js').default;
  'guardrails:eval': typeof import('../commands/guardrails/eval.js').default;
  'guardrails:list': typeof import('../commands/guardrails/list.js').default;
  hook: typeof import('../commands/hook.js').default;
  'hooks:install': typeof import('../commands/hooks/install.js').default;
  'hooks:status': typeof import('../commands/hooks/status.js').default;
  'hooks:stop-daemons': typeof import('../commands/hooks/stop-daemons.js').default;
  'hooks:uninstall': typeof import('../commands/hooks/uninstall.js').default;
  init: typeof import('../commands/init.js').default;
  'mcp:install': typeof import('../commands/mcp/install.js').default;
  'mcp:pin': typeof import('../commands/mcp/pin.js').default;
  'mcp:pins:approve': typeof import('../commands/mcp/pins/approve.js').default;
  'mcp:pins:list': typeof import('../commands/mcp/pins/list.js').default;
  'mcp:pins:policy': typeof import('../commands/mcp/pins/policy.js').default;
  'mcp:pins:reset': typeof import('../commands/mcp/pins/reset.js').default;
  'mcp:proxy': typeof import('../commands/mcp/proxy.js').default;
  'mcp:uninstall': typeof import('../commands/mcp/uninstall.js').default;
  'mcp:wrap': typeof import('../commands/mcp/wrap.js').default;
  'policy:schema': typeof import('../commands/policy/schema.js').default;
  'policy:diff': typeof import('../commands/policy/diff.js').default;
  'policy:history': typeof import('../commands/policy/history.js').default;
  'policy:keygen': typeof import('../commands/policy/keygen.js').default;
  'policy:push': typeof import('../commands/policy/push.js').default;
  'policy:replay': typeof import('../commands/policy/replay.js').default;
  'policy:rollback': typeof import('../commands/policy/rollback.js').default;
  'policy:simulate': typeof import('../commands/policy/simulate.js').default;
  'policy:test': typeof import('../commands/policy/test.js').default;
  'policy:validate': typeof import('../commands/policy/validate.js').default;
  scan: typeof import('../commands/scan.js').default;
  'sidecar:logs': typeof import('../commands/sidecar/logs.js').default;
  'sidecar:start': typeof import('../commands/sidecar/start.js').default;
  'sidecar:status': typeof import('../commands/sidecar/status.js').default;
  'sidecar:stop': typeof import('../commands/sidecar/stop.js').default;
  'store:migrate': typeof import('../commands/store/migrate.js').default;
  'token:create': typeof import('../commands/token/create.js').default;
  'token:list': typeof import('../commands/token/list.js').default;
  'token:revoke': typeof import('../commands/token/revoke.js').default;
}

type RunResult<K extends keyof Commands> = Exclude<Awaited<ReturnType<InstanceType<Commands[K]>['run']>>, undefined | void>;
/** Fails the typecheck when a command's run() returns something other than what CliJsonOutput says it prints. */
export type CliJsonOutputAgrees = MustBeTrue<Same<{ [K in keyof CliJsonOutput]: Same<CliJsonOutput[K], RunResult<K>> }, { [K in keyof CliJsonOutput]: true }>>;
/** Commands that have no --json (enableJsonFlag false), and why. */
export interface CliWithoutJson {
  /** Its stdin and stdout carry the coding agent's hook protocol (the agent's own JSON). */
  hook: true;
  /** Its stdout carries the MCP protocol between the client and the server it wraps. */
  'mcp:wrap': true;
  /** A long-running HTTP proxy: it prints its endpoint and serves until stopped. */
  'mcp:proxy': true;
}

/** Every command prints one document, streams, or has no --json: none is left out (test/contracts-snapshots checks the list of commands is whole). */
export type CliJsonCoversEveryCommand = MustBeTrue<Same<keyof Commands, keyof CliJsonOutput | keyof CliJsonLines | keyof CliWithoutJson>>;

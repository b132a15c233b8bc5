import type { Attributes } from '@opentelemetry/api';
import type { Action, Decision, Effect, Finding } from '../core/action.js';
import { maskSecrets } from '../core/audit/mask.js';
import { callModel } from '../core/cost/call-model.js';
import type { Outcome } from '../core/pipeline.js';
import type { TracedDecision } from '../core/telemetry/decision-trace.js';

/**
 * Span attributes of a decision. Names follow the OpenTelemetry GenAI conventions where one applies: the guardrail
 * span attributes (`gen_ai.guardrail.*`, operation `run_guardrail`) of open-telemetry/semantic-conventions-genai
 * docs/gen-ai/gen-ai-security.md (Development status, the revision that references semantic-conventions v1.43.0),
 * and `gen_ai.tool.name`, `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.agent.id`,
 * `gen_ai.conversation.id`, `gen_ai.usage.*` of the GenAI registry. The rest is `agentguard.*`.
 *
 * By default nothing the agent sent or received is an attribute: no input, output, reason message, matched text or
 * error message — only names, ids, codes, counts and hashes. `payloads` adds the (secret-masked) input, the
 * transformed input, reason messages and outcome errors.
 */
export const COMPONENT = 'agentguard';
/** Longest payload attribute, in characters; longer values are cut (backends limit attribute sizes too). */
const MAX_PAYLOAD_CHARS = 8192;

const VERDICTS: Record<Effect, string> = { allow: 'allow', deny: 'deny', transform: 'modify', require_approval: 'escalate' };
// agentguard's provider prefixes (`<provider>.<model>` action names) as gen_ai.provider.name's well-known values.
const PROVIDERS: Record<string, string> = { azure: 'azure.ai.openai', bedrock: 'aws.bedrock', google: 'gcp.gen_ai', gemini: 'gcp.gemini', vertex: 'gcp.vertex_ai', mistral: 'mistral_ai', xai: 'x_ai' };
// The built-in guardrails' findings as gen_ai.guardrail.security.risk.category (OWASP LLM Top 10 2025 names).
const RISKS: Record<string, string> = { injection: 'prompt_injection', pii: 'sensitive_info_disclosure', secrets: 'sensitive_info_disclosure', moderation: 'toxicity' };

/** `input` for what an agent is about to do or send; `output` for a model's answer or a tool's result read back. */
function targetType(kind: string): 'input' | 'output' {
  return kind === 'llm_output' || kind === 'tool_output' ? 'output' : 'input';
}

function targetSubtype(kind: string): string {
  if (kind === 'llm' || kind === 'llm_output') return 'llm';
  if (kind === 'tool' || kind === 'tool_output' || kind === 'mcp') return 'tool_call';
  return 'action';
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A value as JSON, secrets masked as in the audit trail, cut to MAX_PAYLOAD_CHARS. */
export function payload(value: unknown): string {
  const json = JSON.stringify(maskSecrets(value)) ?? 'null';
  return json.length > MAX_PAYLOAD_CHARS ? `${json.slice(0, MAX_PAYLOAD_CHARS)}…` : json;
}

function set(attributes: Attributes, key: string, value: string | number | boolean | string[] | undefined): void {
  if (value !== undefined && !(Array.isArray(value) && value.length === 0)) attributes[key] = value;
}

/** What is known before the pipeline ran: the action's identity (never its input). */
export function actionAttributes(operation: TracedDecision['operation'], action: Action): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': 'run_guardrail',
    'gen_ai.guardrail.component.name': COMPONENT,
    'gen_ai.guardrail.target.type': targetType(action.kind),
    'gen_ai.guardrail.target.subtype': targetSubtype(action.kind),
    'agentguard.operation': operation,
    'agentguard.action.kind': action.kind,
    'agentguard.action.name': action.name,
  };
  set(attributes, 'gen_ai.agent.id', text(action.agent?.id));
  const session = action.context?.session;
  set(attributes, 'gen_ai.conversation.id', text(session && typeof session === 'object' ? (session as { id?: unknown }).id : undefined));
  if (action.kind === 'tool' || action.kind === 'tool_output' || action.kind === 'mcp') set(attributes, 'gen_ai.tool.name', action.name);
  if (action.kind === 'llm' || action.kind === 'llm_output') {
    const call = callModel(action.name);
    if (call) {
      attributes['gen_ai.provider.name'] = PROVIDERS[call.provider] ?? call.provider;
      attributes['gen_ai.request.model'] = call.model;
    }
  }
  return attributes;
}

/** The verdict: effect, rules, reason codes, policy (name and hash); with payloads, the input and reason messages. */
export function decisionAttributes(decision: Decision, given: Action, payloads: boolean): Attributes {
  const attributes: Attributes = {
    'gen_ai.guardrail.verdict.type': VERDICTS[decision.effect] ?? decision.effect,
    'agentguard.decision.id': decision.id,
    'agentguard.decision.effect': decision.effect,
    'gen_ai.guardrail.security.policy.id': decision.policy.name,
    'agentguard.policy.hash': decision.policy.hash,
  };
  // The reasons of the decision's own effect say why; others (a matched allow under a deny) are context.
  const deciding = decision.reasons.filter((r) => r.effect === decision.effect);
  const rules = [...new Set(decision.reasons.flatMap((r) => (r.rule ? [r.rule] : [])))];
  const codes = [...new Set(decision.reasons.flatMap((r) => (r.code ? [r.code] : [])))];
  set(attributes, 'gen_ai.guardrail.security.policy.rule.id', deciding.find((r) => r.rule)?.rule);
  set(attributes, 'gen_ai.guardrail.verdict.code', deciding.find((r) => r.code)?.code);
  set(attributes, 'agentguard.rule.ids', rules);
  set(attributes, 'agentguard.reason.codes', codes);
  set(attributes, 'agentguard.findings.count', decision.findings.length);
  const risks = [...new Set(decision.findings.flatMap((f) => (RISKS[f.guardrail] ? [RISKS[f.guardrail]!] : [])))];
  set(attributes, 'gen_ai.guardrail.security.risk.category', risks[0]);
  if (decision.effect === 'transform') attributes['gen_ai.guardrail.security.content.modified'] = true;
  if (decision.approval) attributes['agentguard.approval.id'] = decision.approval.id;
  if (payloads) {
    attributes['gen_ai.guardrail.security.content.input.value'] = payload(given.input ?? {});
    if (decision.effect === 'transform') attributes['gen_ai.guardrail.security.content.output.value'] = payload(decision.action.input ?? {});
    set(attributes, 'gen_ai.guardrail.verdict.reason', deciding.map((r) => r.message).join('; ') || undefined);
  }
  return attributes;
}

/** One finding as a `gen_ai.guardrail.security.finding` event: guardrail, type, score and where — never the text found. */
export function findingAttributes(finding: Finding, decision: Decision, action: Action): Attributes {
  const attributes: Attributes = {
    'gen_ai.guardrail.security.policy.id': decision.policy.name,
    'gen_ai.guardrail.security.risk.category': RISKS[finding.guardrail] ?? `custom:${finding.guardrail}.${finding.type}`,
    'gen_ai.guardrail.target.type': targetType(action.kind),
    'gen_ai.guardrail.component.name': finding.guardrail,
    'gen_ai.guardrail.security.risk.score': finding.score,
    'agentguard.finding.type': finding.type,
  };
  set(attributes, 'agentguard.finding.path', finding.path);
  return attributes;
}

/** What happened when the action ran: status, duration and (for model calls) token usage; its error message only with payloads. */
export function outcomeAttributes(outcome: Outcome, payloads: boolean): Attributes {
  const attributes: Attributes = { 'agentguard.outcome.status': outcome.status };
  set(attributes, 'agentguard.outcome.duration_ms', outcome.durationMs);
  const usage = outcome.usage;
  if (usage) {
    // gen_ai.usage.input_tokens counts every prompt token, cached ones included.
    const input = (usage.inputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0) + (usage.cacheCreationInputTokens ?? 0);
    if (usage.inputTokens !== undefined || usage.cacheReadInputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = input;
    set(attributes, 'gen_ai.usage.output_tokens', usage.outputTokens);
    set(attributes, 'gen_ai.usage.cache_read.input_tokens', usage.cacheReadInputTokens);
    set(attributes, 'gen_ai.usage.cache_creation.input_tokens', usage.cacheCreationInputTokens);
    set(attributes, 'gen_ai.usage.reasoning.output_tokens', usage.reasoningTokens);
    set(attributes, 'gen_ai.response.model', usage.model);
  }
  if (outcome.status === 'error') {
    attributes['error.type'] = 'action_failed';
    if (payloads && outcome.error) attributes['agentguard.outcome.error'] = payload(outcome.error);
  }
  return attributes;
}

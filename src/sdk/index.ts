// The public runtime API of agentguard (`import { Policy } from 'agentguard/sdk'`). Every export is listed by hand.
export { Policy } from '../core/policy/policy.js';
export type { Action, Decision, Effect, Reason, Finding } from '../core/action.js';
export type { PolicyDocument, RuleDocument, Condition, OperatorObject, TransformStep, DetectSpec, GuardrailEntry, RedactMode } from '../core/policy/types.js';
export type { Guardrail, GuardrailFactory, DetectOptions, Finding as GuardrailFinding } from '../core/guardrails/types.js';
export { redactionVaultOf } from '../core/pipeline.js';
export { RedactionVault, decryptTokens } from '../core/guardrails/redact/index.js';
export type { PolicyProblem } from '../core/policy/problem.js';
export type { RuleTrace, ConditionTrace } from '../core/policy/evaluate.js';
export type { Outcome, TokenUsage } from '../core/pipeline.js';
export { AgentGuardError, isAgentGuardError } from '../core/errors.js';
export { PolicyError, isPolicyError } from '../core/policy/policy-error.js';
export { SourceError } from '../core/policy/load.js';
export { AgentGuard } from './agent-guard.js';
export type { AgentGuardOptions, FailMode, LocalGuardOptions, ProtectOptions, SidecarConnection, SidecarGuardOptions } from './agent-guard.js';
export type { CircuitBreakerOptions } from './circuit-breaker.js';
export { AgentGuardDeniedError, ApprovalRequiredError, isAgentGuardDeniedError } from './errors.js';

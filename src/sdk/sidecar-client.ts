import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Action, Decision, Reason } from '../core/action.js';
import type { Outcome, Preview } from '../core/pipeline.js';
import type { ApprovalRecord } from '../core/approvals/types.js';
import { decisionProblem, previewProblem } from '../core/contracts/validate-decision.js';
import { AgentGuardError, isErrorCode, type ErrorCode } from '../core/errors.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { exchange, type Exchange } from './http-exchange.js';
import { isPlainObject } from '../core/plain-object.js';
import { JS_SDK_NAME, MIN_SIDECAR_VERSION, packageVersion, SDK_HEADER, SIDECAR_VERSION_HEADER, sidecarTooOld } from '../core/contracts/sdk-versions.js';
import { traceHeaders } from './trace-context.js';

/** What this SDK sends in SDK_HEADER, so the sidecar can tell it to upgrade rather than fail in a way it cannot explain. */
const SDK_ID = `${JS_SDK_NAME}/${packageVersion()}`;

/** Where the sidecar is and how to authenticate to it. */
export interface SidecarConnection {
  /** Base URL of the sidecar, e.g. `http://127.0.0.1:7777`. */
  url: string;
  /** A bearer token from `agentguard token create`. Never put in error messages. */
  token: string;
}

/**
 * Why a call to the sidecar failed. `unavailable` (code SIDECAR_UNAVAILABLE): no usable answer (refused, timeout, 5xx,
 * 429, a body that is not what was asked for). `rejected`: the sidecar answered 4xx, i.e. it judged this request (bad
 * action, wrong token, other agent); the error keeps the sidecar's own code (AGENT_MISMATCH, UNAUTHORIZED, …), or is
 * SIDECAR_REJECTED when the answer names no code this SDK knows.
 */
export class SidecarCallError extends AgentGuardError {
  override name = 'SidecarCallError';
  readonly kind: 'unavailable' | 'rejected';
  /** The HTTP status the sidecar answered with, when it answered. */
  readonly httpStatus?: number;

  constructor(kind: 'unavailable' | 'rejected', message: string, options: { code?: ErrorCode; actions?: string[]; httpStatus?: number } = {}) {
    super(options.code ?? (kind === 'unavailable' ? 'SIDECAR_UNAVAILABLE' : 'SIDECAR_REJECTED'), message, options.actions ? { actions: options.actions } : {});
    this.kind = kind;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }
}

/** Longest sidecar error message quoted back in a reason. */
const MAX_QUOTED = 300;

/** The HTTP client of the sidecar API (`POST /v1/decide`, `POST /v1/preview`, `POST /v1/decisions/:id/outcome`). Every failure is a SidecarCallError. */
export class SidecarClient {
  private readonly base: URL;
  private readonly token: string;
  private readonly timeoutMs: number;
  /** The URL as shown in messages: no credentials, no query. */
  readonly displayUrl: string;

  constructor(connection: SidecarConnection, timeoutMs: number) {
    this.base = new URL(connection.url);
    this.token = connection.token;
    this.timeoutMs = timeoutMs;
    this.displayUrl = `${this.base.protocol}//${this.base.host}`;
  }

  /** Asks the sidecar to decide an action. */
  async decide(action: Action): Promise<Decision> {
    return this.decisionFrom(this.json(await this.post('/v1/decide', { action }, 'decide')));
  }

  /** Asks the sidecar what it would decide, without recording it (`POST /v1/preview`). */
  async preview(action: Action): Promise<Preview> {
    const parsed = this.json(await this.post('/v1/preview', { action }, 'preview'));
    const problem = previewProblem(parsed);
    if (problem) throw new SidecarCallError('unavailable', `the sidecar at ${this.displayUrl} answered something that is not a Preview: ${problem}`);
    return parsed as Preview;
  }

  private json(body: string): unknown {
    try {
      return JSON.parse(body);
    } catch {
      throw new SidecarCallError('unavailable', `the sidecar at ${this.displayUrl} answered a body that is not JSON`);
    }
  }

  private decisionFrom(parsed: unknown): Decision {
    const problem = decisionProblem(parsed);
    if (problem) throw new SidecarCallError('unavailable', `the sidecar at ${this.displayUrl} answered something that is not a Decision: ${problem}`);
    return parsed as Decision;
  }

  /** Reports the outcome of an action the sidecar allowed. */
  async outcome(decisionId: string, outcome: Outcome): Promise<void> {
    await this.post(`/v1/decisions/${encodeURIComponent(decisionId)}/outcome`, outcome, 'record an outcome');
  }

  /** An approval, waiting up to `waitS` seconds for a pending one to be decided (null when the sidecar knows none). */
  async approval(id: string, waitS = 0): Promise<ApprovalRecord | null> {
    try {
      const text = await this.request('GET', `/v1/approvals/${encodeURIComponent(id)}${waitS > 0 ? `?wait=${waitS}s` : ''}`, undefined, 'read an approval', waitS * 1000);
      return this.json(text) as ApprovalRecord;
    } catch (error) {
      if (error instanceof SidecarCallError && error.httpStatus === 404) return null;
      throw error;
    }
  }

  /** Spends an approval on one run of its action. */
  async consumeApproval(id: string, action: Action): Promise<boolean> {
    const parsed = this.json(await this.post(`/v1/approvals/${encodeURIComponent(id)}/consume`, { action }, 'use an approval'));
    return isPlainObject(parsed) && parsed.consumed === true;
  }

  private post(path: string, payload: unknown, what: string): Promise<string> {
    return this.request('POST', path, payload, what);
  }

  private async request(method: 'GET' | 'POST', path: string, payload: unknown, what: string, extraTimeoutMs = 0): Promise<string> {
    const url = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    let response: Exchange;
    try {
      const pending = traceHeaders();
      const trace = pending instanceof Promise ? await pending : pending;
      response = await exchange(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', [SDK_HEADER]: SDK_ID, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...trace },
        ...(method === 'POST' ? { body: JSON.stringify(payload) } : {}),
        timeoutMs: this.timeoutMs + extraTimeoutMs,
      });
    } catch (error) {
      throw new SidecarCallError('unavailable', this.scrub(this.transportMessage(error, what)));
    }
    const text = response.text;
    // Checked before the answer is read: a sidecar older than this SDK needs may not mean what this SDK understands.
    const tooOld = sidecarTooOld(response.header(SIDECAR_VERSION_HEADER), MIN_SIDECAR_VERSION, JS_SDK_NAME);
    if (tooOld) throw new SidecarCallError('rejected', this.scrub(`${tooOld} (${this.displayUrl})`), { code: 'SDK_TOO_NEW', actions: ['Upgrade the sidecar (agentguard), then restart it.'] });
    if (response.status >= 200 && response.status < 300) return text;
    const said = errorBodyOf(text);
    const message = this.scrub(`the sidecar at ${this.displayUrl} answered ${response.status} to ${what}${describeErrorBody(said)}`);
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      const code = isErrorCode(said?.code) ? said.code : undefined;
      const actions = said?.actions.map((action) => this.scrub(action));
      throw new SidecarCallError('rejected', message, { ...(code ? { code } : {}), ...(code && actions?.length ? { actions } : {}), httpStatus: response.status });
    }
    throw new SidecarCallError('unavailable', message, { httpStatus: response.status });
  }

  private transportMessage(error: unknown, what: string): string {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
      return `the sidecar at ${this.displayUrl} did not answer within ${this.timeoutMs} ms (asked to ${what})`;
    }
    const cause = err?.cause;
    const detail = cause?.code ?? cause?.message ?? err?.message ?? String(error);
    return `could not reach the sidecar at ${this.displayUrl} to ${what} (${detail})`;
  }

  /** Belt and braces: a server may echo the token back; it never reaches a message. */
  private scrub(message: string): string {
    return this.token === '' ? message : message.split(this.token).join('[redacted]');
  }
}

/** What an ErrorResponse body (`{ error: { code, message, actions } }`) says, or undefined when the body is not one. */
function errorBodyOf(text: string): { code?: string; message?: string; actions: string[] } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = isPlainObject(body) && isPlainObject(body.error) ? body.error : undefined;
  if (!error) return undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const message = typeof error.message === 'string' ? error.message : undefined;
  const actions = Array.isArray(error.actions) ? error.actions.filter((a): a is string => typeof a === 'string').slice(0, 5).map(quoted) : [];
  if (!code && !message) return undefined;
  return { ...(code ? { code } : {}), ...(message ? { message } : {}), actions };
}

/** `: CODE message` from what an error body said, or nothing. */
function describeErrorBody(said: { code?: string; message?: string } | undefined): string {
  if (!said) return '';
  return `: ${quoted([said.code, said.message].filter(Boolean).join(' '))}`;
}

/** Text the sidecar sent, cut to MAX_QUOTED characters. */
function quoted(text: string): string {
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

/**
 * Options of sidecar mode: every action is decided by an agentguard sidecar over HTTP, which also records it.
 * Fails closed: when the sidecar cannot give a valid answer the decision is deny (reason code `sidecar_unavailable`);
 * when it refuses the request (4xx) the deny's reason code is the sidecar's error code (e.g. `AGENT_MISMATCH`).
 */
export interface SidecarGuardOptions {
  /** The sidecar's base URL and a bearer token from `agentguard token create`. */
  sidecar: SidecarConnection;
  /** Put on every action that names no agent. With an agent token the sidecar fills it in anyway. */
  agentId?: string;
  /** How long to wait for the sidecar's answer, in ms (default 1000). */
  timeoutMs?: number;
  /**
   * What to do when the sidecar is unavailable (refused, timed out, 5xx, invalid answer, circuit open).
   * `closed` (default): deny. `open`: ALLOW the action unchecked, with reason code `sidecar_unavailable_fail_open` and a
   * process warning each time. Only use `open` where running an unchecked action is less harmful than not running it.
   * A sidecar that answers 4xx (bad action, wrong token, another agent) is always a deny, even with `open`.
   */
  failMode?: FailMode;
  /** When to stop calling a failing sidecar (default: open after 5 consecutive failures, retry after 5 s). */
  circuitBreaker?: CircuitBreakerOptions;
}

/** Sidecar mode's answer when the sidecar is unavailable: `closed` denies, `open` allows. */
export type FailMode = 'closed' | 'open';


/** Default wait for the sidecar's answer. */
export const DEFAULT_SIDECAR_TIMEOUT_MS = 1000;
/** Longest timeout setTimeout can represent. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Options that only sidecar mode takes (local mode rejects them). */
export const SIDECAR_ONLY = ['timeoutMs', 'failMode', 'circuitBreaker'] as const;
/** Options that only local mode takes (sidecar mode rejects them). */
const LOCAL_ONLY = ['dataDir', 'audit', 'cost', 'store'] as const;

function optionsError(message: string): AgentGuardError {
  return new AgentGuardError('GUARD_OPTIONS', message);
}

/** Validates sidecar-mode options; throws GUARD_OPTIONS naming the field and what it needs. Never quotes the token. */
export function checkSidecarOptions(options: SidecarGuardOptions): SidecarGuardOptions {
  for (const key of LOCAL_ONLY) {
    if ((options as unknown as Record<string, unknown>)[key] !== undefined) {
      throw optionsError(`\`${key}\` applies to local mode only; in sidecar mode the sidecar keeps the audit trail, the ledger and the budgets (its agentguard.config.json)`);
    }
  }
  const { sidecar } = options;
  if (!isPlainObject(sidecar)) throw optionsError('`sidecar` must be an object `{ url, token }`');
  if (typeof sidecar.url !== 'string' || sidecar.url === '') throw optionsError('`sidecar.url` must be the sidecar\'s base URL, e.g. "http://127.0.0.1:7777"');
  let url: URL;
  try {
    url = new URL(sidecar.url);
  } catch {
    throw optionsError(`\`sidecar.url\` is not a valid URL: ${JSON.stringify(sidecar.url)} (e.g. "http://127.0.0.1:7777")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw optionsError(`\`sidecar.url\` must start with http:// or https://, got ${url.protocol}//`);
  if (url.username !== '' || url.password !== '') throw optionsError('`sidecar.url` must not hold credentials; pass the token as `sidecar.token`');
  if (typeof sidecar.token !== 'string' || sidecar.token === '') {
    throw optionsError('`sidecar.token` must be a bearer token from `agentguard token create` (a non-empty string)');
  }
  if (/[\s\u0000-\u001f\u007f]/.test(sidecar.token)) throw optionsError('`sidecar.token` holds whitespace or control characters; copy the token exactly as printed');
  if (options.agentId !== undefined && (typeof options.agentId !== 'string' || options.agentId === '')) {
    throw optionsError('`agentId` must be a non-empty string when given');
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw optionsError(`\`timeoutMs\` must be a number of milliseconds > 0, got ${String(timeoutMs)}`);
  }
  if (options.failMode !== undefined && options.failMode !== 'closed' && options.failMode !== 'open') {
    throw optionsError(`\`failMode\` must be "closed" (deny when the sidecar is unavailable, the default) or "open", got ${JSON.stringify(options.failMode)}`);
  }
  if (options.circuitBreaker !== undefined && !isPlainObject(options.circuitBreaker)) {
    throw optionsError('`circuitBreaker` must be an object `{ failureThreshold?, cooldownMs? }`');
  }
  try {
    new CircuitBreaker(options.circuitBreaker);
  } catch (error) {
    throw optionsError(`circuitBreaker.${(error as Error).message}`);
  }
  return options;
}

/** Prefix of the ids of decisions the SDK made itself because the sidecar could not decide. */
const LOCAL_ID_PREFIX = 'dec_local_';

/** Sidecar mode of AgentGuard: asks the sidecar, and turns every failure into a deny (or, when asked, an allow). */
export class SidecarDecider {
  private readonly client: SidecarClient;
  private readonly breaker: CircuitBreaker;
  private readonly failMode: FailMode;
  private readonly agentId?: string;

  constructor(options: SidecarGuardOptions) {
    this.client = new SidecarClient(options.sidecar, options.timeoutMs ?? DEFAULT_SIDECAR_TIMEOUT_MS);
    this.breaker = new CircuitBreaker(options.circuitBreaker);
    this.failMode = options.failMode ?? 'closed';
    if (options.agentId !== undefined) this.agentId = options.agentId;
  }

  /** Never rejects: a failure to decide is a deny Decision (reason code `sidecar_unavailable`, or the code of the sidecar's 4xx). */
  decide(given: Action): Promise<Decision> {
    return this.ask(given, (action) => this.client.decide(action), (decision) => decision);
  }

  /** Never rejects: a failure is a deny preview (`sidecar_unavailable`, or allow under failMode "open"). */
  preview(given: Action): Promise<Preview> {
    return this.ask(given, (action) => this.client.preview(action), (decision) => ({ decision, holdBack: 0 }));
  }

  private async ask<T>(given: Action, call: (action: Action) => Promise<T>, failed: (decision: Decision) => T): Promise<T> {
    const action = this.agentId && isPlainObject(given) && !given.agent?.id ? { ...given, agent: { ...(given.agent ?? {}), id: this.agentId } } : given;
    const started = performance.now();
    const permit = this.breaker.permit();
    if (!permit.ok) {
      const wait = permit.retryInMs > 0 ? `; it will be tried again in ${Math.ceil(permit.retryInMs)} ms` : '; a trial request is in flight';
      return failed(this.unavailable(action, `the circuit to the sidecar at ${this.client.displayUrl} is open after repeated failures${wait}`, started, true));
    }
    try {
      const answer = await call(action);
      this.breaker.success();
      return answer;
    } catch (error) {
      const failure = error instanceof SidecarCallError ? error : new SidecarCallError('unavailable', `the sidecar call failed: ${(error as Error)?.message ?? String(error)}`);
      // A 4xx answer proves the sidecar is up; only a rejected token (401) makes every later call fail too.
      if (failure.kind === 'unavailable' || failure.httpStatus === 401) this.breaker.failure();
      else this.breaker.success();
      if (failure.kind === 'rejected') return failed(this.refused(action, failure, started));
      return failed(this.unavailable(action, failure.message, started, true));
    }
  }

  /** The sidecar's approvals, for the guard's `approvals`: read (long-polling while waiting) and spend. */
  approvals(): { get(id: string, waitS?: number): Promise<ApprovalRecord | null>; consume(id: string, action: Action): Promise<boolean> } {
    return { get: (id, waitS) => this.client.approval(id, waitS), consume: (id, action) => this.client.consumeApproval(id, action) };
  }

  /** Posts the outcome; decisions the SDK made itself were never known to the sidecar, so they are skipped. */
  async recordOutcome(decision: Decision, outcome: Outcome): Promise<void> {
    if (decision.id.startsWith(LOCAL_ID_PREFIX)) return;
    await this.client.outcome(decision.id, outcome);
  }

  /** The deny for a request the sidecar refused (4xx): its reason keeps the sidecar's code, e.g. AGENT_MISMATCH. */
  private refused(action: Action, failure: SidecarCallError, started: number): Decision {
    return this.localDecision(action, { effect: 'deny', code: failure.code, message: failure.message }, started, 'sidecar-refused');
  }

  private unavailable(action: Action, message: string, started: number, mayFailOpen: boolean): Decision {
    const open = mayFailOpen && this.failMode === 'open';
    if (open) {
      process.emitWarning(`agentguard: failMode "open" let ${describeAction(action)} through unchecked: ${message}`, { code: 'AGENTGUARD_FAIL_OPEN' });
    }
    const reason: Reason = open
      ? { effect: 'allow', code: 'sidecar_unavailable_fail_open', message: `${message}; allowed unchecked because failMode is "open"` }
      : { effect: 'deny', code: 'sidecar_unavailable', message };
    return this.localDecision(action, reason, started, 'sidecar-unavailable');
  }

  /** A decision the SDK makes itself because the sidecar gave none. */
  private localDecision(action: Action, reason: Reason, started: number, policyName: string): Decision {
    return {
      id: `${LOCAL_ID_PREFIX}${randomBytes(16).toString('hex')}`,
      effect: reason.effect,
      action,
      reasons: [reason],
      findings: [],
      policy: { name: policyName, hash: '' },
      elapsedUs: Math.round((performance.now() - started) * 1000),
    };
  }
}

function describeAction(action: Action): string {
  return isPlainObject(action) && typeof action.name === 'string' ? JSON.stringify(action.name) : 'an action';
}

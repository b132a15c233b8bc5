"""What the sync and the asyncio client share: options, requests, reading answers, failing closed, protect's shapes.

Only the transport differs between AgentGuard and AsyncAgentGuard; every rule about what an answer means lives here,
mirroring the TypeScript SDK (src/sdk/sidecar-client.ts, agent-guard.ts, approvals.ts).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

from ._http import Endpoint, HttpResponse, TransportError, parse_endpoint
from ._version import MIN_SIDECAR_VERSION, SDK_NAME, __version__
from ._versions import sidecar_too_old
from .breaker import DEFAULT_COOLDOWN_S, DEFAULT_FAILURE_THRESHOLD, CircuitBreaker
from .errors import AgentGuardError, GuardOptionsError, SidecarCallError, is_error_code
from .models import ActionLike, Approval, ApprovalRecord, Decision, JsonObject, Preview, Reason, Usage, action_dict
from ._trace import trace_headers
from .validate import decision_problem, error_body, parse_json, preview_problem

FailMode = Literal["closed", "open"]

DEFAULT_URL = "http://127.0.0.1:7777"
DEFAULT_TIMEOUT_S = 1.0
#: Longest sidecar error message quoted back in a reason.
MAX_QUOTED = 300
#: Prefix of the ids of decisions the SDK made itself because the sidecar could not decide.
LOCAL_ID_PREFIX = "dec_local_"
#: Each look of approvals.wait() long-polls the sidecar this long, so a person's answer arrives at once.
APPROVAL_POLL_WAIT_S = 20
DEFAULT_APPROVAL_WAIT_S = 15 * 60.0
#: Request headers of the version handshake (see src/core/contracts/sdk-versions.ts).
SDK_HEADER = "x-agentguard-sdk"
SIDECAR_VERSION_HEADER = "x-agentguard-sidecar"
SDK_ID = f"{SDK_NAME}/{__version__}"


class AgentGuardFailOpenWarning(UserWarning):
    """fail_mode="open" let an action through unchecked because the sidecar was unavailable. Shown every time."""


warnings.filterwarnings("always", category=AgentGuardFailOpenWarning)


@dataclass(frozen=True)
class ApprovalWait:
    """How long ``wait_for_approval`` waits for a person's answer (default 15 minutes), and how often it looks again."""

    timeout_s: float = DEFAULT_APPROVAL_WAIT_S
    poll_s: float = 0.5


WaitForApproval = Union[bool, ApprovalWait]


@dataclass(frozen=True)
class Request:
    method: Literal["GET", "POST"]
    path: str
    what: str
    body: Optional[bytes] = None
    extra_timeout_s: float = 0.0


def _quoted(text: str) -> str:
    return text[:MAX_QUOTED] + "…" if len(text) > MAX_QUOTED else text


class SidecarCore:
    """Options, the circuit breaker, and the meaning of every answer; no I/O."""

    def __init__(
        self,
        url: Optional[str],
        token: Optional[str],
        timeout: float,
        fail_mode: str,
        agent_id: Optional[str],
        failure_threshold: int,
        cooldown_s: float,
    ) -> None:
        url = url if url is not None else os.environ.get("AGENTGUARD_SIDECAR_URL") or DEFAULT_URL
        token = token if token is not None else os.environ.get("AGENTGUARD_TOKEN")
        if not isinstance(url, str) or url == "":
            raise GuardOptionsError('`url` must be the sidecar\'s base URL, e.g. "http://127.0.0.1:7777"')
        try:
            self.endpoint: Endpoint = parse_endpoint(url)
        except ValueError as error:
            raise GuardOptionsError(f"`url` {error} (e.g. \"http://127.0.0.1:7777\")") from None
        if not isinstance(token, str) or token == "":
            raise GuardOptionsError("`token` must be a bearer token from `agentguard token create` (or set AGENTGUARD_TOKEN)")
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in token):
            raise GuardOptionsError("`token` holds whitespace or control characters; copy the token exactly as printed")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
            raise GuardOptionsError(f"`timeout` must be a number of seconds > 0, got {timeout!r}")
        if fail_mode not in ("closed", "open"):
            raise GuardOptionsError(f'`fail_mode` must be "closed" (deny when the sidecar is unavailable, the default) or "open", got {fail_mode!r}')
        if agent_id is not None and (not isinstance(agent_id, str) or agent_id == ""):
            raise GuardOptionsError("`agent_id` must be a non-empty string when given")
        try:
            self.breaker = CircuitBreaker(failure_threshold, cooldown_s)
        except ValueError as error:
            raise GuardOptionsError(str(error)) from None
        self.token = token
        self.timeout_s = float(timeout)
        self.fail_mode: FailMode = "open" if fail_mode == "open" else "closed"
        self.agent_id = agent_id

    @property
    def display_url(self) -> str:
        return self.endpoint.display

    def headers(self, has_body: bool) -> Dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", SDK_HEADER: SDK_ID}
        if has_body:
            out["Content-Type"] = "application/json"
        out.update(trace_headers())
        return out

    # ---- requests -------------------------------------------------------------------------------------------------

    def with_agent(self, action: ActionLike) -> JsonObject:
        given = action_dict(action)
        agent = given.get("agent")
        if self.agent_id and not (isinstance(agent, dict) and agent.get("id")):
            given["agent"] = {**(agent if isinstance(agent, dict) else {}), "id": self.agent_id}
        return given

    def _post(self, path: str, payload: Any, what: str) -> Request:
        try:
            body = json.dumps(payload, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise AgentGuardError("ACTION_NOT_JSON", f"the action cannot be sent as JSON ({error}); pass JSON values (dict, list, str, int, float, bool, None)") from None
        return Request("POST", path, what, body)

    def decide_request(self, action: JsonObject) -> Request:
        return self._post("/v1/decide", {"action": action}, "decide")

    def preview_request(self, action: JsonObject) -> Request:
        return self._post("/v1/preview", {"action": action}, "preview")

    def outcome_request(self, decision_id: str, status: str, duration_ms: Optional[float], error: Optional[str], usage: Union[Usage, Mapping[str, Any], None]) -> Request:
        if status not in ("ok", "error"):
            raise GuardOptionsError(f'`status` must be "ok" or "error", got {status!r}')
        body: JsonObject = {"status": status}
        if duration_ms is not None:
            body["durationMs"] = max(0.0, float(duration_ms))
        if error is not None:
            body["error"] = error[:4096]
        if usage is not None:
            body["usage"] = usage.to_dict() if isinstance(usage, Usage) else dict(usage)
        return self._post(f"/v1/decisions/{quote(decision_id, safe='')}/outcome", body, "record an outcome")

    def approval_request(self, approval_id: str, wait_s: int) -> Request:
        query = f"?wait={wait_s}s" if wait_s > 0 else ""
        return Request("GET", f"/v1/approvals/{quote(approval_id, safe='')}{query}", "read an approval", None, float(wait_s))

    def consume_request(self, approval_id: str, action: JsonObject) -> Request:
        return self._post(f"/v1/approvals/{quote(approval_id, safe='')}/consume", {"action": action}, "use an approval")

    # ---- answers --------------------------------------------------------------------------------------------------

    def scrub(self, message: str) -> str:
        """Belt and braces: a server may echo the token back; it never reaches a message."""
        return message.replace(self.token, "[redacted]")

    def transport_failure(self, error: TransportError, what: str) -> SidecarCallError:
        if error.timed_out:
            message = f"the sidecar at {self.display_url} did not answer within {round(self.timeout_s * 1000)} ms (asked to {what})"
        else:
            message = f"could not reach the sidecar at {self.display_url} to {what} ({error})"
        return SidecarCallError("unavailable", self.scrub(message))

    def body_of(self, response: HttpResponse, what: str) -> bytes:
        """The body of a 2xx answer; SidecarCallError for anything else, keeping the sidecar's code of a 4xx."""
        too_old = sidecar_too_old(response.headers.get(SIDECAR_VERSION_HEADER), MIN_SIDECAR_VERSION, SDK_NAME)
        if too_old is not None:
            raise SidecarCallError("rejected", self.scrub(f"{too_old} ({self.display_url})"), code="SDK_TOO_NEW", actions=["Upgrade the sidecar (agentguard), then restart it."])
        status = response.status
        if 200 <= status < 300:
            return response.body
        said = error_body(response.body)
        described = ""
        if said is not None:
            described = ": " + _quoted(" ".join(p for p in (said["code"], said["message"]) if p))
        message = self.scrub(f"the sidecar at {self.display_url} answered {status} to {what}{described}")
        if 400 <= status < 500 and status != 429:
            code = said["code"] if said is not None and is_error_code(said["code"]) else None
            actions = [self.scrub(_quoted(a)) for a in said["actions"]] if said is not None and code else []
            raise SidecarCallError("rejected", message, code=code, actions=actions, http_status=status)
        raise SidecarCallError("unavailable", message, http_status=status)

    def json_of(self, body: bytes) -> Any:
        try:
            return parse_json(body)
        except (ValueError, RecursionError):
            raise SidecarCallError("unavailable", f"the sidecar at {self.display_url} answered a body that is not JSON") from None

    def decision_of(self, response: HttpResponse) -> Decision:
        parsed = self.json_of(self.body_of(response, "decide"))
        problem = decision_problem(parsed)
        if problem is not None:
            raise SidecarCallError("unavailable", f"the sidecar at {self.display_url} answered something that is not a Decision: {problem}")
        return Decision.from_dict(parsed)

    def preview_of(self, response: HttpResponse) -> Preview:
        parsed = self.json_of(self.body_of(response, "preview"))
        problem = preview_problem(parsed)
        if problem is not None:
            raise SidecarCallError("unavailable", f"the sidecar at {self.display_url} answered something that is not a Preview: {problem}")
        return Preview(decision=Decision.from_dict(parsed["decision"]), hold_back=int(parsed["holdBack"]))

    def approval_of(self, response: HttpResponse) -> Optional[ApprovalRecord]:
        try:
            parsed = self.json_of(self.body_of(response, "read an approval"))
        except SidecarCallError as error:
            if error.http_status == 404:
                return None
            raise
        if not isinstance(parsed, dict) or not isinstance(parsed.get("id"), str) or parsed.get("status") not in ("pending", "approved", "denied", "expired", "cancelled"):
            raise SidecarCallError("unavailable", f"the sidecar at {self.display_url} answered something that is not an approval")
        decided_by = parsed.get("decidedBy")
        comment = parsed.get("comment")
        return ApprovalRecord(
            id=parsed["id"],
            status=parsed["status"],
            expires_at=str(parsed.get("expiresAt", "")),
            decided_by=decided_by if isinstance(decided_by, str) else None,
            comment=comment if isinstance(comment, str) else None,
            raw=parsed,
        )

    def consumed_of(self, response: HttpResponse) -> bool:
        parsed = self.json_of(self.body_of(response, "use an approval"))
        return isinstance(parsed, dict) and parsed.get("consumed") is True

    # ---- failing closed -------------------------------------------------------------------------------------------

    def refused_by_breaker(self, action: JsonObject, started: float) -> Optional[Decision]:
        """The deny (or fail-open allow) to answer at once while the circuit is open; None to go ahead."""
        permit = self.breaker.permit()
        if permit.ok:
            return None
        wait = f"; it will be tried again in {math.ceil(permit.retry_in_s * 1000)} ms" if permit.retry_in_s > 0 else "; a trial request is in flight"
        return self.unavailable(action, f"the circuit to the sidecar at {self.display_url} is open after repeated failures{wait}", started)

    def succeeded(self) -> None:
        self.breaker.success()

    def failed(self, action: JsonObject, error: BaseException, started: float) -> Decision:
        """The decision for a call that failed: a deny keeping the sidecar's code when it refused, else unavailable."""
        failure = error if isinstance(error, SidecarCallError) else SidecarCallError("unavailable", f"the sidecar call failed: {error}")
        # A 4xx answer proves the sidecar is up; only a rejected token (401) makes every later call fail too.
        if failure.kind == "unavailable" or failure.http_status == 401:
            self.breaker.failure()
        else:
            self.breaker.success()
        if failure.kind == "rejected":
            return self.local_decision(action, Reason(effect="deny", code=failure.code, message=failure.message), started, "sidecar-refused")
        return self.unavailable(action, failure.message, started)

    def unavailable(self, action: JsonObject, message: str, started: float) -> Decision:
        if self.fail_mode == "open":
            name = json.dumps(action.get("name")) if isinstance(action.get("name"), str) else "an action"
            # A fresh registry each time: the "default" filter (unittest's, python -W default) would show it once only.
            warnings.warn_explicit(f'agentguard: fail_mode "open" let {name} through unchecked: {message}', AgentGuardFailOpenWarning, __file__, 0, module="agentguard", registry={})
            reason = Reason(effect="allow", code="sidecar_unavailable_fail_open", message=f'{message}; allowed unchecked because fail_mode is "open"')
        else:
            reason = Reason(effect="deny", code="sidecar_unavailable", message=message)
        return self.local_decision(action, reason, started, "sidecar-unavailable")

    def local_decision(self, action: JsonObject, reason: Reason, started: float, policy_name: str) -> Decision:
        from .models import Action, PolicyRef

        kind = action.get("kind")
        name = action.get("name")
        return Decision(
            id=f"{LOCAL_ID_PREFIX}{secrets.token_hex(16)}",
            effect=reason.effect,
            action=Action(
                kind=kind if isinstance(kind, str) else "",
                name=name if isinstance(name, str) else "",
                input=action.get("input") if isinstance(action.get("input"), dict) else None,
                context=action.get("context") if isinstance(action.get("context"), dict) else None,
                agent=action.get("agent") if isinstance(action.get("agent"), dict) else None,
            ),
            reasons=[reason],
            findings=[],
            policy=PolicyRef(name=policy_name, hash=""),
            elapsed_us=round((time.perf_counter() - started) * 1_000_000),
        )


# ---- approvals ----------------------------------------------------------------------------------------------------


def wait_options(wait: WaitForApproval) -> ApprovalWait:
    return wait if isinstance(wait, ApprovalWait) else ApprovalWait()


def settle(decision: Decision, record: ApprovalRecord, consumed: Optional[bool]) -> Decision:
    """
    The decision a person's answer leads to (as the TypeScript SDK's settleApproval): allow once approved and spent on
    this run (``consumed``), else deny with approval_wait_timeout, approval_<status> or approval_used.
    """
    assert decision.approval is not None
    approval_id = decision.approval.id
    approval = Approval(id=approval_id, status=record.status, expires_at=decision.approval.expires_at)

    def with_reason(effect: Literal["allow", "deny"], code: str, message: str) -> Decision:
        return Decision(
            id=decision.id,
            effect=effect,
            action=decision.action,
            reasons=[*decision.reasons, Reason(effect=effect, code=code, message=message)],
            findings=decision.findings,
            policy=decision.policy,
            elapsed_us=decision.elapsed_us,
            approval=approval,
        )

    if record.status == "pending":
        return with_reason("deny", "approval_wait_timeout", f"No one decided approval {approval_id} while the agent waited, so the action did not run (it stays pending until {record.expires_at})")
    by = f" by {record.decided_by}" if record.decided_by else ""
    comment = f": {record.comment}" if record.comment else ""
    if record.status != "approved":
        return with_reason("deny", f"approval_{record.status}", f"Approval {approval_id} was {record.status}{by}{comment}, so the action did not run")
    if not consumed:
        return with_reason("deny", "approval_used", f"Approval {approval_id} was already used, or is for another action, so this run is not authorised")
    return with_reason("allow", "approval_approved", f"Approval {approval_id} was approved{by}{comment}; this run used it")


def missing_approval(approval_id: str) -> AgentGuardError:
    return AgentGuardError("APPROVAL_NOT_FOUND", f"approval {approval_id} does not exist")


# ---- protect ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallShape:
    """How a protected function was called, so the decided (maybe transformed) input can be handed back the same way."""

    kind: Literal["single", "kwargs", "args"]


def call_action(name: str, kind: str, args: Sequence[Any], kwargs: Mapping[str, Any], context: Optional[Mapping[str, Any]]) -> Tuple[JsonObject, CallShape]:
    """
    The action of one call. A single dict argument is the input; keyword arguments alone are the input; anything else
    is ``{"args": [...]}`` (with ``"kwargs"`` when some were given). Read once, as JSON: the policy decides on this copy
    and the function runs on what the decision hands back.
    """
    if len(args) == 1 and not kwargs and isinstance(args[0], dict):
        shape, value = CallShape("single"), args[0]
    elif not args and kwargs:
        shape, value = CallShape("kwargs"), dict(kwargs)
    else:
        shape = CallShape("args")
        value = {"args": list(args), **({"kwargs": dict(kwargs)} if kwargs else {})}
    try:
        snapshot = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise AgentGuardError(
            "ACTION_NOT_JSON",
            f"the arguments of {name} cannot be decided: they are not JSON ({error}); protect functions that take JSON values",
        ) from None
    action: JsonObject = {"kind": kind, "name": name, "input": snapshot}
    if context is not None:
        action["context"] = dict(context)
    return action, shape


def call_arguments(decision: Decision, shape: CallShape, name: str) -> Tuple[List[Any], Dict[str, Any]]:
    """The arguments to run the function with: those of the decision's action (the transformed copy)."""
    value = decision.action.input
    if shape.kind in ("single", "kwargs"):
        if not isinstance(value, dict):
            raise AgentGuardError("TRANSFORM_SHAPE", f"the policy's transform left {name} without an input object, so it was not run")
        return ([value], {}) if shape.kind == "single" else ([], dict(value))
    args = value.get("args") if isinstance(value, dict) else None
    kwargs = value.get("kwargs", {}) if isinstance(value, dict) else None
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise AgentGuardError("TRANSFORM_SHAPE", f"the policy's transform removed the arguments of {name}, so it was not run")
    return list(args), dict(kwargs)


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def outcome_warning(decision: Decision, error: BaseException) -> None:
    warnings.warn(f"agentguard: could not record the outcome of {decision.id}: {error}", RuntimeWarning, stacklevel=3)


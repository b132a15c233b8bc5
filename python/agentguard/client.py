"""AgentGuard (blocking) and AsyncAgentGuard (asyncio): the same API over the sidecar, failing closed the same way."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, TypeVar, Union, cast

from ._core import (
    APPROVAL_POLL_WAIT_S,
    DEFAULT_TIMEOUT_S,
    ApprovalWait,
    CallShape,
    Request,
    SidecarCore,
    WaitForApproval,
    call_action,
    call_arguments,
    elapsed_ms,
    missing_approval,
    outcome_warning,
    settle,
    wait_options,
)
from ._http import HttpResponse, TransportError, request_async, request_sync
from .breaker import DEFAULT_COOLDOWN_S, DEFAULT_FAILURE_THRESHOLD
from .errors import AgentGuardDeniedError, AgentGuardError, ApprovalRequiredError
from .models import ActionLike, ApprovalRecord, Decision, Preview, Usage, action_dict

R = TypeVar("R")
UsageLike = Union[Usage, Mapping[str, Any], None]


def _closed() -> AgentGuardError:
    return AgentGuardError("GUARD_CLOSED", "this AgentGuard was closed")


def _gate(decision: Decision) -> None:
    """Raises unless the decision lets the function run now; require_approval is settled by the caller first."""
    if decision.effect == "require_approval":
        raise ApprovalRequiredError(decision)
    if decision.effect not in ("allow", "transform"):
        raise AgentGuardDeniedError(decision)


class AgentGuard:
    """
    The guard a Python agent calls before it acts, in blocking code: every action is decided by an agentguard sidecar.
    When the sidecar cannot answer (refused, timeout, 5xx, an answer that is not a Decision, circuit open) the decision
    is deny with reason code ``sidecar_unavailable``; a 4xx keeps the sidecar's code (UNAUTHORIZED, SDK_TOO_OLD…).

    ``url`` and ``token`` default to AGENTGUARD_SIDECAR_URL (else http://127.0.0.1:7777) and AGENTGUARD_TOKEN.
    ``fail_mode="open"`` allows unchecked actions while the sidecar is unavailable, with a warning each time.

    Example::

        guard = AgentGuard(url="http://127.0.0.1:7777", token=os.environ["AGENTGUARD_TOKEN"])

        @guard.protect("db.query")
        def query(sql: str) -> list: ...

        query(sql="SELECT 1")          # runs; "DROP TABLE users" raises AgentGuardDeniedError and never runs
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        fail_mode: str = "closed",
        *,
        agent_id: Optional[str] = None,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
    ) -> None:
        self._core = SidecarCore(url, token, timeout, fail_mode, agent_id, failure_threshold, cooldown_s)
        self._closed = False
        self.approvals = Approvals(self)

    @property
    def url(self) -> str:
        return self._core.display_url

    @property
    def circuit(self) -> str:
        """The circuit breaker's state: "closed", "open" or "half-open"."""
        return self._core.breaker.state

    def _send(self, request: Request) -> HttpResponse:
        try:
            return request_sync(self._core.endpoint, request.method, request.path, self._core.headers(request.body is not None), request.body, self._core.timeout_s + request.extra_timeout_s)
        except TransportError as error:
            raise self._core.transport_failure(error, request.what) from None

    def _ask(self, action: ActionLike, request_for: Callable[[Dict[str, Any]], Request], answer: Callable[[HttpResponse], R], failed: Callable[[Decision], R]) -> R:
        if self._closed:
            raise _closed()
        given = self._core.with_agent(action)
        request = request_for(given)
        started = time.perf_counter()
        refused = self._core.refused_by_breaker(given, started)
        if refused is not None:
            return failed(refused)
        try:
            result = answer(self._send(request))
        except Exception as error:  # noqa: BLE001 - every failure to decide is a decision, never an escape
            return failed(self._core.failed(given, error, started))
        self._core.succeeded()
        return result

    def decide(self, action: ActionLike, *, wait_for_approval: WaitForApproval = False) -> Decision:
        """
        Decides an action (the sidecar records the decision). Never raises for sidecar failures: they are a deny.
        A require_approval decision comes back at once, pending, unless ``wait_for_approval`` is set: then it waits for
        a person's answer and returns allow once approved (the approval spent on the run the caller makes now) or deny.
        """
        decision = self._ask(action, self._core.decide_request, self._core.decision_of, lambda d: d)
        if decision.effect != "require_approval" or not wait_for_approval or decision.approval is None:
            return decision
        return self._settle(decision, wait_options(wait_for_approval))

    def _settle(self, decision: Decision, wait: ApprovalWait) -> Decision:
        assert decision.approval is not None
        record = self.approvals.wait(decision.approval.id, timeout_s=wait.timeout_s, poll_s=wait.poll_s)
        consumed = self.approvals.consume(record.id, decision.action) if record.status == "approved" else None
        return settle(decision, record, consumed)

    def preview(self, action: ActionLike) -> Preview:
        """What the policy would decide, not recorded (so it never authorises running the action)."""
        return self._ask(action, self._core.preview_request, self._core.preview_of, lambda d: Preview(decision=d, hold_back=0))

    def report_outcome(
        self,
        decision_id: Union[str, Decision],
        status: str,
        duration_ms: Optional[float] = None,
        error: Optional[str] = None,
        usage: UsageLike = None,
    ) -> None:
        """
        Records what happened when an allowed action ran ("ok" or "error"). Raises SidecarCallError when the sidecar
        does not take it. Decisions the SDK made itself (sidecar unavailable) were never known to the sidecar: skipped.
        """
        key = decision_id.id if isinstance(decision_id, Decision) else decision_id
        if key.startswith("dec_local_"):
            return
        request = self._core.outcome_request(key, status, duration_ms, error, usage)
        self._core.body_of(self._send(request), request.what)

    def protect(
        self,
        name: Optional[str] = None,
        *,
        kind: str = "tool",
        wait_for_approval: WaitForApproval = False,
        context: Optional[Mapping[str, Any]] = None,
    ) -> Callable[[Callable[..., R]], Callable[..., R]]:
        """
        A decorator: each call of the function is decided first (``name`` defaults to the function's name). A single
        dict argument is the action's input, keyword arguments alone are the input, anything else is
        ``{"args": [...]}``; the function runs with the decided (maybe transformed) input. On deny it raises
        AgentGuardDeniedError, on require_approval ApprovalRequiredError (or, with ``wait_for_approval``, waits for a
        person's answer), in every case without running the function. The outcome is reported after it ran.
        """

        def decorate(fn: Callable[..., R]) -> Callable[..., R]:
            if inspect.iscoroutinefunction(fn):
                raise TypeError(f"{fn.__name__} is a coroutine function: protect it with AsyncAgentGuard, whose decisions do not block the event loop")
            action_name = name or fn.__name__

            @functools.wraps(fn)
            def guarded(*args: Any, **kwargs: Any) -> R:
                action, shape = call_action(action_name, kind, args, kwargs, context)
                decision = self.decide(action)
                if decision.effect == "require_approval" and wait_for_approval and decision.approval is not None:
                    settled = self._settle(decision, wait_options(wait_for_approval))
                    if settled.effect != "allow":
                        raise AgentGuardDeniedError(settled)
                    decision = settled
                _gate(decision)
                return self._run(fn, decision, shape, action_name)

            return guarded

        return decorate

    def _run(self, fn: Callable[..., R], decision: Decision, shape: CallShape, name: str) -> R:
        call_args, call_kwargs = call_arguments(decision, shape, name)
        started = time.perf_counter()
        try:
            result = fn(*call_args, **call_kwargs)
        except Exception as error:
            self._outcome_quietly(decision, "error", elapsed_ms(started), str(error) or type(error).__name__)
            raise
        self._outcome_quietly(decision, "ok", elapsed_ms(started), None)
        return result

    def _outcome_quietly(self, decision: Decision, status: str, duration_ms: float, error: Optional[str], usage: UsageLike = None) -> None:
        """The action already ran: failing to record its outcome must not turn its result into an error."""
        try:
            self.report_outcome(decision.id, status, duration_ms, error, usage)
        except Exception as failure:  # noqa: BLE001
            outcome_warning(decision, failure)

    def close(self) -> None:
        """Later calls to decide() raise GUARD_CLOSED. Each request has its own connection, so nothing else is open."""
        self._closed = True

    def __enter__(self) -> "AgentGuard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Approvals:
    """Approvals of require_approval decisions: read one, wait for a person's answer, spend one on one run."""

    def __init__(self, guard: AgentGuard) -> None:
        self._guard = guard

    def get(self, approval_id: str, wait_s: int = 0) -> Optional[ApprovalRecord]:
        """The approval (None when the sidecar knows none), long-polling up to ``wait_s`` seconds while it is pending."""
        core = self._guard._core
        return core.approval_of(self._guard._send(core.approval_request(approval_id, wait_s)))

    def wait(self, approval_id: str, timeout_s: float = ApprovalWait().timeout_s, poll_s: float = ApprovalWait().poll_s) -> ApprovalRecord:
        """Returns once the approval is no longer pending, or at ``timeout_s`` with the pending record as last read."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            record = self.get(approval_id, int(max(0.0, min(APPROVAL_POLL_WAIT_S, remaining))))
            if record is None:
                raise missing_approval(approval_id)
            remaining = deadline - time.monotonic()
            if record.status != "pending" or remaining <= 0:
                return record
            time.sleep(min(poll_s, remaining))

    def consume(self, approval_id: str, action: ActionLike) -> bool:
        """Marks an approved approval as used by a run of exactly this action; True once."""
        core = self._guard._core
        return core.consumed_of(self._guard._send(core.consume_request(approval_id, action_dict(action))))


class AsyncAgentGuard:
    """
    AgentGuard for asyncio: the same API, each call awaited, the HTTP exchange on the running event loop (asyncio
    streams, never a thread). ``protect`` takes async and plain functions and returns a coroutine function.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        fail_mode: str = "closed",
        *,
        agent_id: Optional[str] = None,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
    ) -> None:
        self._core = SidecarCore(url, token, timeout, fail_mode, agent_id, failure_threshold, cooldown_s)
        self._closed = False
        self.approvals = AsyncApprovals(self)

    @property
    def url(self) -> str:
        return self._core.display_url

    @property
    def circuit(self) -> str:
        return self._core.breaker.state

    async def _send(self, request: Request) -> HttpResponse:
        try:
            return await request_async(self._core.endpoint, request.method, request.path, self._core.headers(request.body is not None), request.body, self._core.timeout_s + request.extra_timeout_s)
        except TransportError as error:
            raise self._core.transport_failure(error, request.what) from None

    async def _ask(self, action: ActionLike, request_for: Callable[[Dict[str, Any]], Request], answer: Callable[[HttpResponse], R], failed: Callable[[Decision], R]) -> R:
        if self._closed:
            raise _closed()
        given = self._core.with_agent(action)
        request = request_for(given)
        started = time.perf_counter()
        refused = self._core.refused_by_breaker(given, started)
        if refused is not None:
            return failed(refused)
        try:
            result = answer(await self._send(request))
        except Exception as error:  # noqa: BLE001 - every failure to decide is a decision, never an escape
            return failed(self._core.failed(given, error, started))
        self._core.succeeded()
        return result

    async def decide(self, action: ActionLike, *, wait_for_approval: WaitForApproval = False) -> Decision:
        """See AgentGuard.decide."""
        decision = await self._ask(action, self._core.decide_request, self._core.decision_of, lambda d: d)
        if decision.effect != "require_approval" or not wait_for_approval or decision.approval is None:
            return decision
        return await self._settle(decision, wait_options(wait_for_approval))

    async def _settle(self, decision: Decision, wait: ApprovalWait) -> Decision:
        assert decision.approval is not None
        record = await self.approvals.wait(decision.approval.id, timeout_s=wait.timeout_s, poll_s=wait.poll_s)
        consumed = await self.approvals.consume(record.id, decision.action) if record.status == "approved" else None
        return settle(decision, record, consumed)

    async def preview(self, action: ActionLike) -> Preview:
        """See AgentGuard.preview."""
        return await self._ask(action, self._core.preview_request, self._core.preview_of, lambda d: Preview(decision=d, hold_back=0))

    async def report_outcome(
        self,
        decision_id: Union[str, Decision],
        status: str,
        duration_ms: Optional[float] = None,
        error: Optional[str] = None,
        usage: UsageLike = None,
    ) -> None:
        """See AgentGuard.report_outcome."""
        key = decision_id.id if isinstance(decision_id, Decision) else decision_id
        if key.startswith("dec_local_"):
            return
        request = self._core.outcome_request(key, status, duration_ms, error, usage)
        self._core.body_of(await self._send(request), request.what)

    def protect(
        self,
        name: Optional[str] = None,
        *,
        kind: str = "tool",
        wait_for_approval: WaitForApproval = False,
        context: Optional[Mapping[str, Any]] = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]:
        """See AgentGuard.protect; the guarded function is a coroutine function whether ``fn`` is async or not."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
            action_name = name or fn.__name__
            is_async = inspect.iscoroutinefunction(fn)

            @functools.wraps(fn)
            async def guarded(*args: Any, **kwargs: Any) -> Any:
                action, shape = call_action(action_name, kind, args, kwargs, context)
                decision = await self.decide(action)
                if decision.effect == "require_approval" and wait_for_approval and decision.approval is not None:
                    settled = await self._settle(decision, wait_options(wait_for_approval))
                    if settled.effect != "allow":
                        raise AgentGuardDeniedError(settled)
                    decision = settled
                _gate(decision)
                call_args, call_kwargs = call_arguments(decision, shape, action_name)
                started = time.perf_counter()
                try:
                    result = fn(*call_args, **call_kwargs)
                    if is_async or inspect.isawaitable(result):
                        result = await cast(Awaitable[Any], result)
                except Exception as error:
                    await self._outcome_quietly(decision, "error", elapsed_ms(started), str(error) or type(error).__name__)
                    raise
                await self._outcome_quietly(decision, "ok", elapsed_ms(started), None)
                return result

            return guarded

        return decorate

    async def _outcome_quietly(self, decision: Decision, status: str, duration_ms: float, error: Optional[str], usage: UsageLike = None) -> None:
        try:
            await self.report_outcome(decision.id, status, duration_ms, error, usage)
        except Exception as failure:  # noqa: BLE001
            outcome_warning(decision, failure)

    async def close(self) -> None:
        """Later calls to decide() raise GUARD_CLOSED."""
        self._closed = True

    async def __aenter__(self) -> "AsyncAgentGuard":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncApprovals:
    """Approvals for AsyncAgentGuard: see Approvals."""

    def __init__(self, guard: AsyncAgentGuard) -> None:
        self._guard = guard

    async def get(self, approval_id: str, wait_s: int = 0) -> Optional[ApprovalRecord]:
        core = self._guard._core
        return core.approval_of(await self._guard._send(core.approval_request(approval_id, wait_s)))

    async def wait(self, approval_id: str, timeout_s: float = ApprovalWait().timeout_s, poll_s: float = ApprovalWait().poll_s) -> ApprovalRecord:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            remaining = deadline - loop.time()
            record = await self.get(approval_id, int(max(0.0, min(APPROVAL_POLL_WAIT_S, remaining))))
            if record is None:
                raise missing_approval(approval_id)
            remaining = deadline - loop.time()
            if record.status != "pending" or remaining <= 0:
                return record
            await asyncio.sleep(min(poll_s, remaining))

    async def consume(self, approval_id: str, action: ActionLike) -> bool:
        core = self._guard._core
        return core.consumed_of(await self._guard._send(core.consume_request(approval_id, action_dict(action))))

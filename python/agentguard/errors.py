"""The SDK's errors. Each carries a ``code`` of agentguard's error registry (docs/errors.md)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, List, Literal, Optional, Sequence

if TYPE_CHECKING:
    from .models import Decision

#: What a sidecar's error code looks like (the registry's codes: UNAUTHORIZED, AGENT_MISMATCH, SDK_TOO_OLD…).
_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def is_error_code(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 64 and _CODE.fullmatch(value) is not None


class AgentGuardError(Exception):
    """An error with a registry ``code``, a message saying what went wrong, and ``actions`` saying how to fix it."""

    def __init__(self, code: str, message: str, actions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.actions: List[str] = list(actions)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class GuardOptionsError(AgentGuardError, ValueError):
    """An AgentGuard was created with options it cannot use (code GUARD_OPTIONS); the message names the option."""

    def __init__(self, message: str) -> None:
        super().__init__("GUARD_OPTIONS", message)


class SidecarCallError(AgentGuardError):
    """
    A call to the sidecar failed. ``kind`` "unavailable" (code SIDECAR_UNAVAILABLE): no usable answer (refused, timeout,
    5xx, 429, a body that is not what was asked for). "rejected": the sidecar answered 4xx; the code is the sidecar's own
    (AGENT_MISMATCH, UNAUTHORIZED, SDK_TOO_OLD…), or SIDECAR_REJECTED when it named none.
    """

    def __init__(
        self,
        kind: Literal["unavailable", "rejected"],
        message: str,
        code: Optional[str] = None,
        actions: Sequence[str] = (),
        http_status: Optional[int] = None,
    ) -> None:
        super().__init__(code or ("SIDECAR_UNAVAILABLE" if kind == "unavailable" else "SIDECAR_REJECTED"), message, actions)
        self.kind = kind
        self.http_status = http_status


class AgentGuardDeniedError(AgentGuardError):
    """Raised by ``protect()`` when the decision is deny: the protected function did not run. ``decision`` holds why."""

    def __init__(self, decision: "Decision") -> None:
        why = decision.message or "denied"
        super().__init__("ACTION_DENIED", f"{decision.action.name} was denied: {why}")
        self.decision = decision


class ApprovalRequiredError(AgentGuardError):
    """
    Raised by ``protect()`` when the decision is require_approval and it does not wait: the function did not run.
    ``decision.approval.id`` is the approval to wait for (``guard.approvals.wait(id)``).
    """

    def __init__(self, decision: "Decision") -> None:
        super().__init__("APPROVAL_REQUIRED", f"{decision.action.name} needs approval: {decision.message}")
        self.decision = decision

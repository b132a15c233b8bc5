"""agentguard: a dependency-free Python client of the agentguard sidecar that fails closed.

    from agentguard import AgentGuard, AgentGuardDeniedError

    guard = AgentGuard()                      # AGENTGUARD_SIDECAR_URL, AGENTGUARD_TOKEN

    @guard.protect("db.query")
    def query(sql: str) -> list: ...

See docs/python.md in the agentguard repository.
"""

from ._core import AgentGuardFailOpenWarning, ApprovalWait, FailMode
from ._version import MIN_SIDECAR_VERSION, SDK_NAME, __version__
from .breaker import CircuitBreaker
from .client import AgentGuard, Approvals, AsyncAgentGuard, AsyncApprovals
from .errors import AgentGuardDeniedError, AgentGuardError, ApprovalRequiredError, GuardOptionsError, SidecarCallError
from .models import Action, Approval, ApprovalRecord, Decision, Effect, Finding, PolicyRef, Preview, Reason, Usage

__all__ = [
    "Action",
    "AgentGuard",
    "AgentGuardDeniedError",
    "AgentGuardError",
    "AgentGuardFailOpenWarning",
    "Approval",
    "ApprovalRecord",
    "ApprovalRequiredError",
    "ApprovalWait",
    "Approvals",
    "AsyncAgentGuard",
    "AsyncApprovals",
    "CircuitBreaker",
    "Decision",
    "Effect",
    "FailMode",
    "Finding",
    "GuardOptionsError",
    "MIN_SIDECAR_VERSION",
    "PolicyRef",
    "Preview",
    "Reason",
    "SDK_NAME",
    "SidecarCallError",
    "Usage",
    "__version__",
]

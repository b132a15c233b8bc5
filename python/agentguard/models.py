"""The Action an agent asks about and the Decision the sidecar answers, as typed dataclasses.

Field names follow Python style; ``to_dict()`` / ``from_dict()`` speak the sidecar's JSON (schemas/decision.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Mapping, Optional, Union

Effect = Literal["allow", "deny", "transform", "require_approval"]
ApprovalStatus = Literal["pending", "approved", "denied", "expired", "cancelled"]
OutcomeStatus = Literal["ok", "error"]

EFFECTS = ("allow", "deny", "transform", "require_approval")
APPROVAL_STATUSES = ("pending", "approved", "denied", "expired", "cancelled")

JsonObject = Dict[str, Any]


@dataclass
class Action:
    """What an agent is about to do: ``kind`` (tool, llm, http…), ``name`` (db.query), its ``input`` and ``context``."""

    kind: str
    name: str
    input: Optional[JsonObject] = None
    context: Optional[JsonObject] = None
    #: ``{"id": "support-bot", "role": …}``; an agent token fills in the id.
    agent: Optional[JsonObject] = None

    def to_dict(self) -> JsonObject:
        out: JsonObject = {"kind": self.kind, "name": self.name}
        if self.agent is not None:
            out["agent"] = self.agent
        if self.input is not None:
            out["input"] = self.input
        if self.context is not None:
            out["context"] = self.context
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "Action":
        return cls(
            kind=value["kind"],
            name=value["name"],
            input=value.get("input"),
            context=value.get("context"),
            agent=value.get("agent"),
        )


ActionLike = Union[Action, Mapping[str, Any]]


def action_dict(action: ActionLike) -> JsonObject:
    """An Action or its JSON form as the JSON the sidecar takes."""
    if isinstance(action, Action):
        return action.to_dict()
    if not isinstance(action, Mapping):
        raise TypeError(f'an action must be an Action or a dict like {{"kind": "tool", "name": "db.query", "input": {{...}}}}, got {type(action).__name__}')
    return dict(action)


@dataclass(frozen=True)
class Reason:
    """Why a decision came out the way it did; ``code`` is machine-readable (default, sidecar_unavailable, SDK_TOO_OLD…)."""

    effect: Effect
    message: str
    rule: Optional[str] = None
    code: Optional[str] = None

    def to_dict(self) -> JsonObject:
        out: JsonObject = {"effect": self.effect, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.code is not None:
            out["code"] = self.code
        return out


@dataclass(frozen=True)
class Finding:
    """What a guardrail found: its type and where (never the matched text)."""

    guardrail: str
    type: str
    start: int
    end: int
    score: float
    path: Optional[str] = None


@dataclass(frozen=True)
class PolicyRef:
    name: str
    hash: str


@dataclass(frozen=True)
class Approval:
    """For require_approval: the approval a person must give before the action may run."""

    id: str
    status: ApprovalStatus
    expires_at: str


@dataclass(frozen=True)
class Decision:
    """The answer to an action. Run it only when ``allowed`` (allow or transform), and then run ``action``: the transformed copy."""

    id: str
    effect: Effect
    action: Action
    reasons: List[Reason]
    findings: List[Finding]
    policy: PolicyRef
    elapsed_us: float
    approval: Optional[Approval] = None

    @property
    def allowed(self) -> bool:
        return self.effect in ("allow", "transform")

    @property
    def message(self) -> str:
        return "; ".join(r.message for r in self.reasons)

    def to_dict(self) -> JsonObject:
        out: JsonObject = {
            "id": self.id,
            "effect": self.effect,
            "action": self.action.to_dict(),
            "reasons": [r.to_dict() for r in self.reasons],
            "findings": [_finding_dict(f) for f in self.findings],
            "policy": {"name": self.policy.name, "hash": self.policy.hash},
            "elapsedUs": self.elapsed_us,
        }
        if self.approval is not None:
            out["approval"] = {"id": self.approval.id, "status": self.approval.status, "expiresAt": self.approval.expires_at}
        return out

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "Decision":
        """From JSON already checked by ``validate.decision_problem``."""
        approval = value.get("approval")
        return cls(
            id=value["id"],
            effect=value["effect"],
            action=Action.from_dict(value["action"]),
            reasons=[Reason(effect=r["effect"], message=r["message"], rule=r.get("rule"), code=r.get("code")) for r in value["reasons"]],
            findings=[
                Finding(guardrail=f["guardrail"], type=f["type"], start=int(f["start"]), end=int(f["end"]), score=float(f["score"]), path=f.get("path"))
                for f in value["findings"]
            ],
            policy=PolicyRef(name=value["policy"]["name"], hash=value["policy"]["hash"]),
            elapsed_us=float(value["elapsedUs"]),
            approval=Approval(id=approval["id"], status=approval["status"], expires_at=approval["expiresAt"]) if approval is not None else None,
        )


def _finding_dict(finding: Finding) -> JsonObject:
    out: JsonObject = {"guardrail": finding.guardrail, "type": finding.type, "start": finding.start, "end": finding.end, "score": finding.score}
    if finding.path is not None:
        out["path"] = finding.path
    return out


@dataclass(frozen=True)
class Preview:
    """``POST /v1/preview``'s answer: a decision that was not recorded, and how many characters a stream must hold back."""

    decision: Decision
    hold_back: int


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval as the sidecar keeps it (``GET /v1/approvals/{id}``); ``raw`` holds every field it sent."""

    id: str
    status: ApprovalStatus
    expires_at: str
    decided_by: Optional[str]
    comment: Optional[str]
    raw: JsonObject = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """Tokens an LLM call used, as the provider reported them (the sidecar's ``usage`` of an outcome)."""

    model: Optional[str] = None
    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    cache_read_input_tokens: Optional[int] = None
    cache_creation_input_tokens: Optional[int] = None
    reasoning_tokens: Optional[int] = None
    estimated: Optional[bool] = None

    def to_dict(self) -> JsonObject:
        names = {
            "model": self.model,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cacheReadInputTokens": self.cache_read_input_tokens,
            "cacheCreationInputTokens": self.cache_creation_input_tokens,
            "reasoningTokens": self.reasoning_tokens,
            "estimated": self.estimated,
        }
        return {k: v for k, v in names.items() if v is not None}

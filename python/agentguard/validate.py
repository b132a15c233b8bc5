"""Checks a sidecar's answer against the Decision schema (schemas/decision.schema.json), as the TypeScript SDK does.

Like the TypeScript SDK's precompiled validator (ajv with ``removeAdditional``): a missing or mistyped field fails,
fields the schema does not know are dropped from the value rather than refused (a newer sidecar may add some).
Messages name the field the way the TypeScript SDK does: ``"reasons.0.effect" must be one of allow, deny, …``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Optional, Tuple

from .models import APPROVAL_STATUSES, EFFECTS

_DECISION_ID = re.compile(r"dec_[0-9A-Za-z_]{1,124}")

# (field, type, required, enum); "object" fields keep unknown keys only where the schema allows them.
_Spec = Tuple[str, str, bool, Optional[Tuple[str, ...]]]

_REASON: List[_Spec] = [("rule", "string", False, None), ("effect", "string", True, EFFECTS), ("message", "string", True, None), ("code", "string", False, None)]
_FINDING: List[_Spec] = [
    ("guardrail", "string", True, None),
    ("type", "string", True, None),
    ("start", "integer", True, None),
    ("end", "integer", True, None),
    ("score", "number", True, None),
    ("path", "string", False, None),
]
_POLICY: List[_Spec] = [("name", "string", True, None), ("hash", "string", True, None)]
_APPROVAL: List[_Spec] = [("id", "string", True, None), ("status", "string", True, APPROVAL_STATUSES), ("expiresAt", "string", True, None)]


class _Problem(Exception):
    pass


def parse_json(body: bytes) -> Any:
    """JSON as the sidecar sends it; raises ValueError for anything else (NaN and Infinity included, as in JSON.parse)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(body.decode("utf-8"), parse_constant=refuse)


def _where(path: List[str]) -> str:
    return "the body" if not path else f'"{".".join(path)}"'


def _check_type(value: Any, kind: str, path: List[str]) -> None:
    ok = {
        "string": isinstance(value, str),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "boolean": isinstance(value, bool),
        # bool is an int in Python, never a number in JSON.
        "number": (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and math.isfinite(value)),
        "integer": (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()),
    }[kind]
    if not ok:
        raise _Problem(f"{_where(path)} must be {kind}")


def _check_closed(value: Any, specs: List[_Spec], path: List[str]) -> None:
    """An object of exactly these fields: unknown ones are removed, as ajv's removeAdditional does."""
    _check_type(value, "object", path)
    known = {name for name, _, _, _ in specs}
    for key in [k for k in value if k not in known]:
        del value[key]
    for name, kind, required, enum in specs:
        if name not in value:
            if required:
                raise _Problem(f'"{".".join(path + [name])}" is missing')
            continue
        _check_type(value[name], kind, path + [name])
        if enum is not None and value[name] not in enum:
            raise _Problem(f"{_where(path + [name])} must be one of {', '.join(enum)}")


def _check_action(value: Any, path: List[str]) -> None:
    """The Action inside a Decision is open: what the agent sent passes through whole."""
    _check_type(value, "object", path)
    for name in ("kind", "name"):
        if name not in value:
            raise _Problem(f'"{".".join(path + [name])}" is missing')
    _check_type(value["kind"], "string", path + ["kind"])
    _check_type(value["name"], "string", path + ["name"])
    for name in ("agent", "input", "context"):
        if name in value:
            _check_type(value[name], "object", path + [name])
    agent = value.get("agent")
    if isinstance(agent, dict) and "id" in agent:
        _check_type(agent["id"], "string", path + ["agent", "id"])


def _check_decision(value: Any, path: List[str]) -> None:
    _check_type(value, "object", path)
    required = ["id", "effect", "action", "reasons", "findings", "policy", "elapsedUs"]
    for name in required:
        if name not in value:
            raise _Problem(f'"{".".join(path + [name])}" is missing')
    for key in [k for k in value if k not in required and k != "approval"]:
        del value[key]
    _check_type(value["id"], "string", path + ["id"])
    if not _DECISION_ID.fullmatch(value["id"]):
        raise _Problem(f'{_where(path + ["id"])} must match pattern "^dec_[0-9A-Za-z_]{{1,124}}$"')
    _check_type(value["effect"], "string", path + ["effect"])
    if value["effect"] not in EFFECTS:
        raise _Problem(f"{_where(path + ['effect'])} must be one of {', '.join(EFFECTS)}")
    _check_action(value["action"], path + ["action"])
    _check_type(value["reasons"], "array", path + ["reasons"])
    for i, reason in enumerate(value["reasons"]):
        _check_closed(reason, _REASON, path + ["reasons", str(i)])
    _check_type(value["findings"], "array", path + ["findings"])
    for i, finding in enumerate(value["findings"]):
        _check_closed(finding, _FINDING, path + ["findings", str(i)])
    _check_closed(value["policy"], _POLICY, path + ["policy"])
    _check_type(value["elapsedUs"], "number", path + ["elapsedUs"])
    if "approval" in value:
        _check_closed(value["approval"], _APPROVAL, path + ["approval"])


def decision_problem(value: Any) -> Optional[str]:
    """What makes ``value`` not a Decision, or None when it is one (unknown fields are removed from it)."""
    try:
        _check_decision(value, [])
    except _Problem as problem:
        return str(problem)
    return None


def preview_problem(value: Any) -> Optional[str]:
    """The same for ``POST /v1/preview``'s ``{ decision, holdBack }``."""
    try:
        _check_type(value, "object", [])
        for name in ("decision", "holdBack"):
            if name not in value:
                raise _Problem(f'"{name}" is missing')
        for key in [k for k in value if k not in ("decision", "holdBack")]:
            del value[key]
        _check_decision(value["decision"], ["decision"])
        _check_type(value["holdBack"], "integer", ["holdBack"])
        if value["holdBack"] < 0:
            raise _Problem('"holdBack" must be >= 0')
    except _Problem as problem:
        return str(problem)
    return None


def error_body(body: bytes) -> Optional[Dict[str, Any]]:
    """What an ErrorResponse (``{"error": {"code", "message", "actions"}}``) says, or None when the body is not one."""
    try:
        parsed = parse_json(body)
    except ValueError:
        return None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    raw_actions = error.get("actions")
    actions = [a for a in raw_actions if isinstance(a, str)][:5] if isinstance(raw_actions, list) else []
    if code is None and message is None:
        return None
    return {"code": code, "message": message, "actions": actions}

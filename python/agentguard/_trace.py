"""The W3C trace context of the application's current OpenTelemetry span, sent with each request to the sidecar so
its decision span joins the application's trace. Without the ``opentelemetry-api`` package nothing is sent, and
nothing more than one failed import (once) is spent."""

from __future__ import annotations

import importlib
from typing import Any, Dict

_UNSET: Any = object()
_inject: Any = _UNSET

#: Only these are sent: baggage may carry the application's own data, which the sidecar has no use for.
_SENT = ("traceparent", "tracestate")


def _injector() -> Any:
    global _inject
    if _inject is _UNSET:
        try:
            _inject = importlib.import_module("opentelemetry.propagate").inject
        except ImportError:
            _inject = None
    return _inject


def trace_headers() -> Dict[str, str]:
    """``traceparent``/``tracestate`` of the current span, through the application's global propagator; {} without one."""
    inject = _injector()
    if inject is None:
        return {}
    carrier: Dict[str, str] = {}
    try:
        inject(carrier)
    except Exception:  # a propagator that fails must not fail the decision
        return {}
    return {key: value for key, value in carrier.items() if key in _SENT and isinstance(value, str)}

"""The W3C trace context of the application's current span goes with each request to the sidecar (when the
application uses OpenTelemetry); baggage does not, and without OpenTelemetry nothing is added."""

from __future__ import annotations

import sys
import types
import unittest
from typing import Dict
from unittest import mock

from agentguard import _trace
from agentguard._core import SidecarCore


def core() -> SidecarCore:
    return SidecarCore("http://127.0.0.1:7777", "token-1", 5, "closed", None, 5, 30)


class TraceContextTest(unittest.TestCase):
    def setUp(self) -> None:
        _trace._inject = _trace._UNSET

    def tearDown(self) -> None:
        _trace._inject = _trace._UNSET

    def test_sends_traceparent_and_tracestate_of_the_current_span_but_no_baggage(self) -> None:
        def inject(carrier: Dict[str, str]) -> None:
            carrier["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            carrier["tracestate"] = "vendor=1"
            carrier["baggage"] = "user=alice"

        # A stand-in for opentelemetry-api's propagate module and its global propagator.
        package = types.ModuleType("opentelemetry")
        propagate = types.ModuleType("opentelemetry.propagate")
        propagate.inject = inject  # type: ignore[attr-defined]
        with mock.patch.dict(sys.modules, {"opentelemetry": package, "opentelemetry.propagate": propagate}):
            headers = core().headers(True)
        self.assertEqual(headers["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        self.assertEqual(headers["tracestate"], "vendor=1")
        self.assertNotIn("baggage", headers)
        self.assertEqual(headers["Authorization"], "Bearer token-1")

    def test_adds_nothing_without_opentelemetry_or_when_its_propagator_fails(self) -> None:
        with mock.patch.dict(sys.modules, {"opentelemetry": None, "opentelemetry.propagate": None}):
            headers = core().headers(False)
        self.assertNotIn("traceparent", headers)
        _trace._inject = _trace._UNSET

        def broken(carrier: Dict[str, str]) -> None:
            raise RuntimeError("propagator failed")

        propagate = types.ModuleType("opentelemetry.propagate")
        propagate.inject = broken  # type: ignore[attr-defined]
        with mock.patch.dict(sys.modules, {"opentelemetry": types.ModuleType("opentelemetry"), "opentelemetry.propagate": propagate}):
            headers = core().headers(False)
        self.assertNotIn("traceparent", headers)
        self.assertEqual(headers["Accept"], "application/json")


if __name__ == "__main__":
    unittest.main()

"""Options, the Decision check and the circuit breaker, without a sidecar."""

from __future__ import annotations

import copy
import json
import os
import unittest
from typing import Any, Dict
from unittest import mock

from agentguard import AgentGuard, AsyncAgentGuard, CircuitBreaker, Decision, GuardOptionsError
from agentguard._http import ResponseParser, TransportError
from agentguard.validate import decision_problem, parse_json, preview_problem

VALID: Dict[str, Any] = {
    "id": "dec_0123",
    "effect": "allow",
    "action": {"kind": "tool", "name": "kb.search", "input": {"q": "x"}, "extra": {"kept": True}},
    "reasons": [{"rule": "r", "effect": "allow", "message": "ok"}],
    "findings": [{"guardrail": "pii", "type": "EMAIL_ADDRESS", "start": 0, "end": 5, "score": 0.9, "path": "input.q"}],
    "policy": {"name": "p", "hash": "h"},
    "elapsedUs": 3,
}


def variant(path: str, value: Any) -> Dict[str, Any]:
    out = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return out


class DecisionCheckTest(unittest.TestCase):
    def test_a_valid_decision_passes_and_unknown_fields_are_dropped(self) -> None:
        value = copy.deepcopy(VALID)
        value["newField"] = 1
        value["reasons"][0]["extra"] = "x"
        self.assertIsNone(decision_problem(value))
        self.assertNotIn("newField", value)
        self.assertNotIn("extra", value["reasons"][0])
        self.assertEqual(value["action"]["extra"], {"kept": True}, "the action passes through whole")
        decision = Decision.from_dict(value)
        self.assertEqual(decision.findings[0].type, "EMAIL_ADDRESS")
        self.assertEqual(Decision.from_dict(decision.to_dict()), decision)

    def test_what_is_not_a_decision(self) -> None:
        cases = {
            "id": ('"id" is missing', KeyError),
            "effect": ('"effect" must be one of allow, deny, transform, require_approval', "maybe"),
            "action.kind": ('"action.kind" is missing', KeyError),
            "action.name": ('"action.name" must be string', 3),
            "reasons.0.effect": ('"reasons.0.effect" must be one of allow, deny, transform, require_approval', "nope"),
            "reasons.0.message": ('"reasons.0.message" is missing', KeyError),
            "findings.0.start": ('"findings.0.start" must be integer', 1.5),
            "findings.0.score": ('"findings.0.score" must be number', True),
            "policy.hash": ('"policy.hash" is missing', KeyError),
            "elapsedUs": ('"elapsedUs" must be number', "3"),
            "reasons": ('"reasons" must be array', {}),
        }
        for path, (message, value) in cases.items():
            with self.subTest(path):
                self.assertEqual(decision_problem(variant(path, value)), message)
        self.assertEqual(decision_problem(variant("id", "dec_\n")), '"id" must match pattern "^dec_[0-9A-Za-z_]{1,124}$"')
        self.assertEqual(decision_problem(variant("id", "dec_ok\n")), '"id" must match pattern "^dec_[0-9A-Za-z_]{1,124}$"')
        self.assertEqual(decision_problem([]), "the body must be object")
        approval = variant("approval", {"id": "apr_1", "status": "later", "expiresAt": "t"})
        self.assertEqual(decision_problem(approval), '"approval.status" must be one of pending, approved, denied, expired, cancelled')
        self.assertEqual(preview_problem({"decision": copy.deepcopy(VALID), "holdBack": -1}), '"holdBack" must be >= 0')
        self.assertEqual(preview_problem({"decision": variant("effect", "x"), "holdBack": 0}), '"decision.effect" must be one of allow, deny, transform, require_approval')

    def test_json_as_javascript_reads_it(self) -> None:
        with self.assertRaises(ValueError):
            parse_json(b'{"elapsedUs": NaN}')
        with self.assertRaises(ValueError):
            parse_json(b"\xff")
        self.assertIsNone(decision_problem(json.loads(json.dumps(variant("findings.0.start", 2.0)))))


class OptionsTest(unittest.TestCase):
    def test_clear_errors_for_bad_options(self) -> None:
        cases = [
            ({"url": "ftp://x", "token": "t"}, "`url` must start with http:// or https://, got ftp"),
            ({"url": "http://u:p@127.0.0.1:1", "token": "t"}, "`url` must not hold credentials"),
            ({"url": "http://127.0.0.1:1", "token": ""}, "`token` must be a bearer token"),
            ({"url": "http://127.0.0.1:1", "token": "a b"}, "whitespace or control characters"),
            ({"url": "http://127.0.0.1:1", "token": "t", "timeout": 0}, "`timeout` must be a number of seconds > 0, got 0"),
            ({"url": "http://127.0.0.1:1", "token": "t", "fail_mode": "opne"}, "`fail_mode` must be \"closed\""),
            ({"url": "http://127.0.0.1:1", "token": "t", "failure_threshold": 0}, "failure_threshold must be a whole number >= 1, got 0"),
        ]
        for options, message in cases:
            for cls in (AgentGuard, AsyncAgentGuard):
                with self.subTest(cls=cls.__name__, options=options):
                    with self.assertRaises(GuardOptionsError) as caught:
                        cls(**options)
                    self.assertEqual(caught.exception.code, "GUARD_OPTIONS")
                    self.assertIn(message, caught.exception.message)
                    self.assertNotIn("p@", caught.exception.message)

    def test_environment_defaults(self) -> None:
        with mock.patch.dict(os.environ, {"AGENTGUARD_SIDECAR_URL": "http://127.0.0.1:7999/base/", "AGENTGUARD_TOKEN": "env-token"}):
            guard = AgentGuard()
        self.assertEqual(guard.url, "http://127.0.0.1:7999")
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaisesRegex(GuardOptionsError, "AGENTGUARD_TOKEN"):
                AgentGuard()

    def test_a_sync_guard_refuses_to_protect_a_coroutine_function(self) -> None:
        guard = AgentGuard(url="http://127.0.0.1:1", token="t")

        async def tool() -> None:
            return None

        with self.assertRaisesRegex(TypeError, "protect it with AsyncAgentGuard"):
            guard.protect("x")(tool)

    def test_arguments_that_are_not_json_are_refused_before_anything_is_sent(self) -> None:
        guard = AgentGuard(url="http://127.0.0.1:1", token="t")
        ran = []

        @guard.protect("kb.search")
        def search(handle: Any) -> None:
            ran.append(handle)

        with self.assertRaises(Exception) as caught:
            search(object())
        self.assertEqual(getattr(caught.exception, "code", None), "ACTION_NOT_JSON")
        self.assertEqual(ran, [])


class ResponseParserTest(unittest.TestCase):
    def feed_bytewise(self, raw: bytes) -> ResponseParser:
        parser = ResponseParser("POST")
        for i in range(len(raw)):
            parser.feed(raw[i : i + 1])
        return parser

    def test_content_length_and_chunked_answers_arriving_a_byte_at_a_time(self) -> None:
        parser = self.feed_bytewise(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Agentguard-Sidecar: 0.1.0\r\n\r\nhello")
        self.assertTrue(parser.done)
        response = parser.response()
        self.assertEqual((response.status, response.body, response.headers["x-agentguard-sidecar"]), (200, b"hello", "0.1.0"))
        chunked = self.feed_bytewise(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n")
        self.assertTrue(chunked.done)
        self.assertEqual(chunked.response().body, b"hello")

    def test_an_answer_cut_short_or_not_http_is_a_transport_error(self) -> None:
        cut = self.feed_bytewise(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel")
        with self.assertRaisesRegex(TransportError, "before the whole answer"):
            cut.eof()
        with self.assertRaisesRegex(TransportError, "not HTTP"):
            self.feed_bytewise(b"SSH-2.0-OpenSSH\r\n\r\n")
        with self.assertRaisesRegex(TransportError, "closed before an answer"):
            ResponseParser("POST").eof()
        until_close = ResponseParser("POST")
        until_close.feed(b"HTTP/1.1 200 OK\r\n\r\n{}")
        self.assertEqual(until_close.eof().body, b"{}")

    def test_a_non_mapping_action_is_refused_with_a_clear_error(self) -> None:
        with self.assertRaisesRegex(TypeError, "an action must be an Action or a dict"):
            AgentGuard(url="http://127.0.0.1:1", token="t").decide("db.query")  # type: ignore[arg-type]


class BreakerTest(unittest.TestCase):
    def test_same_thresholds_as_the_typescript_sdk(self) -> None:
        now = [0.0]
        breaker = CircuitBreaker(now=lambda: now[0])
        self.assertEqual((breaker.failure_threshold, breaker.cooldown_s), (5, 5.0))
        for _ in range(4):
            breaker.failure()
        self.assertEqual(breaker.state, "closed")
        breaker.failure()
        self.assertEqual(breaker.state, "open")
        permit = breaker.permit()
        self.assertEqual((permit.ok, permit.retry_in_s), (False, 5.0))
        now[0] = 5.0
        self.assertEqual(breaker.state, "half-open")
        self.assertTrue(breaker.permit().ok)
        self.assertEqual((breaker.permit().ok, breaker.permit().retry_in_s), (False, 0.0), "one trial at a time")
        breaker.failure()
        self.assertEqual(breaker.state, "open", "a failed trial opens it again")
        now[0] = 10.0
        self.assertTrue(breaker.permit().ok)
        breaker.success()
        self.assertEqual(breaker.state, "closed")


if __name__ == "__main__":
    unittest.main()

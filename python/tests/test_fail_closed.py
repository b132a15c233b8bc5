"""Both clients fail closed exactly like the TypeScript SDK: refused, never answered, garbage, 500, truncated JSON,
not a Decision, circuit open. The protected function never runs; fail_mode="open" allows only by name, warning each time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import unittest
import warnings
from typing import Any, Awaitable, Callable, List, Optional

from agentguard import AgentGuard, AgentGuardDeniedError, AgentGuardFailOpenWarning, AsyncAgentGuard, Decision

from . import support

TOKEN = "py-secret-token-0123456789"


def never_answers(_request: bytes, _conn: socket.socket) -> None:
    """Accepts and reads the request, then says nothing (the connection stays open until the server closes)."""


def garbage(_request: bytes, conn: socket.socket) -> None:
    conn.sendall(b"\x00\x01garbage that is not HTTP\r\n\r\n")
    conn.close()


def truncated_json(request: bytes, conn: socket.socket) -> None:
    body = support.decision_json(request)
    # Content-Length promises the whole body; half of it arrives, then the connection closes.
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[: len(body) // 2])
    conn.close()


def cut_json(request: bytes, conn: socket.socket) -> None:
    body = support.decision_json(request)[:40]
    support.http_answer(200, body)(request, conn)


def not_a_decision(request: bytes, conn: socket.socket) -> None:
    support.http_answer(200, support.decision_json(request, effect="maybe"))(request, conn)


def echo_token(request: bytes, conn: socket.socket) -> None:
    support.http_answer(500, json.dumps({"error": {"code": "INTERNAL", "message": f"bad token {TOKEN}"}}).encode())(request, conn)


SCENARIOS: List[tuple] = [
    ("a server that never answers", never_answers, r"did not answer within 300 ms \(asked to decide\)"),
    ("garbage instead of HTTP", garbage, r"could not reach the sidecar at http://127\.0\.0\.1:\d+ to decide \(the answer is not HTTP\)"),
    ("a 500", support.http_answer(500, b'{"error":{"code":"INTERNAL","message":"boom"}}'), r"answered 500 to decide: INTERNAL boom"),
    ("a 429", support.http_answer(429, b"{}"), r"answered 429 to decide"),
    ("truncated JSON (connection closed early)", truncated_json, r"closed before the whole answer arrived"),
    ("JSON cut short", cut_json, r"answered a body that is not JSON"),
    ("a body that is not a Decision", not_a_decision, r'not a Decision: "effect" must be one of allow, deny, transform, require_approval'),
    ("a 200 that is empty", support.http_answer(200, b""), r"answered a body that is not JSON"),
]


class FailClosedSync(unittest.TestCase):
    def deny_through(self, url: str, **options: Any) -> Decision:
        guard = AgentGuard(url=url, token=TOKEN, timeout=0.3, **options)
        ran: List[str] = []

        @guard.protect("kb.search")
        def search(q: str) -> str:
            ran.append(q)
            return "ran"

        with self.assertRaises(AgentGuardDeniedError) as caught:
            search(q="x")
        self.assertEqual(ran, [], "the protected function must never run")
        return caught.exception.decision

    def test_refused_connection(self) -> None:
        decision = self.deny_through(support.closed_port_url())
        self.assertEqual((decision.effect, decision.reasons[0].code), ("deny", "sidecar_unavailable"))
        self.assertRegex(decision.reasons[0].message, r"^could not reach the sidecar at http://127\.0\.0\.1:\d+ to decide \(ECONNREFUSED\)$")
        self.assertTrue(decision.id.startswith("dec_local_"))
        self.assertEqual(decision.policy.name, "sidecar-unavailable")

    def test_every_unusable_answer_denies(self) -> None:
        for label, respond, message in SCENARIOS:
            with self.subTest(label):
                server = support.RawServer(respond)
                try:
                    decision = self.deny_through(server.url)
                finally:
                    server.close()
                self.assertEqual(decision.reasons[0].code, "sidecar_unavailable")
                self.assertRegex(decision.reasons[0].message, message)
                self.assertEqual(len(server.requests), 1)

    def test_a_4xx_keeps_the_sidecars_code(self) -> None:
        body = json.dumps({"error": {"code": "AGENT_MISMATCH", "message": "this token belongs to another agent", "actions": ["Use the token of that agent."]}}).encode()
        server = support.RawServer(support.http_answer(403, body))
        try:
            decision = self.deny_through(server.url)
        finally:
            server.close()
        self.assertEqual(decision.reasons[0].code, "AGENT_MISMATCH")
        self.assertEqual(decision.policy.name, "sidecar-refused")
        unknown = support.RawServer(support.http_answer(400, b'{"error":{"message":"no code here"}}'))
        try:
            self.assertEqual(self.deny_through(unknown.url).reasons[0].code, "SIDECAR_REJECTED")
        finally:
            unknown.close()

    def test_the_token_never_reaches_a_message(self) -> None:
        server = support.RawServer(echo_token)
        try:
            decision = self.deny_through(server.url)
        finally:
            server.close()
        self.assertNotIn(TOKEN, json.dumps(decision.to_dict()))
        self.assertIn("[redacted]", decision.reasons[0].message)
        self.assertIn(f"Bearer {TOKEN}".encode(), server.requests[0])

    def test_the_real_sidecar_rejecting_a_token_is_unauthorized(self) -> None:
        sidecar = support.sidecar()
        decision = self.deny_through(sidecar.url, failure_threshold=50)
        self.assertEqual(decision.reasons[0].code, "UNAUTHORIZED")
        self.assertRegex(decision.reasons[0].message, r"answered 401 to decide: UNAUTHORIZED the bearer token is invalid or revoked")

    def test_fail_open_only_by_name_with_a_warning_each_time(self) -> None:
        guard = AgentGuard(url=support.closed_port_url(), token=TOKEN, timeout=0.3, fail_mode="open")
        ran: List[str] = []

        @guard.protect("kb.search")
        def search(q: str) -> str:
            ran.append(q)
            return "ran"

        with warnings.catch_warnings(record=True) as caught:
            self.assertEqual(search(q="a"), "ran")
            self.assertEqual(search(q="a"), "ran")
            decision = guard.decide({"kind": "tool", "name": "kb.search"})
        fail_open = [w for w in caught if issubclass(w.category, AgentGuardFailOpenWarning)]
        self.assertEqual(len(fail_open), 3)
        self.assertIn('fail_mode "open" let "kb.search" through unchecked', str(fail_open[0].message))
        self.assertEqual(ran, ["a", "a"])
        self.assertEqual((decision.effect, decision.reasons[0].code), ("allow", "sidecar_unavailable_fail_open"))

    def test_fail_open_still_denies_a_4xx(self) -> None:
        server = support.RawServer(support.http_answer(403, b'{"error":{"code":"FORBIDDEN","message":"no"}}'))
        try:
            decision = self.deny_through(server.url, fail_mode="open")
        finally:
            server.close()
        self.assertEqual(decision.reasons[0].code, "FORBIDDEN")


class CircuitBreakerThroughTheGuard(unittest.TestCase):
    def test_opens_after_the_threshold_and_sends_nothing_while_open(self) -> None:
        server = support.RawServer(support.http_answer(500, b"{}"))
        try:
            guard = AgentGuard(url=server.url, token=TOKEN, timeout=2, failure_threshold=5)
            for _ in range(5):
                self.assertEqual(guard.decide({"kind": "tool", "name": "kb.search"}).reasons[0].code, "sidecar_unavailable")
            self.assertEqual(guard.circuit, "open")
            refused = guard.decide({"kind": "tool", "name": "kb.search"})
            self.assertEqual(refused.effect, "deny")
            self.assertRegex(refused.reasons[0].message, r"the circuit to the sidecar at http://127\.0\.0\.1:\d+ is open after repeated failures; it will be tried again in \d+ ms")
            self.assertEqual(len(server.requests), 5)
        finally:
            server.close()

    def test_a_successful_trial_closes_it(self) -> None:
        answers: List[Callable[[bytes, socket.socket], None]] = [support.http_answer(500, b"{}")]

        def respond(request: bytes, conn: socket.socket) -> None:
            answers[0](request, conn)

        server = support.RawServer(respond)
        try:
            guard = AgentGuard(url=server.url, token=TOKEN, timeout=2, failure_threshold=2, cooldown_s=0)
            guard.decide({"kind": "tool", "name": "kb.search"})
            guard.decide({"kind": "tool", "name": "kb.search"})
            self.assertEqual(guard.circuit, "half-open")
            answers[0] = lambda request, conn: support.http_answer(200, support.decision_json(request))(request, conn)
            self.assertEqual(guard.decide({"kind": "tool", "name": "kb.search"}).effect, "allow")
            self.assertEqual(guard.circuit, "closed")
        finally:
            server.close()


class FailClosedAsync(unittest.IsolatedAsyncioTestCase):
    async def deny_through(self, url: str, **options: Any) -> Decision:
        guard = AsyncAgentGuard(url=url, token=TOKEN, timeout=0.3, **options)
        ran: List[str] = []

        @guard.protect("kb.search")
        async def search(q: str) -> str:
            ran.append(q)
            return "ran"

        with self.assertRaises(AgentGuardDeniedError) as caught:
            await search(q="x")
        self.assertEqual(ran, [], "the protected function must never run")
        return caught.exception.decision

    async def test_refused_connection(self) -> None:
        decision = await self.deny_through(support.closed_port_url())
        self.assertEqual(decision.reasons[0].code, "sidecar_unavailable")
        self.assertRegex(decision.reasons[0].message, r"\(ECONNREFUSED\)$")

    async def test_every_unusable_answer_denies(self) -> None:
        for label, respond, message in SCENARIOS:
            with self.subTest(label):
                server = support.RawServer(respond)
                try:
                    decision = await self.deny_through(server.url)
                finally:
                    server.close()
                self.assertEqual(decision.reasons[0].code, "sidecar_unavailable")
                self.assertRegex(decision.reasons[0].message, message)

    async def test_waiting_for_the_sidecar_does_not_block_the_event_loop(self) -> None:
        server = support.RawServer(never_answers)
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        try:
            guard = AsyncAgentGuard(url=server.url, token=TOKEN, timeout=0.5)
            task = asyncio.ensure_future(ticker())
            ticks_before = ticks
            decision = await guard.decide({"kind": "tool", "name": "kb.search"})
            done.set()
            await task
        finally:
            server.close()
        self.assertEqual(decision.reasons[0].code, "sidecar_unavailable")
        self.assertGreater(ticks, ticks_before + 1, "other tasks ran while the decision waited")

    async def test_circuit_opens_after_the_threshold(self) -> None:
        server = support.RawServer(support.http_answer(503, b"{}"))
        try:
            guard = AsyncAgentGuard(url=server.url, token=TOKEN, timeout=2)
            for _ in range(6):
                decision = await guard.decide({"kind": "tool", "name": "kb.search"})
            self.assertRegex(decision.reasons[0].message, "circuit .* is open")
            self.assertEqual(len(server.requests), 5)
        finally:
            server.close()

    async def test_fail_open_warns_each_time(self) -> None:
        guard = AsyncAgentGuard(url=support.closed_port_url(), token=TOKEN, timeout=0.3, fail_mode="open")
        with warnings.catch_warnings(record=True) as caught:
            first = await guard.decide({"kind": "tool", "name": "kb.search"})
            await guard.decide({"kind": "tool", "name": "kb.search"})
        self.assertEqual(first.effect, "allow")
        self.assertEqual(len([w for w in caught if issubclass(w.category, AgentGuardFailOpenWarning)]), 2)


if __name__ == "__main__":
    unittest.main()

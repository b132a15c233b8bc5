"""The SDK-version handshake with the sidecar, seen from Python."""

from __future__ import annotations

import json
import unittest
import urllib.error
import urllib.request

from agentguard import MIN_SIDECAR_VERSION, SDK_NAME, AgentGuard, AgentGuardDeniedError, __version__
from agentguard._versions import compare_versions, sidecar_too_old

from . import support


class HandshakeTest(unittest.TestCase):
    def test_the_client_names_itself_and_the_real_sidecar_serves_it(self) -> None:
        sidecar = support.sidecar()
        request = urllib.request.Request(sidecar.url + "/healthz")
        with urllib.request.urlopen(request, timeout=30) as response:
            version = response.headers["x-agentguard-sidecar"]
            support_range = response.headers["x-agentguard-sdk-support"]
        self.assertRegex(version, r"^\d+\.\d+\.\d+")
        self.assertIn(f"{SDK_NAME} >=", support_range)
        self.assertIsNone(sidecar_too_old(version, MIN_SIDECAR_VERSION, SDK_NAME))

        server = support.RawServer(support.http_answer(503, b"{}"))
        try:
            AgentGuard(url=server.url, token="t0ken-value").decide({"kind": "tool", "name": "kb.search"})
        finally:
            server.close()
        self.assertIn(f"x-agentguard-sdk: {SDK_NAME}/{__version__}\r\n".encode(), server.requests[0])

    def test_a_too_old_python_sdk_is_told_to_upgrade_by_the_real_sidecar(self) -> None:
        sidecar = support.sidecar()
        request = urllib.request.Request(
            sidecar.url + "/v1/decide",
            method="POST",
            data=json.dumps({"action": {"kind": "tool", "name": "kb.search"}}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {sidecar.agent_token}", "x-agentguard-sdk": f"{SDK_NAME}/0.0.1"},
        )
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(caught.exception.code, 400)
        error = json.loads(caught.exception.read())["error"]
        self.assertEqual(error["code"], "SDK_TOO_OLD")
        self.assertIn(f"{SDK_NAME} 0.0.1 is too old for this sidecar", error["message"])
        self.assertEqual(error["actions"], [f"Upgrade {SDK_NAME} to 0.1.0 or later."])

    def test_the_sidecars_upgrade_message_reaches_the_denied_call(self) -> None:
        body = json.dumps({"error": {"code": "SDK_TOO_OLD", "message": f"{SDK_NAME} 0.1.0 is too old for this sidecar", "actions": [f"Upgrade {SDK_NAME} to 0.2.0 or later."]}}).encode()
        server = support.RawServer(support.http_answer(400, body, {"x-agentguard-sidecar": "0.2.0"}))
        try:
            guard = AgentGuard(url=server.url, token="t0ken-value")
            ran = []

            @guard.protect("kb.search")
            def search(q: str) -> None:
                ran.append(q)

            with self.assertRaises(AgentGuardDeniedError) as caught:
                search(q="x")
        finally:
            server.close()
        self.assertEqual(ran, [])
        reason = caught.exception.decision.reasons[0]
        self.assertEqual(reason.code, "SDK_TOO_OLD")
        self.assertIn("is too old for this sidecar", reason.message)

    def test_a_sidecar_older_than_the_sdk_needs_is_a_deny_with_sdk_too_new(self) -> None:
        server = support.RawServer(lambda req, conn: support.http_answer(200, support.decision_json(req), {"x-agentguard-sidecar": "0.0.1"})(req, conn))
        try:
            decision = AgentGuard(url=server.url, token="t0ken-value").decide({"kind": "tool", "name": "kb.search"})
        finally:
            server.close()
        self.assertEqual((decision.effect, decision.reasons[0].code), ("deny", "SDK_TOO_NEW"))
        self.assertIn(f'the sidecar\'s version "0.0.1" is older than {SDK_NAME} needs', decision.reasons[0].message)

    def test_a_sidecar_without_the_header_is_served(self) -> None:
        server = support.RawServer(lambda req, conn: support.http_answer(200, support.decision_json(req))(req, conn))
        try:
            decision = AgentGuard(url=server.url, token="t0ken-value").decide({"kind": "tool", "name": "kb.search"})
        finally:
            server.close()
        self.assertEqual(decision.effect, "allow")

    def test_version_order(self) -> None:
        self.assertGreater(compare_versions("0.10.0", "0.9.9"), 0)
        self.assertLess(compare_versions("1.0.0-rc.1", "1.0.0"), 0)
        self.assertEqual(compare_versions("1.2.3+b", "1.2.3"), 0)
        with self.assertRaises(ValueError):
            compare_versions("1.2", "1.2.3")


if __name__ == "__main__":
    unittest.main()

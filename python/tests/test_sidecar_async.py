"""AsyncAgentGuard against a real sidecar: the same answers as the blocking client, on the event loop."""

from __future__ import annotations

import asyncio
import unittest
from typing import Any, Dict, List

from agentguard import AgentGuardDeniedError, ApprovalRequiredError, ApprovalWait, AsyncAgentGuard

from . import support
from .test_sidecar_sync import approve_when_pending


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    sidecar: support.Sidecar

    @classmethod
    def setUpClass(cls) -> None:
        cls.sidecar = support.sidecar()

    def guard(self) -> AsyncAgentGuard:
        return AsyncAgentGuard(url=self.sidecar.url, token=self.sidecar.agent_token, timeout=10)

    async def test_allow_deny_transform_and_concurrent_decisions(self) -> None:
        guard = self.guard()
        decisions = await asyncio.gather(
            guard.decide({"kind": "tool", "name": "kb.search", "input": {"q": "a"}}),
            guard.decide({"kind": "tool", "name": "db.query", "input": {"sql": "TRUNCATE users"}}),
            guard.decide({"kind": "tool", "name": "db.connect", "input": {"db": "main"}}),
            *[guard.decide({"kind": "tool", "name": "kb.search", "input": {"q": str(i)}}) for i in range(5)],
        )
        self.assertEqual([d.effect for d in decisions[:3]], ["allow", "deny", "transform"])
        self.assertEqual(decisions[2].action.input, {"db": "main", "readOnly": True})
        self.assertEqual(len({d.id for d in decisions}), len(decisions))
        preview = await guard.preview({"kind": "tool", "name": "db.query", "input": {"sql": "drop table x"}})
        self.assertEqual(preview.decision.effect, "deny")

    async def test_protect_async_and_plain_functions(self) -> None:
        guard = self.guard()
        ran: List[Any] = []

        @guard.protect("db.connect")
        async def connect(options: Dict[str, Any]) -> Dict[str, Any]:
            await asyncio.sleep(0)
            ran.append(options)
            return options

        @guard.protect("math.mul")
        def mul(a: int, b: int) -> int:
            return a * b

        @guard.protect("db.query")
        async def query(sql: str) -> str:
            ran.append(sql)
            raise ValueError("async failure")

        self.assertEqual(await connect({"db": "async"}), {"db": "async", "readOnly": True})
        self.assertEqual(await mul(6, 7), 42)
        with self.assertRaisesRegex(ValueError, "async failure"):
            await query(sql="SELECT async")
        with self.assertRaises(AgentGuardDeniedError):
            await query(sql="DELETE FROM users")
        self.assertEqual(ran, [{"db": "async", "readOnly": True}, "SELECT async"])

        records = await asyncio.to_thread(self.sidecar.audit, "--type", "outcome")
        statuses = {(r["data"]["name"], r["data"]["status"]) for r in records}
        self.assertIn(("math.mul", "ok"), statuses)
        self.assertIn(("db.query", "error"), statuses)
        self.assertIn("async failure", [r["data"].get("error") for r in records])

    async def test_approvals(self) -> None:
        guard = self.guard()
        ran: List[int] = []

        @guard.protect("payments.refund")
        async def refund_now(amount: int, reason: str) -> None:
            ran.append(amount)

        with self.assertRaises(ApprovalRequiredError) as caught:
            await refund_now(amount=900, reason="async-pending")
        approval = caught.exception.decision.approval
        assert approval is not None
        record = await guard.approvals.get(approval.id)
        assert record is not None
        self.assertEqual(record.status, "pending")

        @guard.protect("payments.refund", wait_for_approval=ApprovalWait(timeout_s=60, poll_s=0.2))
        async def refund(amount: int, reason: str) -> str:
            ran.append(amount)
            return "done"

        person = approve_when_pending(self.sidecar, "async-approve")
        self.assertEqual(await refund(amount=901, reason="async-approve"), "done")
        person.join(timeout=5)
        self.assertEqual(ran, [901])


if __name__ == "__main__":
    unittest.main()

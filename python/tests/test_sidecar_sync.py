"""AgentGuard (blocking) against a real sidecar: allow, deny, transform, approvals, outcomes in the audit trail."""

from __future__ import annotations

import threading
import time
import unittest
from typing import Any, Dict, List

from agentguard import Action, AgentGuard, AgentGuardDeniedError, ApprovalRequiredError, ApprovalWait, Decision, Usage

from . import support


def approve_when_pending(sidecar: support.Sidecar, reason: str, verdict: str = "approve") -> threading.Thread:
    """A person answering the pending approval of the action whose ``input.reason`` is ``reason`` (through the admin API)."""

    def answer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = sidecar.admin("GET", "/v1/approvals?status=pending")["approvals"]
            mine = [a for a in pending if (a["action"].get("input") or {}).get("reason") == reason]
            if mine:
                sidecar.admin("POST", f"/v1/approvals/{mine[0]['id']}/{verdict}", {"by": "alice", "comment": "checked"})
                return
            time.sleep(0.1)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


class SyncClientTest(unittest.TestCase):
    sidecar: support.Sidecar
    guard: AgentGuard

    @classmethod
    def setUpClass(cls) -> None:
        cls.sidecar = support.sidecar()
        cls.guard = AgentGuard(url=cls.sidecar.url, token=cls.sidecar.agent_token, timeout=10)

    def test_decide_answers_typed_decisions(self) -> None:
        allowed = self.guard.decide(Action(kind="tool", name="kb.search", input={"q": "refunds"}))
        self.assertIsInstance(allowed, Decision)
        self.assertEqual(allowed.effect, "allow")
        self.assertTrue(allowed.allowed)
        self.assertEqual(allowed.reasons[0].rule, "kb-read")
        self.assertEqual(allowed.action.agent, {"id": "py-bot"})
        self.assertEqual(allowed.policy.name, "python-sdk-test")
        self.assertTrue(allowed.policy.hash.startswith("sha256:"))
        denied = self.guard.decide({"kind": "tool", "name": "db.query", "input": {"sql": "DROP TABLE users"}})
        self.assertEqual((denied.effect, denied.reasons[0].rule, denied.reasons[0].message), ("deny", "no-destructive-sql", "Destructive SQL is not allowed"))
        transformed = self.guard.decide({"kind": "tool", "name": "db.connect", "input": {"db": "main"}})
        self.assertEqual(transformed.effect, "transform")
        self.assertEqual(transformed.action.input, {"db": "main", "readOnly": True})

    def test_preview_is_not_recorded(self) -> None:
        preview = self.guard.preview({"kind": "tool", "name": "kb.preview-only", "input": {"q": "x"}})
        self.assertEqual(preview.decision.effect, "allow")
        self.assertGreaterEqual(preview.hold_back, 0)
        recorded = [r for r in self.sidecar.audit("--type", "decision") if r["data"]["action"]["name"] == "kb.preview-only"]
        self.assertEqual(recorded, [])

    def test_protect_runs_allowed_and_transformed_calls_and_records_outcomes(self) -> None:
        calls: List[Any] = []

        @self.guard.protect("db.connect")
        def connect(options: Dict[str, Any]) -> Dict[str, Any]:
            calls.append(options)
            return options

        @self.guard.protect("math.add")
        def add(a: int, b: int) -> int:
            return a + b

        @self.guard.protect("db.query")
        def query(sql: str) -> str:
            calls.append(sql)
            if sql == "SELECT fail":
                raise RuntimeError("the database is down")
            return "rows"

        self.assertEqual(connect({"db": "main"}), {"db": "main", "readOnly": True})
        self.assertEqual(add(2, 3), 5)
        self.assertEqual(add.__name__, "add")
        self.assertEqual(query(sql="SELECT 1"), "rows")
        with self.assertRaisesRegex(RuntimeError, "the database is down"):
            query(sql="SELECT fail")
        self.assertEqual(calls, [{"db": "main", "readOnly": True}, "SELECT 1", "SELECT fail"])

        records = self.sidecar.audit()
        decisions = {r["decisionId"]: r for r in records if r["type"] == "decision"}
        outcomes = [r for r in records if r["type"] == "outcome"]
        # Keyed by the input each decision let run (the transformed one for db.connect).
        by_input = {json_key(decisions[o["decisionId"]]["data"]["action"]["input"]): o["data"] for o in outcomes if o["decisionId"] in decisions}
        self.assertEqual(by_input[json_key({"db": "main", "readOnly": True})]["status"], "ok")
        self.assertEqual(by_input[json_key({"args": [2, 3]})]["status"], "ok")
        self.assertEqual(by_input[json_key({"sql": "SELECT 1"})]["status"], "ok")
        self.assertEqual(by_input[json_key({"sql": "SELECT fail"})]["status"], "error")
        self.assertEqual(by_input[json_key({"sql": "SELECT fail"})]["error"], "the database is down")

    def test_protect_never_runs_a_denied_call(self) -> None:
        ran: List[str] = []

        @self.guard.protect("db.query")
        def query(sql: str) -> str:
            ran.append(sql)
            return "rows"

        with self.assertRaises(AgentGuardDeniedError) as caught:
            query(sql="drop table users")
        self.assertEqual(ran, [])
        self.assertEqual(caught.exception.code, "ACTION_DENIED")
        self.assertEqual(caught.exception.decision.reasons[0].rule, "no-destructive-sql")
        self.assertIn("db.query was denied: Destructive SQL is not allowed", str(caught.exception))

    def test_report_outcome_with_usage(self) -> None:
        decision = self.guard.decide({"kind": "llm", "name": "gpt-test", "input": {"messages": []}})
        self.guard.report_outcome(decision.id, "ok", 12.5, usage=Usage(model="gpt-test", input_tokens=10, output_tokens=2))
        outcome = next(r for r in self.sidecar.audit("--type", "outcome") if r["decisionId"] == decision.id)
        self.assertEqual(outcome["data"]["usage"]["inputTokens"], 10)
        self.assertEqual(outcome["data"]["status"], "ok")

    def test_approval_required_without_waiting_never_runs(self) -> None:
        ran: List[int] = []

        @self.guard.protect("payments.refund")
        def refund(amount: int) -> str:
            ran.append(amount)
            return "refunded"

        self.assertEqual(refund(amount=50), "refunded")
        with self.assertRaises(ApprovalRequiredError) as caught:
            refund(amount=500)
        self.assertEqual(ran, [50])
        approval = caught.exception.decision.approval
        assert approval is not None
        self.assertEqual(approval.status, "pending")
        record = self.guard.approvals.get(approval.id)
        assert record is not None
        self.assertEqual((record.id, record.status), (approval.id, "pending"))
        self.assertIsNone(self.guard.approvals.get("apr_00000000000000000000000000000000"))

    def test_wait_for_approval_runs_once_when_approved(self) -> None:
        ran: List[int] = []

        @self.guard.protect("payments.refund", wait_for_approval=ApprovalWait(timeout_s=60, poll_s=0.2))
        def refund(amount: int, reason: str) -> str:
            ran.append(amount)
            return f"refunded {amount}"

        person = approve_when_pending(self.sidecar, "sync-approve")
        self.assertEqual(refund(amount=101, reason="sync-approve"), "refunded 101")
        person.join(timeout=5)
        self.assertEqual(ran, [101])
        outcomes = [r for r in self.sidecar.audit("--type", "outcome") if r["data"].get("name") == "payments.refund"]
        self.assertTrue(any(o["data"]["status"] == "ok" for o in outcomes))

    def test_wait_for_approval_denied_or_not_decided_never_runs(self) -> None:
        ran: List[int] = []

        @self.guard.protect("payments.refund", wait_for_approval=True)
        def refund(amount: int, reason: str) -> None:
            ran.append(amount)

        person = approve_when_pending(self.sidecar, "sync-deny", verdict="deny")
        with self.assertRaises(AgentGuardDeniedError) as caught:
            refund(amount=102, reason="sync-deny")
        person.join(timeout=5)
        self.assertEqual(caught.exception.decision.reasons[-1].code, "approval_denied")
        self.assertIn("by alice: checked", caught.exception.decision.reasons[-1].message)

        waited = self.guard.decide({"kind": "tool", "name": "payments.refund", "input": {"amount": 103}}, wait_for_approval=ApprovalWait(timeout_s=0.5, poll_s=0.1))
        self.assertEqual((waited.effect, waited.reasons[-1].code), ("deny", "approval_wait_timeout"))
        self.assertEqual(ran, [])


def json_key(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


if __name__ == "__main__":
    unittest.main()

"""A plain Python tool-calling loop guarded through the agentguard sidecar, offline against a fake OpenAI-compatible
provider. The model request is decided first (an e-mail address is redacted before it leaves); each tool call the
model asks for is decided before it runs: allowed, denied (never runs), or run once a person approved it.

    python examples/python/tool_loop.py        (after npm run build and pip install ./python)
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict, List

from _support import CALLS, PROMPT, TOOLS_SPEC, FakeOpenAI, Sidecar, scripted_model

from agentguard import AgentGuard, AgentGuardDeniedError, ApprovalWait

sidecar = Sidecar(agent="python-support-agent")
provider = FakeOpenAI(scripted_model(CALLS, final="Order 7 is refunded; I did not touch the orders table."))
ran: List[str] = []
try:
    print(f"sidecar:   listening on {sidecar.url} (pid {sidecar.pid})")
    # The agent holds the sidecar's URL and its own token, nothing else (or AGENTGUARD_SIDECAR_URL / AGENTGUARD_TOKEN).
    guard = AgentGuard(url=sidecar.url, token=sidecar.token, timeout=10)

    @guard.protect("lookup_order")
    def lookup_order(order_id: int) -> Dict[str, Any]:
        ran.append("lookup_order")
        return {"id": order_id, "status": "delivered", "total": 250}

    @guard.protect("run_sql")
    def run_sql(sql: str) -> List[Any]:
        ran.append("run_sql")
        return []

    @guard.protect("refund", wait_for_approval=ApprovalWait(timeout_s=120))
    def refund(order_id: int, amount: float) -> str:
        ran.append("refund")
        return f"refunded {amount} on order {order_id}"

    tools: Dict[str, Callable[..., Any]] = {"lookup_order": lookup_order, "run_sql": run_sql, "refund": refund}
    messages: List[Dict[str, Any]] = [{"role": "user", "content": PROMPT}]
    person = sidecar.approve_when_asked("refund")

    for turn in range(4):
        # The model call is an action too: the sidecar may rewrite it (here: redact the e-mail address) or refuse it.
        request = guard.decide({"kind": "llm", "name": "openai.gpt-4o-mini", "input": {"model": "gpt-4o-mini", "messages": messages}})
        if not request.allowed:
            sys.exit(f"the model call was refused: {request.message}")
        messages = list((request.action.input or {})["messages"])
        answer = provider.chat({"model": "gpt-4o-mini", "messages": messages, "tools": TOOLS_SPEC})["choices"][0]["message"]
        messages.append(answer)
        if not answer.get("tool_calls"):
            print(f"answer:    {answer['content']}")
            break
        for call in answer["tool_calls"]:
            name, args = call["function"]["name"], json.loads(call["function"]["arguments"])
            try:
                result = json.dumps(tools[name](**args))
                label = "approved:" if name == "refund" else "allowed:"
                print(f"{label:<10} {name}({json.dumps(args)}) returned {result}")
            except AgentGuardDeniedError as denied:
                result = f"agentguard refused {name}: {denied.decision.message}"
                print(f"denied:    {name}({json.dumps(args)}) did not run: {denied.decision.message}")
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})

    person.join(timeout=5)
    print(f"redacted:  the provider received {json.dumps(provider.requests[0]['messages'][0]['content'])}")
    print(f"ran:       {', '.join(ran)}")
finally:
    provider.close()
    sidecar.stop()

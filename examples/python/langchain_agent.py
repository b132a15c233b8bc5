"""A LangChain agent's tools guarded through the agentguard sidecar, offline against a fake OpenAI-compatible provider.

The tools are langchain-core tools; ``guard_tools`` wraps them so each call is decided by the sidecar before it runs.
A denied call never runs: the agent reads the refusal as the tool's error (a ToolMessage with status "error") and goes
on. The agent loop speaks LangChain messages (HumanMessage, AIMessage.tool_calls, ToolMessage); the model is reached
over the OpenAI wire format, and its request is decided first (the e-mail address is redacted before it leaves).

    pip install ./python langchain-core
    python examples/python/langchain_agent.py        (after npm run build)
"""

from __future__ import annotations

import json
import sys
from typing import Any, Dict, List

from _support import CALLS, PROMPT, TOOLS_SPEC, FakeOpenAI, Sidecar, scripted_model
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from agentguard import AgentGuard, ApprovalWait
from agentguard.langchain import guard_tools

ran: List[str] = []


@tool
def lookup_order(order_id: int) -> str:
    """Look up an order."""
    ran.append("lookup_order")
    return json.dumps({"id": order_id, "status": "delivered", "total": 250})


@tool
def run_sql(sql: str) -> str:
    """Run SQL."""
    ran.append("run_sql")
    return "[]"


@tool
def refund(order_id: int, amount: float) -> str:
    """Refund an order."""
    ran.append("refund")
    return f"refunded {amount} on order {order_id}"


def wire(message: BaseMessage) -> Dict[str, Any]:
    """A LangChain message in the OpenAI wire format."""
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": message.content}
    if isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    assert isinstance(message, AIMessage)
    calls = [{"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"])}} for c in message.tool_calls]
    return {"role": "assistant", "content": message.content or None, **({"tool_calls": calls} if calls else {})}


sidecar = Sidecar(agent="python-langchain-agent")
provider = FakeOpenAI(scripted_model(CALLS, final="Order 7 is refunded; the orders table was left alone."))
try:
    print(f"sidecar:   listening on {sidecar.url} (pid {sidecar.pid})")
    guard = AgentGuard(url=sidecar.url, token=sidecar.token, timeout=10)
    tools = {t.name: t for t in guard_tools([lookup_order, run_sql, refund], guard, wait_for_approval=ApprovalWait(timeout_s=120))}
    history: List[BaseMessage] = [HumanMessage(PROMPT)]
    person = sidecar.approve_when_asked("refund")

    for turn in range(4):
        request = guard.decide({"kind": "llm", "name": "openai.gpt-4o-mini", "input": {"model": "gpt-4o-mini", "messages": [wire(m) for m in history]}})
        if not request.allowed:
            sys.exit(f"the model call was refused: {request.message}")
        sent = (request.action.input or {})["messages"]
        reply = provider.chat({"model": "gpt-4o-mini", "messages": sent, "tools": TOOLS_SPEC})["choices"][0]["message"]
        calls = [{"id": c["id"], "name": c["function"]["name"], "args": json.loads(c["function"]["arguments"]), "type": "tool_call"} for c in reply.get("tool_calls") or []]
        message = AIMessage(content=reply.get("content") or "", tool_calls=calls)
        history.append(message)
        if not message.tool_calls:
            print(f"answer:    {message.content}")
            break
        for call in message.tool_calls:
            result = tools[call["name"]].invoke({**call, "type": "tool_call"})
            assert isinstance(result, ToolMessage)
            history.append(result)
            if result.status == "error":
                print(f"denied:    {call['name']}({json.dumps(call['args'])}) did not run: {result.content}")
            else:
                label = "approved:" if call["name"] == "refund" else "allowed:"
                print(f"{label:<10} {call['name']}({json.dumps(call['args'])}) returned {result.content}")

    person.join(timeout=5)
    print(f"redacted:  the provider received {json.dumps(provider.requests[0]['messages'][0]['content'])}")
    print(f"ran:       {', '.join(ran)}")
finally:
    provider.close()
    sidecar.stop()

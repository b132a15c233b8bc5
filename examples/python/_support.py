"""What the Python examples share: a sidecar started for the run, a person approving from another process, and a fake
OpenAI-compatible provider (stdlib http.server speaking the chat completions wire format), so they run offline."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# Stopped from outside (a test run's timeout, Ctrl-C), an example still stops its sidecar in its `finally`.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def agentguard(*args: str) -> str:
    """Runs the agentguard CLI of this checkout (``node bin/run.js``), as an operator would run ``npx agentguard``."""
    done = subprocess.run(["node", str(ROOT / "bin" / "run.js"), *args], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"agentguard {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


class Sidecar:
    """A sidecar on a free port with a temporary data folder and a token for the agent; stop() removes it all."""

    def __init__(self, agent: str) -> None:
        self.folder = tempfile.mkdtemp(prefix="agentguard-python-example-")
        self.data_dir = os.path.join(self.folder, "data")
        try:
            self.token = json.loads(agentguard("token", "create", "--agent", agent, "--json", "--data-dir", self.data_dir))["token"]
            # A generous time per decision's guardrails: the examples also run in test suites on busy machines.
            config = os.path.join(self.folder, "agentguard.config.json")
            Path(config).write_text(json.dumps({"guardrails": {"budgetMs": 5000}}))
            started = json.loads(agentguard("sidecar", "start", "--detach", "--port", "0", "--policy", str(HERE / "policy.yaml"), "--config", config, "--data-dir", self.data_dir, "--json"))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.url: str = started["url"]
        self.pid: int = started["pid"]

    def approve_when_asked(self, name: str, by: str = "team-lead") -> threading.Thread:
        """A person approving the pending approval of the tool ``name`` from another process (agentguard approvals approve)."""

        def person() -> None:
            for _ in range(600):
                pending = json.loads(agentguard("approvals", "list", "--status", "pending", "--json", "--data-dir", self.data_dir))
                found = [a for a in pending if a["action"]["name"] == name]
                if found:
                    agentguard("approvals", "approve", found[0]["id"], "--by", by, "--data-dir", self.data_dir)
                    return
                time.sleep(0.1)

        thread = threading.Thread(target=person, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        try:
            agentguard("sidecar", "stop", "--data-dir", self.data_dir)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class FakeOpenAI:
    """POST /v1/chat/completions answered by ``answer(request) -> message``; every request is kept in ``requests``."""

    def __init__(self, answer: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
        self.requests: List[Dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests.append(body)
                message = answer(body)
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                reply = {
                    "id": f"chatcmpl-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": None, **message}, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def chat(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """The chat completions call an agent makes (plain urllib, as the OpenAI wire format needs nothing more)."""
        import urllib.request

        sent = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(request).encode(), headers={"content-type": "application/json", "authorization": "Bearer sk-fake"})
        with urllib.request.urlopen(sent, timeout=30) as response:
            return dict(json.loads(response.read()))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def scripted_model(calls: List[Dict[str, Any]], final: str) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    """A model that asks for ``calls`` on the first turn and answers ``final`` once it has read the tool results."""

    def answer(request: Dict[str, Any]) -> Dict[str, Any]:
        if any(m["role"] == "tool" for m in request["messages"]):
            return {"content": final}
        return {"tool_calls": [{"id": f"call_{i}", "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"])}} for i, c in enumerate(calls)]}

    return answer


TOOLS_SPEC: List[Dict[str, Any]] = [
    {"type": "function", "function": {"name": "lookup_order", "description": "Look up an order", "parameters": {"type": "object", "properties": {"order_id": {"type": "integer"}}, "required": ["order_id"]}}},
    {"type": "function", "function": {"name": "run_sql", "description": "Run SQL", "parameters": {"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]}}},
    {"type": "function", "function": {"name": "refund", "description": "Refund an order", "parameters": {"type": "object", "properties": {"order_id": {"type": "integer"}, "amount": {"type": "number"}}, "required": ["order_id", "amount"]}}},
]

#: What the scripted model asks for: one allowed call, one the policy denies, one that needs a person.
CALLS: List[Dict[str, Any]] = [
    {"name": "lookup_order", "args": {"order_id": 7}},
    {"name": "run_sql", "args": {"sql": "DROP TABLE orders"}},
    {"name": "refund", "args": {"order_id": 7, "amount": 250}},
]

PROMPT = "Order 7 of ana.lopez@customer.example arrived broken: look it up, clean the orders table and refund 250."


def first_line(text: Optional[str]) -> str:
    return (text or "").splitlines()[0] if text else ""

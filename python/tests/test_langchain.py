"""agentguard.langchain with the real langchain-core (installed in CI's virtual environment) and a real sidecar."""

from __future__ import annotations

import os
import unittest
from typing import Any, List, Optional

try:
    import langchain_core  # noqa: F401

    HAVE_LANGCHAIN = True
except ImportError:
    HAVE_LANGCHAIN = False

# CI installs langchain-core and sets this, so a broken install fails the run instead of skipping these tests.
REQUIRED = os.environ.get("AGENTGUARD_REQUIRE_LANGCHAIN") == "1"
if REQUIRED and not HAVE_LANGCHAIN:
    raise ImportError("AGENTGUARD_REQUIRE_LANGCHAIN=1 but langchain_core cannot be imported")

from . import support  # noqa: E402


@unittest.skipUnless(HAVE_LANGCHAIN, "langchain-core is not installed (CI installs it)")
class LangChainAdapterTest(unittest.IsolatedAsyncioTestCase):
    sidecar: support.Sidecar

    @classmethod
    def setUpClass(cls) -> None:
        cls.sidecar = support.sidecar()

    def tools(self, ran: List[str]) -> List[Any]:
        from langchain_core.tools import tool

        @tool
        def get_weather(city: str) -> str:
            """The weather in a city."""
            ran.append(f"weather:{city}")
            return f"sunny in {city}"

        @tool
        def run_shell(command: str) -> str:
            """Runs a shell command."""
            ran.append(f"shell:{command}")
            return "ran"

        return [get_weather, run_shell]

    def test_guarded_tools_run_when_allowed_and_refuse_when_denied(self) -> None:
        from langchain_core.messages import ToolMessage

        from agentguard import AgentGuard, AgentGuardDeniedError
        from agentguard.langchain import guard_tool, guard_tools

        guard = AgentGuard(url=self.sidecar.url, token=self.sidecar.agent_token, timeout=10)
        ran: List[str] = []
        weather, shell = guard_tools(self.tools(ran), guard)
        self.assertEqual((weather.name, shell.name), ("get_weather", "run_shell"))
        self.assertEqual(weather.description, "The weather in a city.")
        self.assertEqual(weather.invoke({"city": "Oslo"}), "sunny in Oslo")

        answer = shell.invoke({"type": "tool_call", "id": "call_1", "name": "run_shell", "args": {"command": "rm -rf /"}})
        self.assertIsInstance(answer, ToolMessage)
        self.assertEqual(answer.status, "error")
        self.assertEqual(answer.content, "agentguard refused run_shell: Shell commands are not allowed")
        self.assertEqual(ran, ["weather:Oslo"])

        raising = guard_tool(self.tools(ran)[1], guard, on_deny="raise")
        with self.assertRaises(AgentGuardDeniedError):
            raising.invoke({"command": "ls"})
        self.assertEqual(ran, ["weather:Oslo"])

        records = self.sidecar.audit()
        oslo = [r["decisionId"] for r in records if r["type"] == "decision" and r["data"]["action"].get("input") == {"city": "Oslo"}]
        self.assertEqual(len(oslo), 1)
        self.assertEqual([r["data"]["status"] for r in records if r["type"] == "outcome" and r["decisionId"] == oslo[0]], ["ok"])

    async def test_async_guarded_tools(self) -> None:
        from agentguard import AsyncAgentGuard
        from agentguard.langchain import guard_tools

        guard = AsyncAgentGuard(url=self.sidecar.url, token=self.sidecar.agent_token, timeout=10)
        ran: List[str] = []
        weather, shell = guard_tools(self.tools(ran), guard)
        self.assertEqual(await weather.ainvoke({"city": "Rome"}), "sunny in Rome")
        refused = await shell.ainvoke({"type": "tool_call", "id": "c2", "name": "run_shell", "args": {"command": "ls"}})
        self.assertEqual(refused.status, "error")
        self.assertEqual(ran, ["weather:Rome"])

    def echo_llm(self, model: str) -> Any:
        from langchain_core.language_models.llms import LLM

        class EchoLLM(LLM):
            """A model double that answers locally, so the callback is exercised through langchain-core's own run."""

            model: str = "echo-1"
            calls: List[str] = []

            @property
            def _llm_type(self) -> str:
                return "echo"

            def _call(self, prompt: str, stop: Optional[List[str]] = None, run_manager: Any = None, **kwargs: Any) -> str:
                self.calls.append(prompt)
                return f"echo: {prompt}"

        return EchoLLM(model=model, calls=[])

    def test_model_calls_are_decided_before_they_are_made(self) -> None:
        from agentguard import AgentGuard, AgentGuardDeniedError
        from agentguard.langchain import AgentGuardCallbackHandler

        guard = AgentGuard(url=self.sidecar.url, token=self.sidecar.agent_token, timeout=10)
        handler = AgentGuardCallbackHandler(guard)
        allowed = self.echo_llm("echo-1")
        self.assertEqual(allowed.invoke("hello", config={"callbacks": [handler]}), "echo: hello")
        blocked = self.echo_llm("blocked-model")
        with self.assertRaises(AgentGuardDeniedError) as caught:
            blocked.invoke("hello", config={"callbacks": [handler]})
        self.assertEqual(caught.exception.decision.reasons[0].message, "This model is not allowed")
        self.assertEqual(blocked.calls, [], "a denied model call never reaches the model")

        records = self.sidecar.audit()
        decisions = [r for r in records if r["type"] == "decision" and r["data"]["action"]["kind"] == "llm" and r["data"]["action"]["name"] in ("echo.echo-1", "echo.blocked-model")]
        self.assertEqual({d["data"]["action"]["name"]: d["effect"] for d in decisions}, {"echo.echo-1": "allow", "echo.blocked-model": "deny"})
        allowed_id = next(d["decisionId"] for d in decisions if d["effect"] == "allow")
        self.assertIn(allowed_id, [r["decisionId"] for r in records if r["type"] == "outcome" and r["data"]["status"] == "ok"])
        self.assertEqual(next(d for d in decisions if d["effect"] == "allow")["data"]["action"]["input"]["messages"], [{"role": "user", "content": "hello"}])

    async def test_async_model_callback(self) -> None:
        from agentguard import AgentGuardDeniedError, AsyncAgentGuard
        from agentguard.langchain import AsyncAgentGuardCallbackHandler

        guard = AsyncAgentGuard(url=self.sidecar.url, token=self.sidecar.agent_token, timeout=10)
        handler = AsyncAgentGuardCallbackHandler(guard)
        self.assertEqual(await self.echo_llm("echo-2").ainvoke("hi", config={"callbacks": [handler]}), "echo: hi")
        blocked = self.echo_llm("blocked-model")
        with self.assertRaises(AgentGuardDeniedError):
            await blocked.ainvoke("hi", config={"callbacks": [handler]})
        self.assertEqual(blocked.calls, [])


if __name__ == "__main__":
    unittest.main()

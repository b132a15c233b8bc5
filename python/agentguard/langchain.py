"""LangChain adapter (langchain-core >= 1.0; written against 1.6): guarded tools and a callback that decides model calls.

Importing this module imports langchain_core; ``import agentguard`` alone never does.

* ``guard_tool(tool, guard)`` / ``guard_tools(tools, guard)``: a tool whose every call is decided as
  ``{"kind": "tool", "name": tool.name, "input": <the call's arguments>}`` through the sidecar before it runs. A deny
  (or a pending approval) never runs the tool: by default the agent reads the refusal as the tool's error
  (``ToolException``, ``handle_tool_error``), with ``on_deny="raise"`` AgentGuardDeniedError / ApprovalRequiredError
  propagate. A transform runs the tool with the decided input; the outcome is reported.
* ``AgentGuardCallbackHandler`` (blocking) / ``AsyncAgentGuardCallbackHandler`` (asyncio): decide every chat-model or
  LLM call as ``{"kind": "llm", "name": "<provider>.<model>", "input": {"model", "messages"}}`` when it starts, and
  report its outcome and token usage when it ends. LangChain's callbacks cannot change a request, so only allow lets
  the call go on; deny, require_approval and transform (a rewrite it cannot apply) stop it with AgentGuardDeniedError
  (``raise_error`` is set, so LangChain re-raises it before the provider is called).
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Literal, Optional, Sequence, Union
from uuid import UUID

try:
    from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
    from langchain_core.messages import BaseMessage
    from langchain_core.outputs import LLMResult
    from langchain_core.tools import BaseTool, StructuredTool, ToolException
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("agentguard.langchain needs langchain-core: pip install 'langchain-core>=1.0'") from error

from ._core import WaitForApproval
from .client import AgentGuard, AsyncAgentGuard
from .errors import AgentGuardDeniedError, ApprovalRequiredError
from .models import Decision, JsonObject, Usage

OnDeny = Literal["tool_error", "raise"]

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function", "chat": "user"}


def guard_tool(
    tool: BaseTool,
    guard: Union[AgentGuard, AsyncAgentGuard],
    *,
    on_deny: OnDeny = "tool_error",
    wait_for_approval: WaitForApproval = False,
    context: Optional[Dict[str, Any]] = None,
) -> StructuredTool:
    """A copy of ``tool`` (same name, description and arguments) whose every call is decided first."""
    if on_deny not in ("tool_error", "raise"):
        raise ValueError(f'on_deny must be "tool_error" or "raise", got {on_deny!r}')

    def refusal(error: Union[AgentGuardDeniedError, ApprovalRequiredError]) -> Exception:
        return error if on_deny == "raise" else ToolException(f"agentguard refused {tool.name}: {error.decision.message}")

    if isinstance(guard, AsyncAgentGuard):
        async_guard = guard

        @async_guard.protect(tool.name, wait_for_approval=wait_for_approval, context=context)
        async def run_async(**kwargs: Any) -> Any:
            return await tool.ainvoke(kwargs)

        async def coroutine(**kwargs: Any) -> Any:
            try:
                return await run_async(**kwargs)
            except (AgentGuardDeniedError, ApprovalRequiredError) as error:
                raise refusal(error) from None

        return StructuredTool.from_function(
            coroutine=coroutine,
            name=tool.name,
            description=tool.description,
            args_schema=tool.args_schema,
            return_direct=tool.return_direct,
            handle_tool_error=True,
        )

    sync_guard = guard

    @sync_guard.protect(tool.name, wait_for_approval=wait_for_approval, context=context)
    def run(**kwargs: Any) -> Any:
        return tool.invoke(kwargs)

    def func(**kwargs: Any) -> Any:
        try:
            return run(**kwargs)
        except (AgentGuardDeniedError, ApprovalRequiredError) as error:
            raise refusal(error) from None

    return StructuredTool.from_function(
        func=func,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args_schema,
        return_direct=tool.return_direct,
        handle_tool_error=True,
    )


def guard_tools(
    tools: Sequence[BaseTool],
    guard: Union[AgentGuard, AsyncAgentGuard],
    *,
    on_deny: OnDeny = "tool_error",
    wait_for_approval: WaitForApproval = False,
    context: Optional[Dict[str, Any]] = None,
) -> List[StructuredTool]:
    """``guard_tool`` for each tool of a list (an agent's tools)."""
    return [guard_tool(t, guard, on_deny=on_deny, wait_for_approval=wait_for_approval, context=context) for t in tools]


# ---- model calls ---------------------------------------------------------------------------------------------------


def _message(message: BaseMessage) -> JsonObject:
    """A LangChain message as one message of an OpenAI-style request, so policies written for the guarded clients apply."""
    out: JsonObject = {"role": _ROLES.get(message.type, message.type), "content": message.content}
    tool_calls = getattr(message, "tool_calls", None)
    if tool_calls:
        out["tool_calls"] = [{"name": c.get("name"), "args": c.get("args")} for c in tool_calls]
    return out


def _model_name(serialized: Optional[Dict[str, Any]], metadata: Optional[Dict[str, Any]], invocation: Optional[Dict[str, Any]]) -> "tuple[str, str]":
    meta = metadata or {}
    params = invocation or {}
    provider = meta.get("ls_provider") or params.get("_type") or "langchain"
    model = meta.get("ls_model_name") or params.get("model") or params.get("model_name") or (serialized or {}).get("name") or "unknown"
    return str(provider), str(model)


def _llm_action(serialized: Optional[Dict[str, Any]], messages: List[JsonObject], metadata: Optional[Dict[str, Any]], kwargs: Dict[str, Any], context: Optional[Dict[str, Any]]) -> JsonObject:
    provider, model = _model_name(serialized, metadata, kwargs.get("invocation_params"))
    action: JsonObject = {"kind": "llm", "name": f"{provider}.{model}", "input": {"model": model, "messages": messages}}
    if context is not None:
        action["context"] = context
    return action


def _refuse_unless_allowed(decision: Decision) -> None:
    if decision.effect == "allow":
        return
    if decision.effect == "transform":
        decision = Decision(
            id=decision.id,
            effect="deny",
            action=decision.action,
            reasons=[*decision.reasons, _callback_cannot_transform()],
            findings=decision.findings,
            policy=decision.policy,
            elapsed_us=decision.elapsed_us,
            approval=decision.approval,
        )
    raise AgentGuardDeniedError(decision)


def _callback_cannot_transform() -> Any:
    from .models import Reason

    return Reason(effect="deny", code="transform_not_applied", message="a LangChain callback cannot rewrite a model request, so the call was stopped; decide model calls with a guarded client to apply redactions")


def _usage(response: LLMResult) -> Optional[Usage]:
    """Token usage as the provider reported it (llm_output.token_usage, or a message's usage_metadata)."""
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            metadata = getattr(message, "usage_metadata", None)
            if metadata:
                return Usage(input_tokens=metadata.get("input_tokens"), output_tokens=metadata.get("output_tokens"))
    token_usage = (response.llm_output or {}).get("token_usage") or {}
    if token_usage:
        return Usage(input_tokens=token_usage.get("prompt_tokens"), output_tokens=token_usage.get("completion_tokens"))
    return None


def _prompt_messages(prompts: List[str]) -> List[JsonObject]:
    return [{"role": "user", "content": p} for p in prompts]


class AgentGuardCallbackHandler(BaseCallbackHandler):
    """Decides every model call a LangChain runnable makes (pass it in ``callbacks=[...]``); see the module's doc."""

    raise_error: bool = True

    def __init__(self, guard: AgentGuard, *, context: Optional[Dict[str, Any]] = None) -> None:
        self.guard = guard
        self.context = context
        self._runs: Dict[UUID, "tuple[Decision, float]"] = {}

    def _start(self, serialized: Optional[Dict[str, Any]], messages: List[JsonObject], run_id: UUID, metadata: Optional[Dict[str, Any]], kwargs: Dict[str, Any]) -> None:
        decision = self.guard.decide(_llm_action(serialized, messages, metadata, kwargs, self.context))
        _refuse_unless_allowed(decision)
        self._runs[run_id] = (decision, time.perf_counter())

    def on_chat_model_start(self, serialized: Dict[str, Any], messages: List[List[BaseMessage]], *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start(serialized, [_message(m) for batch in messages for m in batch], run_id, metadata, kwargs)

    def on_llm_start(self, serialized: Dict[str, Any], prompts: List[str], *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        self._start(serialized, _prompt_messages(prompts), run_id, metadata, kwargs)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            self.guard._outcome_quietly(run[0], "ok", (time.perf_counter() - run[1]) * 1000, None, _usage(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            self.guard._outcome_quietly(run[0], "error", (time.perf_counter() - run[1]) * 1000, str(error) or type(error).__name__, None)


class AsyncAgentGuardCallbackHandler(AsyncCallbackHandler):
    """AgentGuardCallbackHandler for asyncio runnables (``await model.ainvoke(..., config={"callbacks": [...]})``)."""

    raise_error: bool = True

    def __init__(self, guard: AsyncAgentGuard, *, context: Optional[Dict[str, Any]] = None) -> None:
        self.guard = guard
        self.context = context
        self._runs: Dict[UUID, "tuple[Decision, float]"] = {}

    async def _start(self, serialized: Optional[Dict[str, Any]], messages: List[JsonObject], run_id: UUID, metadata: Optional[Dict[str, Any]], kwargs: Dict[str, Any]) -> None:
        decision = await self.guard.decide(_llm_action(serialized, messages, metadata, kwargs, self.context))
        _refuse_unless_allowed(decision)
        self._runs[run_id] = (decision, time.perf_counter())

    async def on_chat_model_start(self, serialized: Dict[str, Any], messages: List[List[BaseMessage]], *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        await self._start(serialized, [_message(m) for batch in messages for m in batch], run_id, metadata, kwargs)

    async def on_llm_start(self, serialized: Dict[str, Any], prompts: List[str], *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, metadata: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        await self._start(serialized, _prompt_messages(prompts), run_id, metadata, kwargs)

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            await self.guard._outcome_quietly(run[0], "ok", (time.perf_counter() - run[1]) * 1000, None, _usage(response))

    async def on_llm_error(self, error: BaseException, *, run_id: UUID, parent_run_id: Optional[UUID] = None, tags: Optional[List[str]] = None, **kwargs: Any) -> None:
        run = self._runs.pop(run_id, None)
        if run is not None:
            await self.guard._outcome_quietly(run[0], "error", (time.perf_counter() - run[1]) * 1000, str(error) or type(error).__name__, None)


__all__ = ["AgentGuardCallbackHandler", "AsyncAgentGuardCallbackHandler", "guard_tool", "guard_tools"]

"""``llm.agent``: a tool-calling loop over allowlisted tools, with guard rails.

Each round the model either answers (the step succeeds with its text) or asks for tools; the
agent runs them (see `llm_agent_tools`) and sends the results back. Guard rails:

* only the configured tools run; any other name is refused with a message to the model;
* ``max_steps`` rounds of tool calls at most, then ``AGENT_STEP_LIMIT``;
* ``max_cost_usd``: once the agent's own calls cost that much, ``BUDGET_EXCEEDED``;
* a high-impact tool (flagged, e-mail, non-GET HTTP) waits for a person: the run parks with an
  approval whose editable fields are the call's arguments. Approve (maybe after editing) runs it,
  reject tells the model it was refused.

Parking re-runs the node from its start on resume, so the agent keeps its whole progress (the
conversation, the transcript, usage) in the approval request and reads it back from
``ctx.previous_request``: no LLM call or tool is repeated. Side-effecting tools use one effect
key per call (``run:node:agent-<n>``), so each happens once even after a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import BatonError, ErrorCode, NodeError
from orchestrator_core.nodes.base import Interrupt, NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.flow_subworkflow import CHILDREN_KIND
from orchestrator_core.nodes.builtin.llm_agent_review import apply_edits, approval_request, refusal
from orchestrator_core.nodes.builtin.llm_agent_tools import (
    MAX_RESULT_CHARS,
    PROPAGATE,
    AgentTool,
    connector_refused,
    needs_approval,
    openai_tool,
    run_tool,
    tool_config,
    workflow_inputs,
)
from orchestrator_core.nodes.builtin.llm_common import Fallbacks, MinTier, RedactPii, gateway_options
from orchestrator_core.ports import ChildRun, LLMRequest, LLMResponse, RunStatus, ToolCall

STATE_VERSION = 1
DEFAULT_SYSTEM = (
    "You are an assistant that completes the user's task. Use the tools when they help; when the "
    "task is done, answer with a short final message and call no more tools."
)


class LlmAgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "demo",
        title="Model",
        min_length=1,
        description="A configured model that can call tools, or 'auto'.",
        json_schema_extra={"ui": {"widget": "model-picker"}},
    )
    system: str = Field(
        "",
        title="System message",
        description="Instructions for the agent (a template); empty = a short default.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    prompt: str = Field(
        title="Task",
        min_length=1,
        description="What the agent must do; a template, e.g. {{ trigger.message }}.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    tools: list[AgentTool] = Field(
        title="Tools",
        min_length=1,
        max_length=20,
        description="The only tools the agent may call.",
        json_schema_extra={"ui": {"widget": "json"}},
    )
    max_steps: int = Field(
        6, title="Max steps", ge=1, le=50, description="Rounds of tool calls before it must answer."
    )
    max_cost_usd: float | None = Field(
        None, title="Budget (USD)", ge=0, description="Stop once the agent's own LLM calls cost this much."
    )
    approval_queue: str = Field(
        "Support",
        title="Approval queue",
        min_length=1,
        max_length=100,
        description="Who approves high-impact tool calls.",
    )
    temperature: float = Field(0.2, title="Temperature", ge=0, le=2)
    max_tokens: int = Field(1024, title="Max tokens", ge=1, le=8192)
    fallbacks: Fallbacks = []
    min_tier: MinTier = 1
    redact_pii: RedactPii = False

    @field_validator("tools")
    @classmethod
    def _unique_names(cls, value: list[AgentTool]) -> list[AgentTool]:
        names = [t.name for t in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"tool names must be unique: {', '.join(duplicates)}")
        return value


def _fresh_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "v": STATE_VERSION,
        "messages": messages,
        "transcript": [],
        "queue": [],
        "steps": 0,
        "calls": 0,
        "seq": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
        "model": "",
        "reason": "",
    }


def _saved_state(ctx: NodeContext) -> dict[str, Any] | None:
    request = ctx.previous_request
    state = request.get("agent") if isinstance(request, Mapping) else None
    if (
        isinstance(state, Mapping)
        and state.get("v") == STATE_VERSION
        and (state.get("queue") or state.get("asking"))
    ):
        copied: dict[str, Any] = json.loads(json.dumps(state))  # a deep, plain copy
        return copied
    return None


def _arguments(call: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    try:
        value = json.loads(str(call.get("arguments") or "{}"))
    except ValueError as e:
        return None, f"The arguments are not valid JSON: {e}"
    if not isinstance(value, dict):
        return None, "The arguments must be a JSON object."
    return value, ""


class _Agent:
    def __init__(self, ctx: NodeContext, config: LlmAgentConfig, base: list[dict[str, Any]]) -> None:
        self.ctx = ctx
        self.config = config
        self.tools = {t.name: t for t in config.tools}
        self.openai_tools = tuple(openai_tool(t) for t in config.tools)
        saved = _saved_state(ctx)
        self.resuming = saved is not None
        self.state = saved if saved is not None else _fresh_state(base)

    # --- bookkeeping -------------------------------------------------------------------------

    def _record(
        self, call: Mapping[str, Any], arguments: Any, status: str, result: str, **extra: Any
    ) -> None:
        self.state["messages"].append(
            {"role": "tool", "tool_call_id": str(call.get("id")), "content": result[:MAX_RESULT_CHARS]}
        )
        entry = {
            "id": str(call.get("id")),
            "tool": str(call.get("name")),
            "arguments": arguments,
            "status": status,
            "result": result[:500],
            **extra,
        }
        self.state["transcript"].append(entry)
        self.state["queue"].pop(0)

    def _meta(self) -> dict[str, Any]:
        s = self.state
        return {
            "model": s["model"],
            "tokens_in": s["tokens_in"],
            "tokens_out": s["tokens_out"],
            "cost_usd": s["cost_usd"],
            "reason": s["reason"],
            "calls": s["calls"],
            "agent_steps": s["steps"],
        }

    def _sync_usage(self) -> None:
        """Let the step's own usage (``ctx.meta``) count the calls made before a park too."""
        meta = getattr(self.ctx, "meta", None)
        if isinstance(meta, dict):
            meta.update(
                {k: v for k, v in self._meta().items() if k in ("tokens_in", "tokens_out", "cost_usd")}
            )

    def _fail(self, message: str, code: ErrorCode, **details: Any) -> NodeError:
        return NodeError(
            message,
            code=code,
            details={**details, "tool_calls": self.state["transcript"], "meta": self._meta()},
        )

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> NodeResult:
        if self.resuming:
            self._sync_usage()
            if self.state.pop("asking", False):
                pass  # parked on a budget approval before a model call: ask again (it answers)
            elif self.state.get("child"):
                self._resume_child()
            else:
                self._resume_pending()
        while True:
            while self.state["queue"]:
                self._handle(self.state["queue"][0], resumed=None)
            response = self._ask()
            if not response.tool_calls:
                return self._done(response.text)
            self._plan(response)

    def _ask(self) -> LLMResponse:
        config = self.config
        options: dict[str, Any] = {}
        if config.max_cost_usd is not None:
            options["budget_usd"] = max(config.max_cost_usd - self.state["cost_usd"], 0.0)
        gateway = gateway_options(
            model=config.model,
            fallbacks=config.fallbacks,
            min_tier=config.min_tier,
            redact_pii=config.redact_pii,
            options=options if config.model == "auto" else None,
        )
        request = LLMRequest(
            model=config.model,
            messages=list(self.state["messages"]),
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            purpose="agent",
            tools=self.openai_tools,
            **gateway,
        )
        try:
            response = self.ctx.llm(request)
        except Interrupt as park:  # a budget approval: keep the agent's progress in the request
            if not isinstance(park.request, Mapping) or "agent" in park.request:
                raise
            self._sync_usage()
            state = {**json.loads(json.dumps(self.state)), "asking": True}
            raise Interrupt({**park.request, "agent": state}) from None
        s = self.state
        s["calls"] += 1
        s["tokens_in"] += response.prompt_tokens
        s["tokens_out"] += response.completion_tokens
        s["cost_usd"] += response.cost_usd
        s["model"], s["reason"] = response.model, response.reason
        return response

    def _plan(self, response: LLMResponse) -> None:
        """Queue the model's tool calls, unless a limit says stop."""
        s, config = self.state, self.config
        if s["steps"] >= config.max_steps:
            raise self._fail(
                f"The agent still wanted tools after {config.max_steps} steps.",
                ErrorCode.AGENT_STEP_LIMIT,
                max_steps=config.max_steps,
            )
        if config.max_cost_usd is not None and s["cost_usd"] >= config.max_cost_usd:
            raise self._fail(
                f"The agent spent ${s['cost_usd']:.6f} of its ${config.max_cost_usd:.6f} budget "
                "before it had an answer.",
                ErrorCode.BUDGET_EXCEEDED,
                scope="agent",
                limit_usd=config.max_cost_usd,
                spent_usd=s["cost_usd"],
            )
        s["steps"] += 1
        calls: list[ToolCall] = list(response.tool_calls)
        s["messages"].append(
            {
                "role": "assistant",
                "content": response.text or None,
                "tool_calls": [c.as_message() for c in calls],
            }
        )
        s["thought"] = response.text
        s["queue"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]

    def _handle(self, call: Mapping[str, Any], resumed: Mapping[str, Any] | None) -> None:
        """Run (or refuse, or park for) the first queued call."""
        name = str(call.get("name"))
        tool = self.tools.get(name)
        arguments, problem = _arguments(call)
        if tool is None:
            allowed = ", ".join(self.tools)
            self._record(
                call,
                arguments,
                "refused",
                f"'{name}' is not an allowed tool; the allowed tools are: {allowed}.",
            )
            return
        if arguments is None:
            self._record(call, call.get("arguments"), "error", problem)
            return
        config = tool_config(tool, arguments)
        refused = connector_refused(config, self.ctx.policy)
        if refused is not None:
            self._record(call, arguments, "refused", refused)
            return
        extra: dict[str, Any] = {}
        if needs_approval(tool, config):
            if resumed is None:
                raise Interrupt(self._approval_request(call, arguments))
            decision = str(resumed.get("decision") or "")
            comment = str(resumed.get("comment") or "")
            who = str(resumed.get("decided_by") or "")
            if decision != "approve":
                self._record(call, arguments, "rejected", refusal(decision, comment), decided_by=who)
                return
            arguments, edited = apply_edits(arguments, resumed.get("edited"), self.state.get("pending_json"))
            extra = {"approved_by": who, "edited": edited}
        self.state["seq"] += 1
        item = f"agent-{self.state['seq']}"
        if tool.workflow is not None:
            self._start_child(tool, arguments, item, extra)
            return
        status, result = run_tool(self.ctx, tool, arguments, item)
        self._record(call, arguments, status, result, **extra)

    # --- workflow tools: child runs ------------------------------------------------------------

    def _start_child(
        self, tool: AgentTool, arguments: dict[str, Any], key: str, extra: dict[str, Any]
    ) -> None:
        call = self.state["queue"][0]
        subruns = self.ctx.subruns
        if subruns is None:
            self._record(call, arguments, "error", "Workflow tools run only in a real run.", **extra)
            return
        try:
            inputs = workflow_inputs(self.ctx, tool, arguments)
            version = None if tool.version == "latest" else int(tool.version)
            child = subruns.start(
                self.ctx.run_id,
                self.ctx.node_id,
                key,
                workflow=str(tool.workflow),
                version=version,
                inputs=inputs,
            )
        except BatonError as e:
            if e.code in PROPAGATE:
                raise
            self._record(
                call, arguments, "error", f"The workflow could not start ({e.code}): {e.message}", **extra
            )
            return
        self.state["child"] = {"key": key, "arguments": arguments, "extra": extra}
        self._child_outcome(child)

    def _child_outcome(self, child: ChildRun) -> None:
        """Record a final child run's outcome, or park until it is final."""
        if not child.status.is_final:
            raise Interrupt(self._children_request())
        pending = self.state.pop("child")
        call = self.state["queue"][0]
        extra = {**pending["extra"], "run_id": child.run_id}
        if child.status == RunStatus.SUCCEEDED:
            outputs = child.output if isinstance(child.output, Mapping) else {}
            text = json.dumps({"run_id": child.run_id, "outputs": outputs}, default=str, ensure_ascii=False)
            self._record(call, pending["arguments"], "ok", text[:MAX_RESULT_CHARS], **extra)
        else:
            reason = (child.error or {}).get("message") or str(child.status)
            self._record(
                call,
                pending["arguments"],
                "error",
                f"The workflow run ended {child.status}: {reason}",
                **extra,
            )

    def _resume_child(self) -> None:
        pending = self.state["child"]
        subruns = self.ctx.subruns
        child = subruns.children(self.ctx.run_id, self.ctx.node_id).get(pending["key"]) if subruns else None
        if child is None:
            raise NodeError("The agent's workflow run is gone.", code=ErrorCode.SUBWORKFLOW_FAILED)
        self._child_outcome(child)

    def _children_request(self) -> dict[str, Any]:
        """Park until a child run is final (the backend wakes the step; see ``flow.subworkflow``)."""
        subruns = self.ctx.subruns
        children = dict(subruns.children(self.ctx.run_id, self.ctx.node_id)) if subruns else {}
        self._sync_usage()
        return {
            "kind": CHILDREN_KIND,
            "total": len(children),
            "started": len(children),
            "done": sum(1 for c in children.values() if c.status.is_final),
            "runs": {key: child.run_id for key, child in sorted(children.items())},
            "agent": json.loads(json.dumps(self.state)),
        }

    def _resume_pending(self) -> None:
        """Back from a park: the first queued call is the one a person was asked about."""
        answer = self.ctx.interrupt(self.ctx.previous_request)  # parks again when nobody answered
        if not isinstance(answer, Mapping):
            raise NodeError("The approval answer must be an object.", code=ErrorCode.INPUT_INVALID)
        self._handle(self.state["queue"][0], resumed=answer)

    def _approval_request(self, call: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
        self._sync_usage()
        tool = self.tools[str(call.get("name"))]
        return approval_request(
            self.state, tool, arguments, queue=self.config.approval_queue, max_steps=self.config.max_steps
        )

    def _done(self, text: str) -> NodeResult:
        s = self.state
        output = {
            "text": text,
            "model": s["model"],
            "tool_calls": s["transcript"],
            "steps": s["steps"],
            "cost_usd": s["cost_usd"],
        }
        return NodeResult(output=output, meta=self._meta())


def execute(ctx: NodeContext, config: LlmAgentConfig, /) -> NodeResult:
    system = ctx.render(config.system, field="system") if config.system else DEFAULT_SYSTEM
    prompt = ctx.render(config.prompt, field="prompt")
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": prompt},
    ]
    return _Agent(ctx, config, messages).run()


LLM_AGENT = NodeType(
    key="llm.agent",
    version=1,
    title="LLM agent",
    category="AI",
    icon="bot",
    description="A model that calls allowlisted tools in a loop, with a step limit, a budget and "
    "approval of high-impact calls; outputs {text, tool_calls, steps, cost_usd}.",
    config_model=LlmAgentConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)

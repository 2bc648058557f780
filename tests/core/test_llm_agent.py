"""``llm.agent``: the tool loop, its guard rails, approvals of high-impact tools and resuming."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from core_helpers import load_fixture, make_doc
from pydantic import ValidationError

from orchestrator_core import (
    ErrorCode,
    LiteLLMClient,
    ModelSpec,
    NodeError,
    RunnerServices,
    advance_run,
    default_registry,
)
from orchestrator_core.llm.demo import demo_tool_calls
from orchestrator_core.nodes.builtin.llm_agent import LLM_AGENT
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import LLMRequest, LLMResponse, RunStatus, StepStatus, ToolCall
from orchestrator_core.testing import FakeClock, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import FakeHttp
from orchestrator_core.testing.llm_stub import StubServer, tool_calls

Script = list[LLMResponse | Callable[[LLMRequest], LLMResponse]]


class ScriptedLLM:
    """An `LLMClient` that answers from a script of `LLMResponse`s and records every request."""

    def __init__(self, script: Script) -> None:
        self.script = list(script)
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest, *, on_delta: Callable[[str], None] | None = None) -> LLMResponse:
        self.requests.append(request)
        if not self.script:
            raise AssertionError("the agent called the model more often than scripted")
        step = self.script.pop(0)
        return step(request) if callable(step) else step


def answer(text: str, cost: float = 0.0) -> LLMResponse:
    return LLMResponse(text=text, model="scripted", prompt_tokens=10, completion_tokens=5, cost_usd=cost)


def call(*calls: tuple[str, Mapping[str, Any] | str], cost: float = 0.0, text: str = "") -> LLMResponse:
    return LLMResponse(
        text=text,
        model="scripted",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=cost,
        tool_calls=tuple(
            ToolCall(id=f"c{i}", name=name, arguments=args if isinstance(args, str) else json.dumps(args))
            for i, (name, args) in enumerate(calls, 1)
        ),
    )


TRANSFORM = {"name": "lookup", "node_type": "data.transform", "description": "Look an order up."}
EMAIL = {"name": "send_email", "node_type": "email.send", "fixed": {"to": "{{ trigger.to }}"}}


def agent_doc(**config: Any) -> dict[str, Any]:
    base = {"model": "scripted", "prompt": "Help {{ trigger.to }}", "tools": [TRANSFORM, EMAIL]}
    return make_doc(
        [("t", "trigger.manual", {}), ("agent", "llm.agent", {**base, **config})],
        [("t", "out", "agent", "in")],
    )


class Harness:
    def __init__(
        self, script: Script, *, policy: RunPolicy | None = None, http: FakeHttp | None = None
    ) -> None:
        self.clock = FakeClock()
        self.store = InMemoryRunStore(self.clock)
        self.llm = ScriptedLLM(script)
        self.mailer = FakeMailer()
        self.services = RunnerServices(
            store=self.store,
            registry=default_registry(),
            llm=self.llm,
            mailer=self.mailer,
            clock=self.clock,
            http=http,
            policy=policy or RunPolicy(),
        )

    def start(self, doc: dict[str, Any], trigger: Any = None) -> str:
        run_id = self.store.create_run(doc, trigger or {"to": "ada@example.com", "order": {"id": 7}})
        self.status = advance_run(run_id, self.services)
        return run_id

    def decide(
        self, run_id: str, decision: str, edited: dict[str, str] | None = None, comment: str = ""
    ) -> None:
        answer = {"decision": decision, "edited": edited, "comment": comment, "decided_by": "rita"}
        self.store.resume_step(run_id, "agent", answer)
        self.status = advance_run(run_id, self.services)

    def step(self, run_id: str) -> Any:
        return self.store.steps(run_id)["agent"]


def test_it_calls_a_tool_then_answers() -> None:
    h = Harness(
        [call(("lookup", {"expression": "trigger.order"}), cost=0.001), answer("Order 7 shipped.", 0.002)]
    )
    run_id = h.start(agent_doc())
    assert h.status == RunStatus.SUCCEEDED
    step = h.step(run_id)
    assert step.output["text"] == "Order 7 shipped."
    assert step.output["steps"] == 1
    assert step.output["cost_usd"] == pytest.approx(0.003)
    assert step.output["tool_calls"] == [
        {
            "id": "c1",
            "tool": "lookup",
            "arguments": {"expression": "trigger.order"},
            "status": "ok",
            "result": '{"result": {"id": 7}}',
        }
    ]
    assert step.meta["cost_usd"] == pytest.approx(0.003)
    assert step.meta["calls"] == 2
    first, second = h.llm.requests
    offered = {t["function"]["name"]: t["function"] for t in first.tools}
    assert set(offered) == {"lookup", "send_email"}
    assert offered["lookup"]["parameters"]["required"] == ["expression"]
    assert "to" not in offered["send_email"]["parameters"]["properties"]  # fixed by the builder
    assert second.messages[-1] == {"role": "tool", "tool_call_id": "c1", "content": '{"result": {"id": 7}}'}
    assert second.messages[-2]["tool_calls"][0]["function"]["name"] == "lookup"


def test_model_strings_are_data_not_templates() -> None:
    template_tool = {"name": "write", "node_type": "data.template"}
    h = Harness([call(("write", {"template": "Hi {{ trigger.to }}"})), answer("done")])
    run_id = h.start(agent_doc(tools=[template_tool]))
    assert h.step(run_id).output["tool_calls"][0]["result"] == '{"text": "Hi {{ trigger.to }}"}'


def test_step_limit() -> None:
    lookup = ("lookup", {"expression": "trigger.order"})
    h = Harness([call(lookup), call(lookup), call(lookup)])
    run_id = h.start(agent_doc(max_steps=2))
    assert h.status == RunStatus.FAILED
    step = h.step(run_id)
    assert step.error["code"] == ErrorCode.AGENT_STEP_LIMIT
    assert len(step.error["details"]["tool_calls"]) == 2  # the third round never ran
    assert len(h.llm.requests) == 3


def test_budget_stops_the_agent() -> None:
    lookup = ("lookup", {"expression": "trigger.order"})
    h = Harness([call(lookup, cost=0.02), call(lookup, cost=0.02), answer("never")])
    run_id = h.start(agent_doc(max_cost_usd=0.03))
    assert h.status == RunStatus.FAILED
    error = h.step(run_id).error
    assert error["code"] == ErrorCode.BUDGET_EXCEEDED
    assert error["details"]["spent_usd"] == pytest.approx(0.04)
    assert len(error["details"]["tool_calls"]) == 1
    assert len(h.llm.requests) == 2


def test_a_tool_outside_the_allowlist_is_refused_and_the_model_told() -> None:
    h = Harness([call(("http_delete_everything", {"url": "https://x.test/"})), answer("I could not.")])
    run_id = h.start(agent_doc())
    assert h.status == RunStatus.SUCCEEDED
    entry = h.step(run_id).output["tool_calls"][0]
    assert entry["status"] == "refused"
    told = h.llm.requests[1].messages[-1]
    assert told["role"] == "tool"
    assert "not an allowed tool" in told["content"]
    assert "lookup, send_email" in told["content"]
    assert h.mailer.sent == []


def test_bad_arguments_are_told_to_the_model() -> None:
    h = Harness([call(("lookup", "{not json"), ("lookup", {"expression": 5})), answer("sorry")])
    run_id = h.start(agent_doc())
    first, second = h.step(run_id).output["tool_calls"]
    assert (first["status"], second["status"]) == ("error", "error")
    assert "not valid JSON" in first["result"]
    assert "Invalid arguments: expression" in second["result"]


def test_a_high_impact_tool_parks_for_approval_and_runs_once_when_approved() -> None:
    lookup = ("lookup", {"expression": "trigger.order"})
    email = ("send_email", {"subject": "Your order", "body": "It shipped."})
    h = Harness([call(lookup), call(email, text="Now I reply."), answer("Replied.")])
    run_id = h.start(agent_doc())
    assert h.status == RunStatus.WAITING
    waiting = h.step(run_id)
    assert waiting.status == StepStatus.WAITING
    request = waiting.request
    assert request["title"] == "Agent wants to run send_email"
    assert request["queue"] == "Support"
    assert request["fields"] == {"subject": "Your order", "body": "It shipped."}
    assert request["context"]["The agent says"] == "Now I reply."
    assert request["context"]["Earlier tool calls"] == "lookup: ok"
    assert request["approval_key"].startswith("agent-call-2-")
    assert h.mailer.sent == []
    assert len(h.llm.requests) == 2

    h.decide(run_id, "approve", edited={"subject": "Your order 7"})
    assert h.status == RunStatus.SUCCEEDED
    assert len(h.llm.requests) == 3  # nothing before the park was asked again
    assert [(m.to, m.subject) for m in h.mailer.sent] == [("ada@example.com", "Your order 7")]
    assert h.mailer.keys == [f"{run_id}:agent:agent-2"]
    step = h.step(run_id)
    sent = step.output["tool_calls"][1]
    assert (sent["status"], sent["approved_by"], sent["edited"]) == ("ok", "rita", True)
    assert sent["arguments"]["subject"] == "Your order 7"
    assert [t["status"] for t in step.output["tool_calls"]] == ["ok", "ok"]
    # The model saw the whole conversation again after the resume, from the saved state.
    resumed = h.llm.requests[2].messages
    assert [m["role"] for m in resumed] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert step.meta["calls"] == 3


def test_a_rejected_tool_is_not_run_and_the_model_is_told() -> None:
    email = ("send_email", {"subject": "Refund", "body": "We refund you twice."})
    h = Harness([call(email), answer("I did not send it.")])
    run_id = h.start(agent_doc())
    h.decide(run_id, "reject", comment="No double refunds")
    assert h.status == RunStatus.SUCCEEDED
    assert h.mailer.sent == []
    told = h.llm.requests[1].messages[-1]
    assert told["role"] == "tool"
    assert "refused" in told["content"]
    assert "No double refunds" in told["content"]
    assert h.step(run_id).output["tool_calls"][0]["status"] == "rejected"


def test_a_step_parks_again_until_someone_decides() -> None:
    h = Harness([call(("send_email", {"subject": "s", "body": "b"}))])
    run_id = h.start(agent_doc())
    first = h.step(run_id).request
    # A worker re-claims the waiting run (no decision yet): it parks with the same request.
    h.store._runs[run_id].status = RunStatus.QUEUED
    assert advance_run(run_id, h.services) == RunStatus.WAITING
    assert h.step(run_id).request == first
    assert len(h.llm.requests) == 1


def test_two_approvals_in_one_step_each_run_once() -> None:
    one = ("send_email", {"subject": "One", "body": "1"})
    two = ("send_email", {"subject": "Two", "body": "2"})
    h = Harness([call(one, two), answer("Both sent.")])
    run_id = h.start(agent_doc())
    assert h.step(run_id).request["fields"]["subject"] == "One"
    h.decide(run_id, "approve")
    assert h.status == RunStatus.WAITING
    second = h.step(run_id).request
    assert second["fields"]["subject"] == "Two"
    assert second["approval_key"].startswith("agent-call-2-")
    h.decide(run_id, "approve")
    assert h.status == RunStatus.SUCCEEDED
    assert [m.subject for m in h.mailer.sent] == ["One", "Two"]
    assert h.mailer.keys == [f"{run_id}:agent:agent-1", f"{run_id}:agent:agent-2"]
    assert len(h.llm.requests) == 2


def test_get_runs_directly_but_other_http_methods_need_approval() -> None:
    http = FakeHttp()
    api = {"name": "api", "node_type": "http.request", "fixed": {"url": "https://api.example.test/orders"}}
    h = Harness([call(("api", {})), call(("api", {"method": "POST"})), answer("ok")], http=http)
    run_id = h.start(agent_doc(tools=[api]))
    assert h.status == RunStatus.WAITING
    assert [r.method for r in http.requests] == ["GET"]
    assert h.step(run_id).request["fields"] == {"method": "POST"}
    h.decide(run_id, "approve")
    assert h.status == RunStatus.SUCCEEDED
    assert [r.method for r in http.requests] == ["GET", "POST"]
    assert http.requests[1].idempotency_key == f"{run_id}:agent:agent-2"


def test_the_policy_refuses_a_connector() -> None:
    api = {"name": "api", "node_type": "http.request", "fixed": {"url": "/orders"}}
    h = Harness(
        [call(("api", {"connector": "crm"})), answer("no")],
        policy=RunPolicy(allowed_connectors=frozenset({"billing"})),
        http=FakeHttp(),
    )
    run_id = h.start(agent_doc(tools=[api]))
    entry = h.step(run_id).output["tool_calls"][0]
    assert entry["status"] == "refused"
    assert "not allowed" in entry["result"]


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ([{"name": "wait", "node_type": "human.approval"}], "cannot be a tool"),
        ([TRANSFORM, TRANSFORM], "tool names must be unique"),
        ([{**TRANSFORM, "fixed": {"nope": 1}}], "fixed settings unknown"),
        ([{**TRANSFORM, "name": "has space"}], "pattern"),
        ([], "at least 1"),
    ],
)
def test_bad_config_is_refused(tools: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LLM_AGENT.config_model.model_validate({"prompt": "x", "tools": tools})


def test_the_demo_model_calls_the_named_tools_in_order_then_answers() -> None:
    offered = (
        {
            "type": "function",
            "function": {
                "name": "send_email",
                "parameters": {
                    "type": "object",
                    "properties": {"to": {"type": "string"}, "subject": {"type": "string"}},
                    "required": ["to", "subject"],
                },
            },
        },
        {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}},
    )
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "lookup order, then send email to bo@x.test"}
    ]
    first = demo_tool_calls(LLMRequest(model="demo", messages=messages, tools=offered))
    assert [c["function"]["name"] for c in first] == ["lookup_order"]
    messages += [
        {"role": "assistant", "content": None, "tool_calls": first},
        {"role": "tool", "tool_call_id": first[0]["id"], "content": "shipped"},
    ]
    second = demo_tool_calls(LLMRequest(model="demo", messages=messages, tools=offered))
    assert second[0]["function"]["name"] == "send_email"
    assert json.loads(second[0]["function"]["arguments"])["to"] == "bo@x.test"
    messages += [
        {"role": "assistant", "content": None, "tool_calls": second},
        {"role": "tool", "tool_call_id": second[0]["id"], "content": "sent"},
    ]
    assert demo_tool_calls(LLMRequest(model="demo", messages=messages, tools=offered)) == []


def test_the_golden_workflow_on_the_demo_model() -> None:
    clock = FakeClock()
    store, mailer = InMemoryRunStore(clock), FakeMailer()
    services = RunnerServices(
        store=store, registry=default_registry(), llm=LiteLLMClient(), mailer=mailer, clock=clock
    )
    trigger = {"from": "ada@example.com", "order_id": "A-17", "message": "Where is my order?"}
    run_id = store.create_run(load_fixture("agent_order_support.json"), trigger)
    assert advance_run(run_id, services) == RunStatus.WAITING
    request = store.steps(run_id)["agent"].request
    assert request["fields"]["subject"] == "Re: Order A-17"
    assert request["fields"]["body"].startswith("Hello Ada,")
    store.resume_step(run_id, "agent", {"decision": "approve", "edited": None, "decided_by": "rita"})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    output = store.steps(run_id)["agent"].output
    assert [t["tool"] for t in output["tool_calls"]] == ["lookup_order", "send_email"]
    assert "shipped" in output["tool_calls"][0]["result"]
    assert [m.to for m in mailer.sent] == ["ada@example.com"]
    assert store.steps(run_id)["log"].output["text"].startswith("Agent finished in 2 steps")


def test_tool_calls_over_real_http_through_litellm() -> None:
    script = [
        tool_calls(("lookup", {"expression": "trigger.order"})),
        "Order 7 is on its way.",
    ]
    with StubServer(script=script) as stub:
        spec = ModelSpec(
            name="stub", litellm_model="openai/stub-model", api_base=stub.base_url, api_key="sk-t"
        )
        clock = FakeClock()
        store = InMemoryRunStore(clock)
        services = RunnerServices(
            store=store,
            registry=default_registry(),
            llm=LiteLLMClient([spec], retries=0),
            mailer=FakeMailer(),
            clock=clock,
        )
        run_id = store.create_run(agent_doc(model="stub"), {"to": "ada@example.com", "order": {"id": 7}})
        assert advance_run(run_id, services) == RunStatus.SUCCEEDED
        output = store.steps(run_id)["agent"].output
        assert output["text"] == "Order 7 is on its way."
        assert output["tool_calls"][0]["result"] == '{"result": {"id": 7}}'
        first, second = stub.requests
        assert [t["function"]["name"] for t in first["tools"]] == ["lookup", "send_email"]
        assert second["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "call_stub_1",
            "content": '{"result": {"id": 7}}',
        }
        assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "lookup"


def test_a_published_workflow_as_a_tool_parks_the_agent_until_the_child_run_ends() -> None:
    from orchestrator_core.testing.subruns import InMemorySubRuns

    child_doc = make_doc(
        [
            ("t", "trigger.manual", {}),
            ("say", "data.template", {"template": "Order {{ trigger.order_id }} shipped"}),
        ],
        [("t", "out", "say", "in")],
    )
    h = Harness([call(("lookup", {"order_id": "7"}), text="Checking."), answer("It shipped.")])
    subruns = InMemorySubRuns(h.store, {"12": child_doc})
    h.services = dataclasses.replace(h.services, subruns=subruns)
    tool = {"name": "lookup", "workflow": 12, "fixed": {"channel": "agent"}}
    run_id = h.start(agent_doc(tools=[tool]))
    assert h.status == RunStatus.WAITING
    parked = h.step(run_id).request
    assert parked["kind"] == "children"
    assert parked["done"] == 0
    assert len(h.llm.requests) == 1
    subruns.drive(lambda rid: advance_run(rid, h.services), [run_id])
    assert h.store.run_status(run_id) == RunStatus.SUCCEEDED
    entry = h.step(run_id).output["tool_calls"][0]
    assert entry["status"] == "ok"
    assert json.loads(entry["result"])["outputs"] == {"say": {"text": "Order 7 shipped"}}
    child_id = subruns.started[0]
    assert entry["run_id"] == child_id
    assert h.store.steps(child_id)["t"].output == {"order_id": "7", "channel": "agent"}
    assert len(subruns.started) == 1
    assert len(h.llm.requests) == 2  # the resume did not ask the model again


def test_a_retried_agent_asks_again_but_never_sends_twice() -> None:
    def provider_down(request: LLMRequest) -> LLMResponse:
        raise NodeError("provider down", code=ErrorCode.LLM_ERROR)

    email = ("send_email", {"subject": "Hi", "body": "b"})
    h = Harness([call(email), provider_down, call(email), answer("Sent.")])
    doc = agent_doc()
    doc["nodes"][1]["settings"] = {"retry": {"max_attempts": 3, "backoff_seconds": 0, "jitter": False}}
    run_id = h.start(doc)
    first_key = h.step(run_id).request["approval_key"]
    # Attempt 2 (the resume) sends, then its next LLM call fails: attempt 3 starts over.
    h.decide(run_id, "approve")
    assert h.status == RunStatus.WAITING
    again = h.step(run_id).request
    assert again["approval_key"] != first_key  # a new approval, not the decided one
    h.decide(run_id, "approve")
    assert h.status == RunStatus.SUCCEEDED
    assert len(h.mailer.sent) == 1  # the effect ledger knew the e-mail was sent
    assert h.step(run_id).output["tool_calls"][0]["result"] == (
        '{"to": "ada@example.com", "subject": "Hi", "message_id": "<fake-1@baton.test>"}'
    )

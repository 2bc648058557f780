"""The run's policy as the core enforces it: allowed models (and ``auto``), allowed connectors,
PII redaction of prompts and of stored step data."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import make_doc

from orchestrator_core import (
    ErrorCode,
    LiteLLMClient,
    ModelSpec,
    NodeError,
    RunnerServices,
    advance_run,
    default_registry,
)
from orchestrator_core.engine.context import RunContext
from orchestrator_core.policy import RunPolicy, redact_data
from orchestrator_core.ports import EmailMessage, HttpRequest, HttpResponse, LLMRequest
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.llm_stub import StubServer

MESSAGES = [{"role": "user", "content": "Hello"}]


class RecordingHttp:
    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def request(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(status=200, headers={}, body=b"{}", url="https://api.example.com/x")


def ctx_for(policy: RunPolicy, **kwargs: Any) -> RunContext:
    return RunContext(
        run_id="r1",
        node_id="n",
        context={"trigger": {}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
        store=InMemoryRunStore(),
        llm_client=kwargs.pop("llm", FakeLLM()),
        mailer=kwargs.pop("mailer", FakeMailer()),
        policy=policy,
        **kwargs,
    )


# --- allowed models ------------------------------------------------------------------------------


def test_a_model_outside_the_allowed_set_fails_model_not_allowed() -> None:
    llm = FakeLLM(["ok"])
    ctx = ctx_for(RunPolicy(allowed_models=frozenset({"demo"})), llm=llm)
    with pytest.raises(NodeError) as info:
        ctx.llm(LLMRequest(model="gpt-4o", messages=MESSAGES))
    assert info.value.code == ErrorCode.MODEL_NOT_ALLOWED
    assert info.value.details == {"model": "gpt-4o", "allowed": ["demo"]}
    assert llm.requests == []  # never called
    assert ctx.llm(LLMRequest(model="demo", messages=MESSAGES)).text == "ok"


def test_no_policy_allows_every_model() -> None:
    llm = FakeLLM(["ok"])
    assert ctx_for(RunPolicy(), llm=llm).llm(LLMRequest(model="gpt-4o", messages=MESSAGES)).text == "ok"


def test_auto_gets_the_allowed_set_and_disallowed_fallbacks_are_dropped() -> None:
    llm = FakeLLM(["a", "b"])
    ctx = ctx_for(RunPolicy(allowed_models=frozenset({"demo", "small"})), llm=llm)
    ctx.llm(LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 1}))
    ctx.llm(LLMRequest(model="demo", messages=MESSAGES, fallbacks=("big", "small")))
    assert llm.requests[0].options == {"min_tier": 1, "allowed_models": ["demo", "small"]}
    assert llm.requests[1].fallbacks == ("small",)


def test_the_router_auto_choice_honours_the_allowed_models() -> None:
    cheap = ModelSpec("cheap", "openai/cheap", input_cost_per_token=1e-7, output_cost_per_token=1e-7, tier=2)
    dear = ModelSpec("dear", "openai/dear", input_cost_per_token=1e-5, output_cost_per_token=1e-5, tier=2)
    client = LiteLLMClient([cheap, dear])
    options = {"min_tier": 2}
    assert client.choose(LLMRequest(model="auto", messages=MESSAGES, options=options))[0].name == "cheap"
    spec, reason = client.choose(
        LLMRequest(model="auto", messages=MESSAGES, options={**options, "allowed_models": ["dear"]})
    )
    assert spec.name == "dear"
    assert "skipped cheap: not allowed by the policy" in reason
    with pytest.raises(NodeError) as info:
        client.choose(LLMRequest(model="auto", messages=MESSAGES, options={"allowed_models": ["other"]}))
    assert info.value.details["reason"] == "NO_MODEL_FITS"  # type: ignore[index]


# --- allowed connectors ----------------------------------------------------------------------------


def test_http_through_a_connector_not_allowed_fails_before_sending() -> None:
    http = RecordingHttp()
    ctx = ctx_for(RunPolicy(allowed_connectors=frozenset({"crm"})), http=http)
    with pytest.raises(NodeError) as info:
        ctx.http(HttpRequest(method="POST", url="/tickets", connector="billing"))
    assert info.value.code == ErrorCode.CONNECTOR_NOT_ALLOWED
    assert info.value.details == {"connector": "billing", "allowed": ["crm"]}
    assert http.requests == []
    assert ctx.http(HttpRequest(method="GET", url="/x", connector="crm")).status == 200
    assert ctx.http(HttpRequest(method="GET", url="https://api.example.com/x")).status == 200  # no connector


def test_email_through_a_connector_not_allowed_fails_before_sending() -> None:
    mailer = FakeMailer()
    ctx = ctx_for(RunPolicy(allowed_connectors=frozenset()), mailer=mailer)

    with pytest.raises(NodeError) as info:
        ctx.send_email(EmailMessage(to="a@example.com", subject="s", body="b", connector="smtp-main"))
    assert info.value.code == ErrorCode.CONNECTOR_NOT_ALLOWED
    assert mailer.sent == []
    ctx.send_email(EmailMessage(to="a@example.com", subject="s", body="b"))  # the default transport
    assert len(mailer.sent) == 1


# --- PII redaction ---------------------------------------------------------------------------------


def test_redaction_is_forced_on_llm_requests() -> None:
    llm = FakeLLM(["ok"])
    ctx_for(RunPolicy(redact_pii=True), llm=llm).llm(LLMRequest(model="demo", messages=MESSAGES))
    assert llm.requests[0].redact_pii is True
    llm = FakeLLM(["ok"])
    ctx_for(RunPolicy(), llm=llm).llm(LLMRequest(model="demo", messages=MESSAGES))
    assert llm.requests[0].redact_pii is False


def test_a_prompt_reaches_the_provider_without_the_email_address() -> None:
    with StubServer(reply="Done.") as stub:
        spec = ModelSpec("stub", "openai/stub-model", api_base=stub.base_url, api_key="sk-test")
        ctx = ctx_for(RunPolicy(redact_pii=True), llm=LiteLLMClient([spec]))
        request = LLMRequest(
            model="stub",
            messages=[{"role": "user", "content": "Write to carol@example.com"}],
            purpose="classify",
        )
        ctx.llm(request)
        sent = str(stub.requests)
    assert "carol@example.com" not in sent
    assert "[EMAIL]" in sent


def test_redact_data_walks_json() -> None:
    data = {"to": "carol@example.com", "list": ["card 4111 1111 1111 1111", 7, None], "n": 1.5}
    assert redact_data(data) == {"to": "[EMAIL]", "list": ["card [CARD]", 7, None], "n": 1.5}


PII_DOC = make_doc(
    [
        ("t", "trigger.manual", {}),
        ("a", "llm.prompt", {"prompt": "Reply to {{ trigger.from }}"}),
        ("b", "data.template", {"template": "Mail {{ trigger.from }}: {{ steps.a.text }}"}),
    ],
    [("t", "out", "a", "in"), ("a", "out", "b", "in")],
)


@pytest.mark.parametrize("redact", [True, False])
def test_stored_step_data_has_no_email_address_when_the_policy_says_so(redact: bool) -> None:
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    llm = FakeLLM(["Sure, I will write to carol@example.com or call +1 415 555 0100."])
    services = RunnerServices(
        store=store,
        registry=default_registry(),
        llm=llm,
        mailer=FakeMailer(),
        clock=clock,
        policy=RunPolicy(redact_pii=redact),
    )
    run_id = store.create_run(PII_DOC, {"from": "carol@example.com"})
    advance_run(run_id, services)
    steps = store.steps(run_id)
    assert steps["b"].status == "succeeded"
    stored = str([(s.inputs, s.output) for s in steps.values()])
    assert ("carol@example.com" in stored) is not redact
    assert ("415 555 0100" in stored) is not redact
    if redact:
        assert "[EMAIL]" in stored
        assert llm.requests[0].redact_pii is True

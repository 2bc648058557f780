"""The LLM gateway over litellm's real HTTP path against the local stub server (127.0.0.1 only):
retries and fallbacks, cost-aware auto routing, recorded cost, PII redaction, streaming."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator_core import ErrorCode, LiteLLMClient, ModelSpec, NodeError
from orchestrator_core.llm.demo import DEMO_SIGNATURE
from orchestrator_core.llm.router import _litellm
from orchestrator_core.ports import LLMRequest
from orchestrator_core.testing.llm_stub import StubServer, answer, fail, stall, start_stub_server

MESSAGES = [{"role": "user", "content": "Subject: Broken app\n\nMessage:\nThe app shows an error."}]


@pytest.fixture
def litellm() -> Any:
    return _litellm()


@pytest.fixture
def servers() -> Iterator[list[StubServer]]:
    started: list[StubServer] = []
    yield started
    for server in started:
        server.shutdown()


def _stub(servers: list[StubServer], *args: Any, **kwargs: Any) -> StubServer:
    server = StubServer(*args, **kwargs)
    servers.append(server)
    return server


def _spec(name: str, server: StubServer, **kwargs: Any) -> ModelSpec:
    kwargs.setdefault("input_cost_per_token", 1e-6)
    kwargs.setdefault("output_cost_per_token", 2e-6)
    return ModelSpec(name, f"openai/{name}", api_base=server.base_url, api_key="sk-secret-123", **kwargs)


# ---------------------------------------------------------------- retries and fallbacks


def test_500_retries_then_falls_back_and_records_every_try(servers: list[StubServer]) -> None:
    first = _stub(servers, script=[fail(500), fail(500), fail(500)])
    second = _stub(servers, "Answer from the second model.")
    sleeps: list[float] = []
    client = LiteLLMClient([_spec("first", first), _spec("second", second)], sleep=sleeps.append)
    reply = client.complete(LLMRequest(model="first", messages=MESSAGES, fallbacks=("second",)))
    assert reply.text == "Answer from the second model."
    assert reply.model == "second"
    assert len(first.requests) == 3
    assert len(second.requests) == 1
    assert sleeps == [0.2, 0.4]
    assert [(a["model"], a["outcome"], a.get("error_code"), a["http_status"]) for a in reply.attempts] == [
        ("first", "error", "server_error", 500),
        ("first", "error", "server_error", 500),
        ("first", "error", "server_error", 500),
        ("second", "ok", None, 200),
    ]
    assert all(isinstance(a["duration_ms"], int) and a["duration_ms"] >= 0 for a in reply.attempts)
    assert reply.reason == "model set on the node; fell back to second after first failed"


def test_429_is_retried_on_the_same_model(servers: list[StubServer]) -> None:
    stub = _stub(servers, script=[fail(429), answer("Second try worked.")])
    sleeps: list[float] = []
    client = LiteLLMClient([_spec("m", stub)], sleep=sleeps.append, backoff=0.01)
    reply = client.complete(LLMRequest(model="m", messages=MESSAGES))
    assert (reply.model, reply.text, sleeps) == ("m", "Second try worked.", [0.01])
    assert [(a["outcome"], a.get("error_code"), a["http_status"]) for a in reply.attempts] == [
        ("error", "rate_limited", 429),
        ("ok", None, 200),
    ]


def test_timeout_falls_back(servers: list[StubServer]) -> None:
    slow = _stub(servers, script=[stall(2.0)])
    fast = _stub(servers, "Fast answer.")
    client = LiteLLMClient([_spec("slow", slow), _spec("fast", fast)], timeout=0.3, retries=0)
    reply = client.complete(LLMRequest(model="slow", messages=MESSAGES, fallbacks=("fast",)))
    assert reply.model == "fast"
    assert reply.attempts[0]["error_code"] == "timeout"
    assert reply.attempts[0]["duration_ms"] >= 250


def test_other_4xx_fails_at_once_without_fallback(servers: list[StubServer]) -> None:
    bad = _stub(servers, script=[fail(400)])
    other = _stub(servers, "Never asked.")
    sleeps: list[float] = []
    client = LiteLLMClient([_spec("bad", bad), _spec("other", other)], sleep=sleeps.append)
    with pytest.raises(NodeError) as info:
        client.complete(LLMRequest(model="bad", messages=MESSAGES, fallbacks=("other",)))
    assert info.value.code == ErrorCode.LLM_ERROR
    assert info.value.message.startswith("Model 'bad' failed:")
    assert "sk-secret-123" not in info.value.message
    assert isinstance(info.value.details, dict)
    assert [a["http_status"] for a in info.value.details["attempts"]] == [400]
    assert (len(bad.requests), len(other.requests), sleeps) == (1, 0, [])


def test_every_model_failing(servers: list[StubServer]) -> None:
    a = _stub(servers, status=503)
    b = _stub(servers, status=500)
    client = LiteLLMClient([_spec("a", a), _spec("b", b)], retries=1, sleep=lambda s: None)
    with pytest.raises(NodeError) as info:
        client.complete(LLMRequest(model="a", messages=MESSAGES, fallbacks=("b",)))
    assert info.value.message.startswith("Model 'b' failed:")
    assert info.value.message.endswith("(after a failed)")
    assert isinstance(info.value.details, dict)
    assert [(t["model"], t["http_status"]) for t in info.value.details["attempts"]] == [
        ("a", 503),
        ("a", 503),
        ("b", 500),
        ("b", 500),
    ]


def test_unknown_fallback_is_refused_before_any_call() -> None:
    with pytest.raises(NodeError, match="Unknown model 'nope'"):
        LiteLLMClient().complete(LLMRequest(model="demo", messages=MESSAGES, fallbacks=("nope",)))


# ---------------------------------------------------------------- auto routing


def _catalog(base_url: str = "http://127.0.0.1:9/v1") -> list[ModelSpec]:
    return [
        # explicit price, tier 1
        ModelSpec("small", "openai/small-model", api_base=base_url, tier=1, input_cost_per_token=1e-8),
        # prices and context windows from litellm's local cost map
        ModelSpec("gpt-4o-mini", "openai/gpt-4o-mini", api_base=base_url, api_key="k", tier=2),
        ModelSpec("gpt-4o", "openai/gpt-4o", api_base=base_url, api_key="k", tier=3),
    ]


def test_auto_picks_the_cheapest_model_that_fits(litellm: Any) -> None:
    client = LiteLLMClient(_catalog())
    request = LLMRequest(
        model="auto", messages=MESSAGES, max_tokens=300, options={"min_tier": 2, "budget_usd": 0.002}
    )
    tokens = litellm.token_counter(model="gpt-4o-mini", messages=MESSAGES)
    mini = litellm.model_cost["gpt-4o-mini"]
    big = litellm.model_cost["gpt-4o"]
    est_mini = tokens * mini["input_cost_per_token"] + 300 * mini["output_cost_per_token"]
    tokens_big = litellm.token_counter(model="gpt-4o", messages=MESSAGES)
    est_big = tokens_big * big["input_cost_per_token"] + 300 * big["output_cost_per_token"]
    spec, reason = client.choose(request)
    assert spec.name == "gpt-4o-mini"
    assert reason == (
        f"chose gpt-4o-mini: tier 2, est ${est_mini:.6f}; skipped demo: tier 1 < 2; "
        f"skipped small: tier 1 < 2; skipped gpt-4o: est ${est_big:.6f} > remaining $0.002000"
    )
    # Without a budget the stronger model fits too and is the first fallback.
    models, reason = client.plan(LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 2}))
    assert [m.name for m in models] == ["gpt-4o-mini", "gpt-4o"]
    assert reason.endswith("costs more")
    # min_tier 1: the free demo model and then the explicitly priced one.
    models, _ = client.plan(LLMRequest(model="auto", messages=MESSAGES))
    assert [m.name for m in models][:2] == ["demo", "small"]


def test_auto_explicit_price_overrides_the_map_and_context_window_counts() -> None:
    cheap_4o = ModelSpec("gpt-4o", "openai/gpt-4o", tier=3, input_cost_per_token=1e-9)
    tiny = ModelSpec("tiny", "openai/tiny", tier=3, input_cost_per_token=0.0, context_window=5)
    client = LiteLLMClient([*_catalog()[:2], cheap_4o, tiny])
    spec, reason = client.choose(LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 2}))
    assert spec.name == "gpt-4o"
    assert "skipped tiny: ~" in reason
    assert "prompt tokens > context window 5" in reason
    assert "skipped gpt-4o-mini: est $" in reason


def test_auto_with_no_model_in_budget() -> None:
    client = LiteLLMClient(_catalog())
    request = LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 2, "budget_usd": 1e-7})
    with pytest.raises(NodeError) as info:
        client.choose(request)
    assert info.value.code == ErrorCode.LLM_ERROR
    assert isinstance(info.value.details, dict)
    assert info.value.details["reason"] == "BUDGET_EXCEEDED"
    assert set(info.value.details["skipped"]) == {"demo", "small", "gpt-4o-mini", "gpt-4o"}
    with pytest.raises(NodeError) as info:
        client.choose(LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 4}))
    assert isinstance(info.value.details, dict)
    assert info.value.details["reason"] == "NO_MODEL_FITS"


def test_auto_falls_back_to_the_next_cheapest_over_http(servers: list[StubServer]) -> None:
    broken = _stub(servers, status=500)
    good = _stub(servers, "From the dearer model.")
    client = LiteLLMClient(
        [
            _spec("cheap", broken, tier=2, input_cost_per_token=1e-7, output_cost_per_token=1e-7),
            _spec("dear", good, tier=2, input_cost_per_token=1e-6, output_cost_per_token=1e-6),
        ],
        retries=0,
    )
    reply = client.complete(LLMRequest(model="auto", messages=MESSAGES, options={"min_tier": 2}))
    assert reply.model == "dear"
    assert reply.reason.startswith("chose cheap: tier 2")
    assert reply.reason.endswith("; fell back to dear after cheap failed")


# ---------------------------------------------------------------- cost


def test_recorded_cost_is_litellms_price_for_the_reported_usage(
    servers: list[StubServer], litellm: Any
) -> None:
    usage = {"prompt_tokens": 1234, "completion_tokens": 567, "total_tokens": 1801}
    stub = _stub(servers, script=lambda body: answer("Priced.", usage=usage))
    priced = _spec("stub-priced", stub, input_cost_per_token=3e-7, output_cost_per_token=1.1e-6)
    mapped = ModelSpec("gpt-4o-mini", "openai/gpt-4o-mini", api_base=stub.base_url, api_key="k")
    client = LiteLLMClient([priced, mapped])
    client.warm_up()  # registers explicit prices with litellm
    for name, litellm_model in (("stub-priced", "openai/stub-priced"), ("gpt-4o-mini", "openai/gpt-4o-mini")):
        expected = sum(litellm.cost_per_token(model=litellm_model, prompt_tokens=1234, completion_tokens=567))
        assert expected > 0
        reply = client.complete(LLMRequest(model=name, messages=MESSAGES))
        assert (reply.prompt_tokens, reply.completion_tokens) == (1234, 567)
        assert reply.cost_usd == expected
        streamed = client.complete(LLMRequest(model=name, messages=MESSAGES), on_delta=lambda d: None)
        assert streamed.cost_usd == expected
    assert client.complete(LLMRequest(model="demo", messages=MESSAGES)).cost_usd == 0.0


# ---------------------------------------------------------------- PII redaction


def test_redaction_before_sending(servers: list[StubServer]) -> None:
    stub = _stub(servers, "Thanks.")
    client = LiteLLMClient([_spec("m", stub)])
    text = "From: jane.doe@example.com\nCall me on +1 (555) 123-4567, card 4111 1111 1111 1111."
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    client.complete(LLMRequest(model="m", messages=messages, redact_pii=True))
    sent = stub.requests[-1]["messages"][1]["content"]
    assert "jane.doe@example.com" not in sent
    assert sent == "From: [EMAIL]\nCall me on [PHONE], card [CARD]."
    client.complete(LLMRequest(model="m", messages=messages))
    assert stub.requests[-1]["messages"][1]["content"] == text
    # The local demo model sees the original text (nothing leaves the machine).
    demo = client.complete(LLMRequest(model="demo", messages=messages, redact_pii=True))
    assert demo.text.startswith("Hello Jane,")


# ---------------------------------------------------------------- streaming


LONG = " ".join(f"word{i}" for i in range(60))


def test_streaming_batches_deltas_in_order(servers: list[StubServer]) -> None:
    stub = _stub(servers, LONG)
    client = LiteLLMClient([_spec("m", stub)])
    deltas: list[str] = []
    reply = client.complete(LLMRequest(model="m", messages=MESSAGES), on_delta=deltas.append)
    assert stub.requests[-1]["stream"] is True
    assert stub.requests[-1]["stream_options"] == {"include_usage": True}
    assert reply.text == LONG
    assert "".join(deltas) == LONG
    assert len(deltas) >= 5
    assert all(len(d) >= 40 for d in deltas[:-1])
    assert (reply.prompt_tokens, reply.completion_tokens) == (9, 60)
    assert reply.attempts[0]["outcome"] == "ok"


def test_streaming_flushes_on_time(servers: list[StubServer]) -> None:
    stub = _stub(servers, "a b c d e f", chunk_delay=0.08)
    client = LiteLLMClient([_spec("m", stub)])
    deltas: list[str] = []
    reply = client.complete(LLMRequest(model="m", messages=MESSAGES), on_delta=deltas.append)
    assert "".join(deltas) == reply.text == "a b c d e f"
    assert len(deltas) >= 4


def test_streaming_demo_and_fallback_before_first_delta(servers: list[StubServer]) -> None:
    client = LiteLLMClient()
    deltas: list[str] = []
    demo = client.complete(LLMRequest(model="demo", messages=MESSAGES), on_delta=deltas.append)
    assert "".join(deltas) == demo.text
    assert demo.text.endswith(DEMO_SIGNATURE)

    broken = _stub(servers, status=502)
    good = _stub(servers, LONG)
    client = LiteLLMClient([_spec("broken", broken), _spec("good", good)], retries=0)
    deltas = []
    reply = client.complete(
        LLMRequest(model="broken", messages=MESSAGES, fallbacks=("good",)), on_delta=deltas.append
    )
    assert (reply.model, "".join(deltas)) == ("good", LONG)


def test_on_delta_errors_propagate_unchanged(servers: list[StubServer]) -> None:
    stub = _stub(servers, LONG)
    client = LiteLLMClient([_spec("m", stub)])

    def boom(delta: str) -> None:
        raise KeyError("consumer broke")

    with pytest.raises(KeyError, match="consumer broke"):
        client.complete(LLMRequest(model="m", messages=MESSAGES), on_delta=boom)
    assert len(stub.requests) == 1


def test_start_stub_server_keeps_its_signature() -> None:
    base_url, shutdown = start_stub_server(script=[fail(500)])
    try:
        client = LiteLLMClient([ModelSpec("s", "openai/s", api_base=base_url, api_key="k")], retries=1)
        reply = client.complete(LLMRequest(model="s", messages=MESSAGES))
        assert reply.text == "Hello from the stub model."
        assert [a["outcome"] for a in reply.attempts] == ["error", "ok"]
    finally:
        shutdown()

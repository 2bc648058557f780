"""LiteLLMClient over the real litellm (imported once here, ~4 s) with the demo model and a stub server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator_core import ErrorCode, LiteLLMClient, ModelSpec, NodeError
from orchestrator_core.llm.demo import DEMO_SIGNATURE
from orchestrator_core.ports import LLMRequest
from orchestrator_core.testing.llm_stub import start_stub_server

MESSAGES = [{"role": "user", "content": "Subject: Broken app\n\nMessage:\nThe app shows an error."}]


def test_importing_the_package_does_not_import_litellm() -> None:
    code = "import sys, orchestrator_core, orchestrator_core.testing; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_choice_and_unknown_model() -> None:
    client = LiteLLMClient([ModelSpec("gpt-4o", "openai/gpt-4o", input_cost_per_token=2.5e-6, tier=3)])
    spec, reason = client.choose(LLMRequest(model="auto", messages=MESSAGES))
    assert spec.name == "demo"
    assert reason.startswith("chose demo: tier 1, est $0.000000; skipped gpt-4o: est $")
    assert reason.endswith(", costs more")
    assert client.choose(LLMRequest(model="gpt-4o", messages=MESSAGES))[1] == "model set on the node"
    with pytest.raises(NodeError) as info:
        client.choose(LLMRequest(model="nope", messages=MESSAGES))
    assert info.value.code == ErrorCode.LLM_ERROR
    assert "known: demo, gpt-4o" in info.value.message


def test_demo_and_stub_through_litellm() -> None:
    client = LiteLLMClient()
    demo = client.complete(LLMRequest(model="demo", messages=MESSAGES))
    assert demo.model == "demo"
    assert demo.text.endswith(DEMO_SIGNATURE)
    assert demo.prompt_tokens > 0
    assert demo.completion_tokens > 0
    assert demo.cost_usd == 0.0
    label = client.complete(
        LLMRequest(
            model="demo", messages=MESSAGES, purpose="classify", options={"categories": ["refund", "bug"]}
        )
    )
    assert label.text == "bug"

    base_url, shutdown = start_stub_server("Hello from the stub model.")
    try:
        spec = ModelSpec(
            "stub",
            "openai/stub-model",
            api_base=base_url,
            api_key="sk-secret-123",
            input_cost_per_token=1e-6,
            output_cost_per_token=2e-6,
        )
        client = LiteLLMClient([spec])
        reply = client.complete(LLMRequest(model="stub", messages=MESSAGES, max_tokens=50))
        assert reply.text == "Hello from the stub model."
        assert reply.model == "stub"
        assert reply.prompt_tokens == 9
        assert reply.cost_usd == pytest.approx(9 * 1e-6 + 5 * 2e-6)
        assert reply.completion_tokens == 5
        assert reply.reason == "model set on the node"
    finally:
        shutdown()

    base_url, shutdown = start_stub_server(status=500)
    try:
        failing = LiteLLMClient(
            [ModelSpec("stub", "openai/stub-model", api_base=base_url, api_key="sk-secret-123")]
        )
        with pytest.raises(NodeError) as info:
            failing.complete(LLMRequest(model="stub", messages=MESSAGES))
        assert info.value.code == ErrorCode.LLM_ERROR
        assert "sk-secret-123" not in info.value.message
        assert info.value.message.startswith("Model 'stub' failed:")
    finally:
        shutdown()

"""Every LLM try goes through one ``litellm.Router`` built from the model catalog (issue 5)."""

from __future__ import annotations

from typing import Any

from orchestrator_core import LiteLLMClient, ModelSpec
from orchestrator_core.llm.demo import DEMO_SIGNATURE
from orchestrator_core.ports import LLMRequest
from orchestrator_core.testing.llm_stub import StubServer, fail

MESSAGES = [{"role": "user", "content": "Say hello."}]


def _spy(client: LiteLLMClient) -> list[dict[str, Any]]:
    """Record every ``router.completion`` call (the real Router still answers)."""
    router = client.router
    calls: list[dict[str, Any]] = []
    real = router.completion

    def completion(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    router.completion = completion
    return calls


def test_the_router_is_built_from_the_catalog_and_carries_every_try() -> None:
    with StubServer(script=[fail(503), "Hello from the stub."]) as stub:
        spec = ModelSpec("stub", "openai/stub-model", api_base=stub.base_url, api_key="sk-router-secret")
        other = ModelSpec("other", "openai/other-model", api_base=stub.base_url, api_key="sk-other")
        client = LiteLLMClient([spec, other], sleep=lambda _: None)
        router = client.router
        assert router is client.router  # built once per client (= per catalog)
        assert [d["model_name"] for d in router.model_list] == ["demo", "stub", "other"]
        params = {d["model_name"]: d["litellm_params"] for d in router.model_list}
        assert params["stub"]["model"] == "openai/stub-model"
        assert params["stub"]["api_base"] == stub.base_url
        assert router.num_retries == 0  # retries and fallbacks stay ours, so every try is recorded
        calls = _spy(client)

        reply = client.complete(LLMRequest(model="stub", messages=MESSAGES))
        assert reply.text == "Hello from the stub."
        assert [a["outcome"] for a in reply.attempts] == ["error", "ok"]
        assert [c["model"] for c in calls] == ["stub", "stub"]
        assert len(stub.requests) == 2  # the Router did not retry on its own

        pieces: list[str] = []
        streamed = client.complete(LLMRequest(model="stub", messages=MESSAGES), on_delta=pieces.append)
        assert "".join(pieces) == streamed.text
        assert calls[-1]["model"] == "stub"
        assert calls[-1]["stream"] is True

        demo = client.complete(LLMRequest(model="demo", messages=MESSAGES))
        assert demo.text.endswith(DEMO_SIGNATURE)
        assert calls[-1]["model"] == "demo"
        assert len(stub.requests) == 3  # the demo model stays offline


def test_routers_do_not_pile_up_in_litellms_global_callbacks() -> None:
    from orchestrator_core.llm.router import _litellm

    litellm = _litellm()
    LiteLLMClient().router  # noqa: B018 - build one
    lists = ("success_callback", "_async_success_callback", "failure_callback", "_async_failure_callback")
    before = {name: len(getattr(litellm, name)) for name in lists}
    for n in range(40):  # e.g. the backend rebuilding the client after 40 connector edits
        client = LiteLLMClient([ModelSpec(f"m{n}", "openai/stub-model", api_base="http://127.0.0.1:9")])
        client.router  # noqa: B018
    assert {name: len(getattr(litellm, name)) for name in lists} == before
    reply = LiteLLMClient().complete(LLMRequest(model="demo", messages=MESSAGES))
    assert reply.text.endswith(DEMO_SIGNATURE)

from __future__ import annotations

import pytest
from node_harness import run_node
from pydantic import ValidationError

from orchestrator_core import ErrorCode, NodeError
from orchestrator_core.llm.demo import DEMO_SIGNATURE, classify, demo_completion
from orchestrator_core.nodes.builtin.llm_classify import LLM_CLASSIFY, normalize_label
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT
from orchestrator_core.ports import LLMRequest
from orchestrator_core.testing import FakeLLM

CATS = ["refund", "technical problem", "question", "other"]


def test_prompt_renders_and_records_usage() -> None:
    llm = FakeLLM(["Dear Bo"])
    result, ctx = run_node(
        LLM_PROMPT,
        {
            "system": "Be nice to {{ trigger.name }}",
            "prompt": "Write to {{ trigger.name }}",
            "temperature": 0.5,
        },
        trigger={"name": "Bo"},
        llm=llm,
    )
    assert result.output == {"text": "Dear Bo", "model": "demo"}
    req = llm.requests[0]
    assert req.messages == [
        {"role": "system", "content": "Be nice to Bo"},
        {"role": "user", "content": "Write to Bo"},
    ]
    assert req.temperature == 0.5
    assert ctx.inputs == {"system": "Be nice to Bo", "prompt": "Write to Bo"}
    assert result.meta["tokens_out"] == 2
    assert ctx.meta["model"] == "demo"


def test_prompt_config() -> None:
    with pytest.raises(ValidationError):
        LLM_PROMPT.config_model.model_validate({"prompt": ""})
    with pytest.raises(ValidationError):
        LLM_PROMPT.config_model.model_validate({"prompt": "x", "max_tokens": 9000})


def test_classify_normalizes() -> None:
    llm = FakeLLM(["  Technical Problem.", "I think this is a refund, not a question", "banana"])
    config = {"input": "{{ trigger.t }}", "categories": CATS}
    result, _ = run_node(LLM_CLASSIFY, config, trigger={"t": "x"}, llm=llm)
    assert result.output == {"label": "technical problem", "text": "  Technical Problem."}
    assert llm.requests[0].purpose == "classify"
    assert llm.requests[0].options == {"categories": CATS}
    result, _ = run_node(LLM_CLASSIFY, config, trigger={"t": "x"}, llm=llm)
    assert result.output["label"] == "refund"
    with pytest.raises(NodeError) as info:
        run_node(LLM_CLASSIFY, config, trigger={"t": "x"}, llm=llm)
    assert info.value.code == ErrorCode.LLM_OUTPUT_INVALID


def test_classify_config() -> None:
    with pytest.raises(ValidationError):
        LLM_CLASSIFY.config_model.model_validate({"input": "x", "categories": ["one"]})
    with pytest.raises(ValidationError):
        LLM_CLASSIFY.config_model.model_validate({"input": "x", "categories": ["a", "A"]})
    assert normalize_label("other", CATS) == "other"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I was charged twice, I want my money back", "refund"),
        ("The app is broken, I get an error when I log in", "technical problem"),
        ("How do I change my address?", "question"),
        ("Just saying hello", "other"),
    ],
)
def test_demo_classify(text: str, label: str) -> None:
    assert classify(text, CATS) == label
    request = LLMRequest(
        model="demo",
        messages=[{"role": "system", "content": "refund question"}, {"role": "user", "content": text}],
        purpose="classify",
        options={"categories": CATS},
    )
    assert demo_completion(request) == label


def test_demo_classify_fallback_is_last_category() -> None:
    assert classify("nothing matches", ["sales", "billing refunds", "misc stuff"]) == "misc stuff"


def test_demo_draft() -> None:
    prompt = (
        "From: jane.doe@example.com\nSubject: Late parcel\nIntent: question\n\n"
        "Message:\nWhere is my parcel? It is late."
    )
    text = demo_completion(LLMRequest(model="demo", messages=[{"role": "user", "content": prompt}]))
    assert text.startswith("Hello Jane,")
    assert '"Late parcel"' in text
    assert "Where is my parcel?" in text
    assert "The Support Team" in text
    assert text.endswith(DEMO_SIGNATURE)
    assert demo_completion(LLMRequest(model="demo", messages=[{"role": "user", "content": prompt}])) == text

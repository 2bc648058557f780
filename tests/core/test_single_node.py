"""Testing one node: `execute_single` runs one attempt on sample data, with no run and no side effects."""

from __future__ import annotations

from orchestrator_core import ErrorCode, Node, default_registry
from orchestrator_core.engine.single import SingleServices, execute_single
from orchestrator_core.testing import FakeClock, FakeLLM
from orchestrator_core.testing.fakes import FakeHttp

REGISTRY = default_registry()


def _services(**kwargs: object) -> SingleServices:
    base: dict[str, object] = {"llm": FakeLLM(), "clock": FakeClock()}
    base.update(kwargs)
    return SingleServices(**base)  # type: ignore[arg-type]


def test_template_renders_sample_data():
    node = Node("greet", "data.template", config={"template": "Hi {{ trigger.name }}, {{ steps.a.text }}"})
    result = execute_single(
        node, REGISTRY, {"trigger": {"name": "Ada"}, "steps": {"a": {"text": "ok"}}}, _services()
    )
    assert result.status == "succeeded", result.error
    assert result.output == {"text": "Hi Ada, ok"}
    assert result.ports == ("out",)
    assert result.inputs["template"] == "Hi Ada, ok"
    body = result.as_dict()
    assert set(body) == {"status", "output", "ports", "inputs", "error", "request", "meta", "duration_ms"}


def test_llm_is_called_and_its_cost_recorded():
    llm = FakeLLM(["Dear customer"], cost_usd=0.25)
    node = Node("draft", "llm.prompt", config={"prompt": "Reply to {{ trigger.text }}"})
    result = execute_single(node, REGISTRY, {"trigger": {"text": "refund"}, "steps": {}}, _services(llm=llm))
    assert result.status == "succeeded", result.error
    assert result.meta["cost_usd"] == 0.25
    assert len(llm.requests) == 1


def test_email_is_blocked():
    node = Node("mail", "email.send", config={"to": "a@example.org", "subject": "S", "body": "B"})
    result = execute_single(node, REGISTRY, {"trigger": {}, "steps": {}}, _services())
    assert result.status == "failed"
    assert result.error is not None
    assert result.error["code"] == ErrorCode.SIDE_EFFECT_BLOCKED
    assert result.inputs["to"] == "a@example.org"


def test_non_get_http_is_blocked_and_get_goes_out():
    http = FakeHttp()
    post = Node("call", "http.request", config={"method": "POST", "url": "https://api.example.test/x"})
    result = execute_single(post, REGISTRY, {"trigger": {}, "steps": {}}, _services(http=http))
    assert result.status == "failed"
    assert result.error is not None
    assert result.error["code"] == ErrorCode.SIDE_EFFECT_BLOCKED
    assert http.requests == []
    get = Node("call", "http.request", config={"method": "GET", "url": "https://api.example.test/x"})
    result = execute_single(get, REGISTRY, {"trigger": {}, "steps": {}}, _services(http=http))
    assert result.status == "succeeded", result.error
    assert len(http.requests) == 1


def test_interrupt_comes_back_waiting():
    node = Node("wait", "flow.delay", config={"seconds": 60})
    result = execute_single(node, REGISTRY, {"trigger": {}, "steps": {}}, _services())
    assert result.status == "waiting", result.error
    assert isinstance(result.request, dict)
    assert result.request["kind"] == "delay"


def test_bad_config_and_unknown_type_fail_without_raising():
    bad = execute_single(Node("t", "data.template", config={"nope": 1}), REGISTRY, {}, _services())
    assert bad.status == "failed"
    assert bad.error is not None
    assert bad.error["code"] == ErrorCode.NODE_CONFIG_INVALID
    unknown = execute_single(Node("t", "no.such"), REGISTRY, {}, _services())
    assert unknown.status == "failed"
    assert unknown.error is not None
    assert unknown.error["code"] == ErrorCode.NODE_TYPE_UNKNOWN
    bad_settings = execute_single(
        Node("t", "data.template", config={"template": "x"}, settings={"retry": 3}), REGISTRY, {}, _services()
    )
    assert bad_settings.status == "failed"


def test_expression_error_is_a_failed_result():
    node = Node("t", "data.template", config={"template": "{{ steps.missing.x + }}"})
    result = execute_single(node, REGISTRY, {"trigger": {}, "steps": {}}, _services())
    assert result.status == "failed"
    assert result.error is not None
    assert result.error["code"].startswith("EXPRESSION")

"""Per-node settings: retry with backoff, timeout, on_error (continue / error_port), cancel."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from core_helpers import make_doc
from pydantic import BaseModel, ConfigDict

from orchestrator_core import (
    ErrorCode,
    NodeError,
    NodeRegistry,
    NodeResult,
    NodeType,
    RunnerServices,
    RunStatus,
    StepStatus,
    advance_run,
    default_registry,
    parse_workflow,
    validate_workflow,
)
from orchestrator_core.net import EgressPolicy, SafeHttpClient
from orchestrator_core.nodes.settings import NodeSettings, RetryPolicy, parse_settings
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore


class _Empty(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def flaky_type(behaviour: Callable[[int], Any], key: str = "test.flaky") -> NodeType:
    """A test-only node type: ``behaviour(call_number)`` returns an output dict or raises."""
    calls = {"n": 0}
    lock = threading.Lock()

    def execute(_ctx: Any, _config: Any, /) -> NodeResult:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        return NodeResult(output=behaviour(n))

    return NodeType(key=key, version=1, title="Flaky", category="Test", config_model=_Empty, execute=execute)


def fails_then(times: int, code: ErrorCode = ErrorCode.LLM_ERROR) -> Callable[[int], Any]:
    def behaviour(n: int) -> Any:
        if n <= times:
            raise NodeError(f"failure {n}", code=code)
        return {"ok": n}

    return behaviour


def services_for(
    store: InMemoryRunStore, clock: FakeClock, *types: NodeType, **kwargs: Any
) -> RunnerServices:
    registry = NodeRegistry([*default_registry().types(), *types])
    return RunnerServices(
        store=store, registry=registry, llm=FakeLLM(), mailer=FakeMailer(), clock=clock, **kwargs
    )


def flaky_doc(settings: dict[str, Any], after: bool = True, port: str = "out") -> dict[str, Any]:
    nodes = [("t", "trigger.manual", {}), ("a", "test.flaky", {})]
    edges = [("t", "out", "a", "in")]
    if after:
        nodes.append(("b", "data.transform", {"expression": "steps.a"}))
        edges.append(("a", port, "b", "in"))
    doc = make_doc(nodes, edges)
    doc["nodes"][1]["settings"] = settings
    return doc


# --- the settings object ------------------------------------------------------------------------


def test_settings_defaults_and_round_trip() -> None:
    assert parse_settings({}) == NodeSettings.model_validate({})
    default = parse_settings(None)
    assert default.retry.max_attempts == 1
    assert default.timeout_seconds is None
    assert default.on_error == "fail"
    assert [str(c) for c in default.retry.retry_on] == ["LLM_ERROR", "NODE_TIMEOUT", "HTTP_ERROR"]
    doc = flaky_doc({"retry": {"max_attempts": 3}, "on_error": "continue"})
    wf = parse_workflow(doc)
    assert wf.node("a").settings == {"retry": {"max_attempts": 3}, "on_error": "continue"}
    assert parse_workflow(wf.to_document()) == wf
    assert "settings" not in wf.to_document()["nodes"][0]  # absent stays absent


def test_backoff_grows_is_capped_and_jitters() -> None:
    policy = RetryPolicy(backoff_seconds=1, backoff_multiplier=2, max_backoff_seconds=5, jitter=False)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    jittery = RetryPolicy(backoff_seconds=4, jitter=True)
    assert jittery.delay(1, lambda: 0.0) == 2.0
    assert jittery.delay(1, lambda: 0.999) == pytest.approx(3.998)


def test_bad_settings_are_node_config_invalid() -> None:
    registry = NodeRegistry([*default_registry().types(), flaky_type(fails_then(0))])
    for bad in (
        {"retry": {"max_attempts": 11}},
        {"retry": {"retry_on": ["NOT_A_CODE"]}},
        {"timeout_seconds": 0},
        {"on_error": "explode"},
        {"colour": "red"},
    ):
        issues = validate_workflow(flaky_doc(bad), registry)
        assert [(i.code, i.node_id) for i in issues] == [(ErrorCode.NODE_CONFIG_INVALID, "a")], bad
        assert "setting" in issues[0].message
    doc = flaky_doc({})
    doc["nodes"][1]["settings"] = ["not", "an", "object"]
    assert validate_workflow(doc, registry)[0].code == ErrorCode.WORKFLOW_INVALID


def test_error_port_edges_need_on_error_error_port() -> None:
    registry = NodeRegistry([*default_registry().types(), flaky_type(fails_then(0))])
    issues = validate_workflow(flaky_doc({}, port="error"), registry)
    assert issues[0].code == ErrorCode.PORT_UNKNOWN  # (and so b is unreachable)
    assert "error_port" in issues[0].message
    assert validate_workflow(flaky_doc({"on_error": "error_port"}, port="error"), registry) == []


# --- retry ---------------------------------------------------------------------------------------


def test_fails_twice_then_succeeds_after_three_attempts_with_growing_delays(
    store: InMemoryRunStore, clock: FakeClock
) -> None:
    services = services_for(store, clock, flaky_type(fails_then(2)))
    retry = {"max_attempts": 3, "backoff_seconds": 1, "backoff_multiplier": 2, "jitter": False}
    run_id = store.create_run(flaky_doc({"retry": retry}), {})
    seen: list[tuple[str, str, int, Any]] = []
    original = store.save_step

    def recording_save(run_id: str, *, fence: int, step: Any, events: Any = ()) -> None:
        seen.append((step.node_id, str(step.status), step.attempts, step.request))
        original(run_id, fence=fence, step=step, events=events)

    store.save_step = recording_save  # type: ignore[method-assign]
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    a = store.steps(run_id)["a"]
    assert (a.status, a.attempts, a.output, a.error) == (StepStatus.SUCCEEDED, 3, {"ok": 3}, None)
    assert clock.sleeps == [1.0, 2.0]
    retrying = [s for s in seen if s[0] == "a" and s[1] == "retrying"]
    assert [(s[2], s[3]["attempt"], s[3]["delay_seconds"]) for s in retrying] == [(1, 1, 1.0), (2, 2, 2.0)]
    assert retrying[0][3]["next_attempt_at"] == "2026-01-01T09:00:01+00:00"
    assert retrying[0][3]["kind"] == "retry"
    statuses = [e.data["status"] for _, e in store.events(run_id) if e.node_id == "a"]
    assert statuses == ["running", "retrying", "running", "retrying", "running", "succeeded"]
    assert store.steps(run_id)["b"].output == {"result": {"ok": 3}}


def test_jittered_delays_stay_within_half_to_full(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(3)), jitter_source=lambda: 0.5)
    retry = {"max_attempts": 4, "backoff_seconds": 1}
    run_id = store.create_run(flaky_doc({"retry": retry}), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert clock.sleeps == [0.75, 1.5, 3.0]


def test_a_permanent_error_is_not_retried(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(5, ErrorCode.INPUT_INVALID)))
    run_id = store.create_run(flaky_doc({"retry": {"max_attempts": 5}}), {})
    assert advance_run(run_id, services) == RunStatus.FAILED
    a = store.steps(run_id)["a"]
    assert (a.status, a.attempts) == (StepStatus.FAILED, 1)
    assert clock.sleeps == []
    assert store.run_error(run_id) == {"code": "INPUT_INVALID", "message": "failure 1", "node_id": "a"}


def test_retries_run_out(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(9)))
    run_id = store.create_run(flaky_doc({"retry": {"max_attempts": 3, "jitter": False}}), {})
    assert advance_run(run_id, services) == RunStatus.FAILED
    a = store.steps(run_id)["a"]
    assert (a.status, a.attempts, a.error) == (
        StepStatus.FAILED,
        3,
        {"code": "LLM_ERROR", "message": "failure 3"},
    )
    assert a.request is None
    assert clock.sleeps == [1.0, 2.0]


def test_long_backoff_sleeps_in_chunks(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(1)))
    retry = {"max_attempts": 2, "backoff_seconds": 12, "jitter": False}
    run_id = store.create_run(flaky_doc({"retry": retry}), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert clock.sleeps == [5.0, 5.0, 2.0]


def test_a_crash_during_backoff_resumes_the_retry(store: InMemoryRunStore, clock: FakeClock) -> None:
    class Crash(Exception):
        pass

    class CrashingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            raise Crash

    crashing = CrashingClock()
    store = InMemoryRunStore(crashing)
    flaky = flaky_type(fails_then(1))
    run_id = store.create_run(flaky_doc({"retry": {"max_attempts": 2, "jitter": False}}), {})
    with pytest.raises(Crash):
        advance_run(run_id, services_for(store, crashing, flaky, lease_seconds=30))
    assert store.steps(run_id)["a"].status == StepStatus.RETRYING
    crashing.advance(31)  # the lease expires; the retry is due too
    fine = FakeClock(crashing.now())
    assert advance_run(run_id, services_for(store, fine, flaky)) == RunStatus.SUCCEEDED
    assert fine.sleeps == []
    assert store.steps(run_id)["a"].attempts == 2


def test_cancel_is_checked_between_attempts(store: InMemoryRunStore, clock: FakeClock) -> None:
    run_id = ""

    def fail_and_cancel(n: int) -> Any:
        store.request_cancel(run_id)
        raise NodeError("down", code=ErrorCode.LLM_ERROR)

    services = services_for(store, clock, flaky_type(fail_and_cancel))
    run_id = store.create_run(flaky_doc({"retry": {"max_attempts": 5}}), {})
    assert advance_run(run_id, services) == RunStatus.CANCELLED
    assert store.steps(run_id)["a"].attempts == 1
    assert clock.sleeps == []


def test_cancel_during_backoff_stops_before_the_next_attempt(store: InMemoryRunStore) -> None:
    run_id = ""

    class CancellingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            store.request_cancel(run_id)

    clock = CancellingClock()
    store = InMemoryRunStore(clock)
    services = services_for(store, clock, flaky_type(fails_then(9)))
    run_id = store.create_run(flaky_doc({"retry": {"max_attempts": 5, "backoff_seconds": 1}}), {})
    assert advance_run(run_id, services) == RunStatus.CANCELLED
    assert store.steps(run_id)["a"].attempts == 1
    assert len(clock.sleeps) == 1


# --- timeout ---------------------------------------------------------------------------------------


def test_timeout_fails_with_node_timeout(store: InMemoryRunStore, clock: FakeClock) -> None:
    release = threading.Event()

    def hang(_n: int) -> Any:
        release.wait(10)
        return {"late": True}

    services = services_for(store, clock, flaky_type(hang))
    run_id = store.create_run(flaky_doc({"timeout_seconds": 1}), {})
    try:
        assert advance_run(run_id, services) == RunStatus.FAILED
    finally:
        release.set()
    error = store.steps(run_id)["a"].error
    assert error is not None
    assert error["code"] == "NODE_TIMEOUT"
    assert "within 1 seconds" in error["message"]


def test_timeout_lets_a_fast_node_through(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(0)))
    run_id = store.create_run(flaky_doc({"timeout_seconds": 5}), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["a"].output == {"ok": 1}


# --- on_error --------------------------------------------------------------------------------------


def test_on_error_continue_goes_on_with_the_error(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(9, ErrorCode.INPUT_INVALID)))
    run_id = store.create_run(flaky_doc({"on_error": "continue"}), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    a = store.steps(run_id)["a"]
    error = {"code": "INPUT_INVALID", "message": "failure 1"}
    assert (a.status, a.error, a.output, a.ports) == (StepStatus.FAILED, error, {"error": error}, ("out",))
    assert store.steps(run_id)["b"].output == {"result": {"error": error}}
    assert store.run_error(run_id) is None


def test_on_error_error_port_fires_only_error(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(9)))
    doc = flaky_doc({"on_error": "error_port", "retry": {"max_attempts": 2, "jitter": False}}, port="error")
    doc["nodes"].append({"id": "c", "type": "data.template", "config": {"template": "fine"}})
    doc["edges"].append({"id": "e9", "source": "a", "source_port": "out", "target": "c", "target_port": "in"})
    run_id = store.create_run(doc, {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert (steps["a"].status, steps["a"].attempts, steps["a"].ports) == (StepStatus.FAILED, 2, ("error",))
    assert steps["b"].output == {"result": {"error": {"code": "LLM_ERROR", "message": "failure 2"}}}
    assert steps["c"].status == StepStatus.SKIPPED


def test_error_port_stays_quiet_on_success(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(0)))
    run_id = store.create_run(flaky_doc({"on_error": "error_port"}, port="error"), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["b"].status == StepStatus.SKIPPED


def test_outcome_unknown_is_never_handled(store: InMemoryRunStore, clock: FakeClock) -> None:
    services = services_for(store, clock, flaky_type(fails_then(9, ErrorCode.OUTCOME_UNKNOWN)))
    settings = {"on_error": "continue", "retry": {"max_attempts": 3, "retry_on": ["OUTCOME_UNKNOWN"]}}
    run_id = store.create_run(flaky_doc(settings), {})
    assert advance_run(run_id, services) == RunStatus.FAILED
    assert store.steps(run_id)["a"].status == StepStatus.OUTCOME_UNKNOWN
    assert store.steps(run_id)["a"].attempts == 1


def test_reliable_prompt_fixture(store: InMemoryRunStore, clock: FakeClock) -> None:
    from core_helpers import load_fixture

    doc = load_fixture("reliable_prompt.json")
    down = NodeError("provider down", code=ErrorCode.LLM_ERROR)
    services = RunnerServices(
        store=store,
        registry=default_registry(),
        llm=FakeLLM([down, down, down]),
        mailer=FakeMailer(),
        clock=clock,
        jitter_source=lambda: 1.0,
    )
    run_id = store.create_run(doc, {"message": "hi"})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert (steps["draft"].status, steps["draft"].attempts) == (StepStatus.FAILED, 3)
    assert clock.sleeps == [2.0, 4.0]
    assert steps["use"].status == StepStatus.SKIPPED
    assert steps["fallback"].output == {"text": "Sorry, no draft today (LLM_ERROR)."}

    fine = store.create_run(doc, {"message": "hi"})
    assert advance_run(fine, RunnerServices(**{**services.__dict__, "llm": FakeLLM(["Hello!"])})) == (
        RunStatus.SUCCEEDED
    )
    assert store.steps(fine)["use"].output == {"text": "Hello!"}
    assert store.steps(fine)["fallback"].status == StepStatus.SKIPPED


# --- retry over real HTTP (issue 4): a permanent 4xx is tried once, a 503 is retried -------------


class _ScriptedHandler(BaseHTTPRequestHandler):
    """Answers with the next status of ``script`` (then 200) and records every request path."""

    script: ClassVar[list[int]] = []
    seen: ClassVar[list[str]] = []
    base_url: ClassVar[str] = ""

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(self.path)
        status = type(self).script.pop(0) if type(self).script else 200
        body = json.dumps({"status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def http_stub() -> Iterator[type[_ScriptedHandler]]:
    _ScriptedHandler.script, _ScriptedHandler.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _ScriptedHandler.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield _ScriptedHandler
    server.shutdown()
    server.server_close()


def http_retry_run(
    store: InMemoryRunStore, clock: FakeClock, stub: type[_ScriptedHandler]
) -> tuple[RunStatus | None, str]:
    retry = {
        "max_attempts": 3,
        "backoff_seconds": 1,
        "backoff_multiplier": 2,
        "jitter": False,
        "retry_on": ["HTTP_ERROR", "NODE_TIMEOUT"],
    }
    doc = make_doc(
        [("t", "trigger.manual", {}), ("call", "http.request", {"url": stub.base_url + "/orders/7"})],
        [("t", "out", "call", "in")],
    )
    doc["nodes"][1]["settings"] = {"retry": retry}
    services = services_for(store, clock, http=SafeHttpClient(policy=EgressPolicy.build(["127.0.0.1"])))
    run_id = store.create_run(doc, {})
    return advance_run(run_id, services), run_id


def test_http_404_is_permanent_and_tried_once(
    store: InMemoryRunStore, clock: FakeClock, http_stub: type[_ScriptedHandler]
) -> None:
    http_stub.script = [404, 404, 404]
    status, run_id = http_retry_run(store, clock, http_stub)
    assert status == RunStatus.FAILED
    call = store.steps(run_id)["call"]
    assert (call.status, call.attempts) == (StepStatus.FAILED, 1)
    assert call.error is not None
    assert call.error["code"] == "HTTP_ERROR"
    assert http_stub.seen == ["/orders/7"]
    assert clock.sleeps == []


def test_http_503_twice_then_200_takes_three_attempts_with_growing_delays(
    store: InMemoryRunStore, clock: FakeClock, http_stub: type[_ScriptedHandler]
) -> None:
    http_stub.script = [503, 503]
    status, run_id = http_retry_run(store, clock, http_stub)
    assert status == RunStatus.SUCCEEDED, store.run_error(run_id)
    call = store.steps(run_id)["call"]
    assert (call.status, call.attempts) == (StepStatus.SUCCEEDED, 3)
    assert call.output["status"] == 200
    assert http_stub.seen == ["/orders/7"] * 3
    assert clock.sleeps == [1.0, 2.0]

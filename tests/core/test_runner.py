from __future__ import annotations

from typing import Any

from core_helpers import make_doc

from orchestrator_core import (
    ErrorCode,
    NodeError,
    RunnerServices,
    RunStatus,
    StepStatus,
    advance_run,
    step_to_dict,
)
from orchestrator_core.ports import EffectStatus
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore

INPUT = {
    "from": "alice@example.com",
    "subject": "Charged twice",
    "body": "I was charged twice for order 42. Please give me my money back.",
}
STEP_KEYS = {
    "node_id",
    "status",
    "attempts",
    "inputs",
    "output",
    "error",
    "started_at",
    "ended_at",
    "duration_ms",
    "model",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "children_cost_usd",
    "reason",
    "tries",
    "request",
}


LLM_THEN_TEMPLATE = make_doc(
    [
        ("t", "trigger.manual", {}),
        ("a", "llm.prompt", {"prompt": "x"}),
        ("b", "data.template", {"template": "b"}),
    ],
    [("t", "out", "a", "in"), ("a", "out", "b", "in")],
)


def record_saves(store: InMemoryRunStore) -> list[str]:
    """Wrap ``store.save_step`` and return the list it appends ``node:status`` to."""
    saves: list[str] = []
    original = store.save_step

    def recording_save(run_id: str, *, fence: int, step: Any, events: Any = ()) -> None:
        saves.append(f"{step.node_id}:{step.status}")
        original(run_id, fence=fence, step=step, events=events)

    store.save_step = recording_save  # type: ignore[method-assign]
    return saves


def start(store: InMemoryRunStore, services: RunnerServices, doc: dict[str, Any], trigger: Any = None) -> str:
    run_id = store.create_run(doc, INPUT if trigger is None else trigger)
    return run_id


def decide(store: InMemoryRunStore, run_id: str, decision: str, edited: dict[str, Any] | None = None) -> None:
    answer = {"decision": decision, "edited": edited, "comment": "checked", "decided_by": "rita"}
    store.resume_step(run_id, "review", answer)


def test_support_reply_waits_then_sends_the_edited_reply(
    store: InMemoryRunStore,
    services: RunnerServices,
    support_doc: dict[str, Any],
    mailer: FakeMailer,
    llm: FakeLLM,
) -> None:
    run_id = start(store, services, support_doc)
    assert advance_run(run_id, services) == RunStatus.WAITING
    steps = store.steps(run_id)
    assert steps["classify"].output == {"label": "refund", "text": "refund"}
    assert "(Drafted by Baton's offline demo model.)" in steps["draft"].output["text"]
    assert steps["draft"].inputs["prompt"].startswith("Write a reply")
    assert steps["draft"].meta["model"] == "demo"
    review = steps["review"]
    assert review.status == StepStatus.WAITING
    assert review.request["queue"] == "Support"
    assert review.request["title"] == "Reply to alice@example.com: Charged twice"
    assert review.request["context"]["Intent"] == "refund"
    assert review.request["fields"] == {"reply": steps["draft"].output["text"]}
    assert "send" not in steps
    assert mailer.sent == []
    assert advance_run(run_id, services) is None  # waiting: nothing to claim

    decide(store, run_id, "approve", {"reply": "Dear Alice, refunded. Sorry!", "unknown": "ignored"})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["review"].output == {
        "decision": "approved",
        "values": {"reply": "Dear Alice, refunded. Sorry!"},
        "comment": "checked",
        "decided_by": "rita",
        "round": 1,  # the demo's review has redraft_from (review rounds)
    }
    assert steps["review"].resume is None
    assert steps["review"].request is not None  # kept for the audit trail
    assert [(m.to, m.subject, m.body) for m in mailer.sent] == [
        ("alice@example.com", "Re: Charged twice", "Dear Alice, refunded. Sorry!")
    ]
    assert steps["send"].output["message_id"] == "<fake-1@baton.test>"
    assert len(llm.requests) == 2  # the review re-run did not call the model again
    assert store.run_status(run_id) == RunStatus.SUCCEEDED


def test_reject_skips_send(
    store: InMemoryRunStore, services: RunnerServices, support_doc: dict[str, Any]
) -> None:
    run_id = start(store, services, support_doc)
    advance_run(run_id, services)
    decide(store, run_id, "reject")
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["review"].output["decision"] == "rejected"
    assert steps["review"].ports == ("rejected",)
    assert steps["send"].status == StepStatus.SKIPPED


def test_events_have_the_documented_shape(
    store: InMemoryRunStore, services: RunnerServices, support_doc: dict[str, Any]
) -> None:
    run_id = start(store, services, support_doc)
    advance_run(run_id, services)
    events = store.events(run_id)
    assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
    first, last = events[0][1], events[-1][1]
    assert (first.type, first.node_id, dict(first.data)) == (
        "run.status",
        None,
        {"status": "running", "error": None},
    )
    assert (last.type, dict(last.data)) == ("run.status", {"status": "waiting", "error": None})
    step_events = [e for _, e in events if e.type == "step.status"]
    assert all(set(e.data) == STEP_KEYS for e in step_events)
    assert [(e.node_id, e.data["status"]) for e in step_events][:2] == [
        ("trigger", "running"),
        ("trigger", "succeeded"),
    ]
    draft_done = next(e for e in step_events if e.node_id == "draft" and e.data["status"] == "succeeded")
    assert draft_done.data["model"] == "demo"
    assert draft_done.data["tokens_out"] > 0
    assert isinstance(draft_done.data["started_at"], str)
    assert draft_done.data["duration_ms"] == 0


def test_step_to_dict_defaults() -> None:
    from orchestrator_core import StepRecord

    d = step_to_dict(StepRecord("n", StepStatus.SKIPPED))
    assert d == {
        "node_id": "n",
        "status": "skipped",
        "attempts": 0,
        "inputs": None,
        "output": None,
        "error": None,
        "started_at": None,
        "ended_at": None,
        "duration_ms": None,
        "model": None,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
        "children_cost_usd": 0.0,
        "reason": None,
        "tries": [],
        "request": None,
    }


def test_crash_after_send_started_is_outcome_unknown(
    store: InMemoryRunStore, services: RunnerServices, support_doc: dict[str, Any], mailer: FakeMailer
) -> None:
    run_id = start(store, services, support_doc)
    advance_run(run_id, services)
    store.effect_begin(f"{run_id}:send:0", run_id=run_id, node_id="send")  # a worker died mid-send
    decide(store, run_id, "approve")
    assert advance_run(run_id, services) == RunStatus.FAILED
    assert store.steps(run_id)["send"].status == StepStatus.OUTCOME_UNKNOWN
    assert mailer.sent == []
    error = store.run_error(run_id)
    assert error is not None
    assert error["code"] == "OUTCOME_UNKNOWN"
    assert error["node_id"] == "send"


def test_crash_after_send_done_does_not_resend(
    store: InMemoryRunStore,
    services: RunnerServices,
    support_doc: dict[str, Any],
    mailer: FakeMailer,
    clock: FakeClock,
) -> None:
    run_id = start(store, services, support_doc)
    advance_run(run_id, services)
    key = f"{run_id}:send:0"
    store.effect_begin(key, run_id=run_id, node_id="send")
    store.effect_complete(key, result={"message_id": "<earlier>"})
    decide(store, run_id, "approve")
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert mailer.sent == []
    assert store.steps(run_id)["send"].output["message_id"] == "<earlier>"
    assert store.effects()[key].status == EffectStatus.DONE


def test_expired_lease_is_resumed_by_another_worker(
    store: InMemoryRunStore, services: RunnerServices, clock: FakeClock
) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("a", "data.template", {"template": "Hi {{ trigger.name }}"})],
        [("t", "out", "a", "in")],
    )
    run_id = store.create_run(doc, {"name": "Bo"})
    snap = store.claim(run_id, owner="dead", lease_seconds=30)
    assert snap is not None
    assert advance_run(run_id, services) is None  # leased by the dead worker
    clock.advance(31)
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["a"].output == {"text": "Hi Bo"}


def test_stale_worker_stops_without_writing(store: InMemoryRunStore, clock: FakeClock) -> None:
    doc = LLM_THEN_TEMPLATE
    run_id = store.create_run(doc, {})

    def steal(_request: Any) -> str:
        store.expire_lease(run_id)
        assert store.claim(run_id, owner="thief", lease_seconds=60) is not None
        return "answer"

    services = RunnerServices(
        store=store,
        registry=__import__("orchestrator_core").default_registry(),
        llm=FakeLLM(steal),
        mailer=FakeMailer(),
        clock=clock,
    )
    assert advance_run(run_id, services) is None
    assert "b" not in store.steps(run_id)
    assert store.steps(run_id)["a"].status == StepStatus.RUNNING


def test_cancel_queued_and_running(
    store: InMemoryRunStore, services: RunnerServices, clock: FakeClock
) -> None:
    doc = LLM_THEN_TEMPLATE
    queued = store.create_run(doc, {})
    store.request_cancel(queued)
    assert advance_run(queued, services) is None
    assert store.run_status(queued) == RunStatus.CANCELLED

    running = store.create_run(doc, {})

    def cancel(_request: Any) -> str:
        store.request_cancel(running)
        return "ok"

    svc = RunnerServices(
        store=store, registry=services.registry, llm=FakeLLM(cancel), mailer=FakeMailer(), clock=clock
    )
    assert advance_run(running, svc) == RunStatus.CANCELLED
    assert "b" not in store.steps(running)
    assert store.events(running)[-1][1].data["status"] == "cancelled"


def test_failing_node_fails_the_run(
    store: InMemoryRunStore, clock: FakeClock, services: RunnerServices
) -> None:
    doc = LLM_THEN_TEMPLATE
    run_id = store.create_run(doc, {})
    svc = RunnerServices(
        store=store,
        registry=services.registry,
        llm=FakeLLM([NodeError("provider down", code=ErrorCode.LLM_ERROR)]),
        mailer=FakeMailer(),
        clock=clock,
    )
    assert advance_run(run_id, svc) == RunStatus.FAILED
    assert store.run_error(run_id) == {"code": "LLM_ERROR", "message": "provider down", "node_id": "a"}
    assert store.steps(run_id)["a"].status == StepStatus.FAILED
    assert "b" not in store.steps(run_id)
    last = store.events(run_id)[-1][1]
    assert last.data == {
        "status": "failed",
        "error": {"code": "LLM_ERROR", "message": "provider down", "node_id": "a"},
    }


def test_unexpected_exception_is_internal_error(
    store: InMemoryRunStore, clock: FakeClock, services: RunnerServices
) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("a", "llm.prompt", {"prompt": "x"})], [("t", "out", "a", "in")]
    )
    run_id = store.create_run(doc, {})
    svc = RunnerServices(
        store=store,
        registry=services.registry,
        llm=FakeLLM([ZeroDivisionError("boom")]),
        mailer=FakeMailer(),
        clock=clock,
    )
    assert advance_run(run_id, svc) == RunStatus.FAILED
    assert store.steps(run_id)["a"].error == {"code": "INTERNAL_ERROR", "message": "ZeroDivisionError: boom"}


def test_expression_error_fails_the_step(store: InMemoryRunStore, services: RunnerServices) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("a", "data.template", {"template": "{{ length(trigger.n) }}"})],
        [("t", "out", "a", "in")],
    )
    run_id = store.create_run(doc, {"n": 5})
    assert advance_run(run_id, services) == RunStatus.FAILED
    error = store.steps(run_id)["a"].error
    assert error is not None
    assert error["code"] == "EXPRESSION_INVALID"
    assert "Node 'a', field 'template'" in error["message"]


def test_invalid_workflow_fails_the_run(store: InMemoryRunStore, services: RunnerServices) -> None:
    run_id = store.create_run(make_doc([("a", "data.template", {"template": "x"})], []), {})
    assert advance_run(run_id, services) == RunStatus.FAILED
    error = store.run_error(run_id)
    assert error is not None
    assert error["code"] == "WORKFLOW_INVALID"
    assert error["details"][0]["code"] == "TRIGGER_MISSING"


def test_if_branch_fixture(store: InMemoryRunStore, services: RunnerServices) -> None:
    from core_helpers import load_fixture

    doc = load_fixture("if_branch.json")
    big = store.create_run(doc, {"amount": 250})
    small = store.create_run(doc, {"amount": 5})
    assert advance_run(big, services) == RunStatus.SUCCEEDED
    assert advance_run(small, services) == RunStatus.SUCCEEDED
    assert store.steps(big)["large"].output == {"text": "Large order of 250: needs a manager."}
    assert store.steps(big)["small"].status == StepStatus.SKIPPED
    assert store.steps(small)["large"].status == StepStatus.SKIPPED
    assert store.steps(small)["check"].inputs == {"condition": False}


def test_crashed_running_step_is_retried(
    store: InMemoryRunStore, services: RunnerServices, clock: FakeClock
) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("a", "data.template", {"template": "ok"})], [("t", "out", "a", "in")]
    )
    run_id = store.create_run(doc, {})
    snap = store.claim(run_id, owner="dead", lease_seconds=10)
    assert snap is not None
    from orchestrator_core import StepRecord

    store.save_step(run_id, fence=snap.fence, step=StepRecord("t", StepStatus.RUNNING, attempts=1))
    clock.advance(11)
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["t"].attempts == 2


def test_quick_nodes_are_written_once_but_still_report_running(
    store: InMemoryRunStore, services: RunnerServices
) -> None:
    doc = make_doc(
        [("start", "trigger.manual", {}), ("t1", "data.template", {"template": "hi {{ trigger.from }}"})],
        [("start", "out", "t1", "in")],
    )
    run_id = store.create_run(doc, INPUT)
    saves = record_saves(store)
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert saves == ["start:succeeded", "t1:succeeded"]
    t1_events = [
        e.data["status"] for _, e in store.events(run_id) if e.type == "step.status" and e.node_id == "t1"
    ]
    assert t1_events == ["running", "succeeded"]


def test_slow_nodes_store_running_before_they_start(
    store: InMemoryRunStore, services: RunnerServices, support_doc: dict[str, Any]
) -> None:
    run_id = store.create_run(support_doc, INPUT)
    seen = record_saves(store)
    advance_run(run_id, services)
    assert seen[:3] == ["trigger:succeeded", "classify:running", "classify:succeeded"]

"""Review rounds: ``human.approval`` with ``redraft_from`` sends the run back to the drafting step."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import load_fixture, make_doc

from orchestrator_core import RunnerServices, RunStatus, StepStatus, advance_run, step_to_dict
from orchestrator_core.errors import ErrorCode, LeaseLost
from orchestrator_core.ports import StepRecord
from orchestrator_core.testing import FakeLLM, FakeMailer, InMemoryRunStore
from orchestrator_core.validation import validate_workflow

INPUT = {
    "from": "alice@example.com",
    "subject": "Charged twice",
    "body": "I was charged twice for order 42. Please give me my money back.",
}


def answer(decision: str, comment: str = "", edited: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"decision": decision, "edited": edited, "comment": comment, "decided_by": "rita"}


def support_doc(**review: Any) -> dict[str, Any]:
    doc = load_fixture("support_reply.json")
    for node in doc["nodes"]:
        if node["id"] == "review":
            node["config"].update(review)
    return doc


@pytest.fixture
def drafts() -> FakeLLM:
    """The classifier says refund; the drafts are numbered so each round's draft is recognisable."""
    count = {"n": 0}

    def reply(request: Any) -> str:
        if request.purpose == "classify":
            return "refund"
        count["n"] += 1
        return f"Draft {count['n']}"

    return FakeLLM(reply)


@pytest.fixture
def svc(
    store: InMemoryRunStore, registry: Any, drafts: FakeLLM, mailer: FakeMailer, clock: Any
) -> RunnerServices:
    return RunnerServices(store=store, registry=registry, llm=drafts, mailer=mailer, clock=clock)


def test_request_changes_redrafts_with_the_feedback_then_approve_sends_once(
    store: InMemoryRunStore, svc: RunnerServices, drafts: FakeLLM, mailer: FakeMailer
) -> None:
    run_id = store.create_run(support_doc(), INPUT)
    assert advance_run(run_id, svc) == RunStatus.WAITING
    first = store.steps(run_id)
    assert first["review"].request["fields"] == {"reply": "Draft 1"}
    assert "approval_key" not in first["review"].request  # round 1 keeps the plain key
    assert "A reviewer asked" not in first["draft"].inputs["prompt"]

    store.resume_step(run_id, "review", answer("changes_requested", "Mention the refund delay."))
    assert advance_run(run_id, svc) == RunStatus.WAITING
    steps = store.steps(run_id)
    # The draft ran again, with the feedback (and the previous draft) in its prompt.
    draft = steps["draft"]
    assert draft.output["text"] == "Draft 2"
    assert "Their feedback: Mention the refund delay." in draft.inputs["prompt"]
    assert "Previous draft: Draft 1" in draft.inputs["prompt"]
    assert draft.meta["review"]["round"] == 2
    assert [r["output"]["text"] for r in draft.meta["rounds"]] == ["Draft 1"]
    assert draft.attempts == 1
    shown = step_to_dict(draft)  # what the run page and the step.status events show
    assert shown["round"] == 2
    assert [(r["round"], r["status"], r["output"]) for r in shown["rounds"]] == [
        (1, "succeeded", {"text": "Draft 1", "model": draft.output["model"]})
    ]
    assert "rounds" not in step_to_dict(steps["classify"])
    # The classifier was not reset: it is upstream of the draft.
    assert "rounds" not in steps["classify"].meta
    assert sum(1 for r in drafts.requests if r.purpose == "classify") == 1
    # The review waits again, as round 2, with a new approval key and the earlier feedback shown.
    review = steps["review"]
    assert review.status == StepStatus.WAITING
    assert review.request["fields"] == {"reply": "Draft 2"}
    assert review.request["approval_key"] == "round-2-review"
    assert review.request["context"]["Review round"] == "2 of 3"
    assert review.request["context"]["Earlier feedback"] == "Mention the refund delay."
    (earlier,) = review.meta["rounds"]
    assert earlier["round"] == 1
    assert earlier["output"]["decision"] == "changes_requested"
    assert earlier["output"]["feedback"] == "Mention the refund delay."
    assert "send" not in steps
    assert mailer.sent == []

    store.resume_step(run_id, "review", answer("approve", "ok", {"reply": "Dear Alice, refunded."}))
    assert advance_run(run_id, svc) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["review"].output["values"] == {"reply": "Dear Alice, refunded."}
    assert steps["review"].output["round"] == 2
    assert steps["review"].ports == ("approved",)
    assert [m.body for m in mailer.sent] == ["Dear Alice, refunded."]
    assert steps["send"].attempts == 1
    assert len(steps["review"].meta["rounds"]) == 1  # the history survives the final round
    # The events keep round 1: the decision that sent the run back, then the queued steps.
    trail = [(e.node_id, e.data.get("status")) for _seq, e in store.events(run_id) if e.type == "step.status"]
    assert trail.count(("draft", "succeeded")) == 2
    assert ("draft", "queued") in trail
    assert ("review", "queued") in trail


def test_after_max_rounds_a_change_request_follows_the_changes_port(
    store: InMemoryRunStore, svc: RunnerServices, mailer: FakeMailer
) -> None:
    run_id = store.create_run(support_doc(max_rounds=2), INPUT)
    advance_run(run_id, svc)
    store.resume_step(run_id, "review", answer("changes_requested", "Shorter."))
    assert advance_run(run_id, svc) == RunStatus.WAITING
    assert store.steps(run_id)["review"].request["context"]["Review round"] == "2 of 2"
    store.resume_step(run_id, "review", answer("changes_requested", "Still too long."))
    assert advance_run(run_id, svc) == RunStatus.SUCCEEDED  # the 'changes' port is not wired
    steps = store.steps(run_id)
    assert steps["review"].ports == ("changes",)
    assert steps["review"].output["feedback"] == "Still too long."
    assert steps["draft"].output["text"] == "Draft 2"
    assert steps["send"].status == StepStatus.SKIPPED
    assert mailer.sent == []


def test_without_redraft_from_changes_follow_the_port(
    store: InMemoryRunStore, svc: RunnerServices, mailer: FakeMailer
) -> None:
    doc = support_doc()
    for node in doc["nodes"]:
        if node["id"] == "review":
            del node["config"]["redraft_from"]
    run_id = store.create_run(doc, INPUT)
    advance_run(run_id, svc)
    store.resume_step(run_id, "review", answer("changes_requested", "Shorter."))
    assert advance_run(run_id, svc) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["review"].ports == ("changes",)
    assert "round" not in steps["review"].output
    assert steps["draft"].output["text"] == "Draft 1"


SIDE_BRANCH = make_doc(
    [
        ("t", "trigger.manual", {}),
        ("draft", "data.template", {"template": "v{{ review.round || `1` }}: {{ review.feedback }}"}),
        ("note", "data.template", {"template": "noted {{ steps.draft.text }}"}),
        ("check", "data.template", {"template": "{{ steps.draft.text }}!"}),
        (
            "review",
            "human.approval",
            {"title": "t", "fields": {"text": "{{ steps.check.text }}"}, "redraft_from": "draft"},
        ),
        ("done", "data.template", {"template": "{{ steps.review.values.text }}"}),
    ],
    [
        ("t", "out", "draft", "in"),
        ("draft", "out", "note", "in"),
        ("draft", "out", "check", "in"),
        ("check", "out", "review", "in"),
        ("review", "approved", "done", "in"),
    ],
)


def test_every_node_after_the_redraft_runs_again_and_keeps_its_history(
    store: InMemoryRunStore, svc: RunnerServices
) -> None:
    run_id = store.create_run(SIDE_BRANCH, {})
    assert advance_run(run_id, svc) == RunStatus.WAITING
    assert store.steps(run_id)["note"].output == {"text": "noted v1: "}
    store.resume_step(run_id, "review", answer("changes_requested", "more"))
    assert advance_run(run_id, svc) == RunStatus.WAITING
    steps = store.steps(run_id)
    assert steps["draft"].output == {"text": "v2: more"}
    assert steps["check"].output == {"text": "v2: more!"}
    assert steps["note"].output == {"text": "noted v2: more"}  # a side branch after the draft too
    assert [r["output"]["text"] for r in steps["note"].meta["rounds"]] == ["noted v1: "]
    assert "rounds" not in steps["t"].meta
    store.resume_step(run_id, "review", answer("approve"))
    assert advance_run(run_id, svc) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["done"].output == {"text": "v2: more!"}


def test_the_reset_is_one_fenced_store_write(store: InMemoryRunStore, svc: RunnerServices) -> None:
    """The decision and the reset go to the store together; a stale worker changes nothing."""
    run_id = store.create_run(SIDE_BRANCH, {})
    advance_run(run_id, svc)
    calls: list[list[str]] = []
    original = store.reset_steps

    def recording(run_id: str, *, fence: int, steps: Any, events: Any = ()) -> None:
        calls.append([s.node_id for s in steps])
        original(run_id, fence=fence, steps=steps, events=events)

    store.reset_steps = recording  # type: ignore[method-assign]
    store.resume_step(run_id, "review", answer("changes_requested", "more"))
    advance_run(run_id, svc)
    assert calls == [["draft", "note", "check", "review"]]
    snap = store.claim(run_id, owner="x", lease_seconds=60)
    assert snap is None  # waiting
    store.resume_step(run_id, "review", answer("approve"))
    snap = store.claim(run_id, owner="x", lease_seconds=60)
    assert snap is not None
    store.expire_lease(run_id)
    assert store.claim(run_id, owner="y", lease_seconds=60) is not None
    with pytest.raises(LeaseLost):
        original(run_id, fence=snap.fence, steps=[StepRecord("draft", StepStatus.QUEUED)])
    assert store.steps(run_id)["draft"].status == StepStatus.SUCCEEDED


def test_redraft_from_must_be_upstream(registry: Any) -> None:
    def issues(target: str) -> list[Any]:
        return [
            i for i in validate_workflow(support_doc(redraft_from=target), registry) if i.node_id == "review"
        ]

    assert issues("draft") == []
    assert issues("classify") == []
    (ahead,) = issues("send")
    assert ahead.code == ErrorCode.NODE_CONFIG_INVALID
    assert "redraft_from" in ahead.message
    assert "not upstream" in ahead.message
    (missing,) = issues("nowhere")
    assert "no such node" in missing.message
    assert len(issues("review")) == 1


def test_a_redone_step_keeps_counting_what_its_earlier_rounds_spent(
    store: InMemoryRunStore, registry: Any, mailer: FakeMailer, clock: Any
) -> None:
    llm = FakeLLM(lambda r: "refund" if r.purpose == "classify" else "A draft", cost_usd=0.25)
    svc = RunnerServices(store=store, registry=registry, llm=llm, mailer=mailer, clock=clock)
    run_id = store.create_run(support_doc(), INPUT)
    advance_run(run_id, svc)
    store.resume_step(run_id, "review", answer("changes_requested", "Shorter."))
    advance_run(run_id, svc)
    steps = store.steps(run_id)
    draft = steps["draft"]
    assert draft.meta["cost_usd"] == pytest.approx(0.5)  # both rounds: budgets and usage see them
    assert draft.meta["rounds"][0]["cost_usd"] == pytest.approx(0.25)  # round 1's own spend
    assert steps["classify"].meta["cost_usd"] == pytest.approx(0.25)
    store.resume_step(run_id, "review", answer("changes_requested", "Even shorter."))
    advance_run(run_id, svc)
    draft = store.steps(run_id)["draft"]
    assert draft.meta["cost_usd"] == pytest.approx(0.75)
    assert [r["cost_usd"] for r in draft.meta["rounds"]] == [pytest.approx(0.25), pytest.approx(0.25)]
    assert [r["round"] for r in draft.meta["rounds"]] == [1, 2]
    assert all("rounds" not in r for r in draft.meta["rounds"])  # the history does not nest
    assert store.steps(run_id)["review"].request["context"]["Review round"] == "3 of 3"


def test_a_decision_in_the_same_round_is_kept_in_history_then_asked_again(
    store: InMemoryRunStore, svc: RunnerServices
) -> None:
    """Two approvals resumed together run in one parallel round: the other one's result is saved
    first, then the review round sends it back too (its decision stays in its history)."""
    doc = make_doc(
        [
            ("t", "trigger.manual", {}),
            ("draft", "data.template", {"template": "v{{ review.round || `1` }}"}),
            ("legal", "human.approval", {"title": "legal", "fields": {"text": "{{ steps.draft.text }}"}}),
            (
                "review",
                "human.approval",
                {"title": "t", "fields": {"text": "{{ steps.draft.text }}"}, "redraft_from": "draft"},
            ),
        ],
        [("t", "out", "draft", "in"), ("draft", "out", "legal", "in"), ("draft", "out", "review", "in")],
    )
    run_id = store.create_run(doc, {})
    assert advance_run(run_id, svc) == RunStatus.WAITING
    store.resume_step(run_id, "legal", answer("approve"))
    store.resume_step(run_id, "review", answer("changes_requested", "again"))
    assert advance_run(run_id, svc) == RunStatus.WAITING
    steps = store.steps(run_id)
    assert steps["draft"].output == {"text": "v2"}
    legal = steps["legal"]
    assert legal.status == StepStatus.WAITING
    assert legal.request["fields"] == {"text": "v2"}
    assert legal.request["approval_key"] == "round-2-review"  # a new inbox item for it too
    assert "Review round" not in legal.request["context"]  # only the deciding node's own rounds
    assert [r["output"]["decision"] for r in legal.meta["rounds"]] == ["approved"]
    assert steps["review"].status == StepStatus.WAITING


def test_a_redone_node_starts_fresh_child_runs_in_its_new_round(store: InMemoryRunStore) -> None:
    """A sub-workflow or loop after the redraft point must not reuse last round's children."""
    from orchestrator_core.engine.runner import round_subruns
    from orchestrator_core.testing.subruns import InMemorySubRuns

    child = make_doc(
        [
            ("t", "trigger.manual", {"fields": [{"name": "x", "label": "X"}]}),
            ("out", "data.template", {"template": "{{ trigger.x }}"}),
        ],
        [("t", "out", "out", "in")],
    )
    subruns = InMemorySubRuns(store, {"7": child})
    store.create_run(load_fixture("support_reply.json"), INPUT, run_id="parent")
    first = round_subruns(subruns, 1)
    assert first is subruns
    old = first.start("parent", "each", "0", workflow="7", version=None, inputs={"x": "round one"})
    again = round_subruns(subruns, 2)
    assert again is not None
    assert again.children("parent", "each") == {}  # last round's child is not this round's
    new = again.start("parent", "each", "0", workflow="7", version=None, inputs={"x": "round two"})
    assert new.run_id != old.run_id
    assert set(again.children("parent", "each")) == {"0"}
    assert again.start("parent", "each", "0", workflow="7", version=None, inputs={}).run_id == new.run_id
    assert len(subruns.started) == 2

"""A mail transport that refused the message (known "not sent") leaves no started effect behind,
so the retry sends; an ambiguous failure still ends OUTCOME_UNKNOWN."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import make_doc
from node_harness import run_node

from orchestrator_core import ErrorCode, NodeError, RunnerServices, RunStatus, StepStatus, advance_run
from orchestrator_core.nodes.builtin.email_send import EMAIL_SEND
from orchestrator_core.ports import EffectStatus, EmailMessage
from orchestrator_core.testing import FakeClock, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import fake_services_kwargs

EMAIL = {"to": "{{ trigger.from }}", "subject": "Hi", "body": "Hello"}


def refused() -> NodeError:
    return NodeError("550 mailbox unavailable", code=ErrorCode.EMAIL_FAILED, details={"sent": False})


def dropped() -> NodeError:
    return NodeError("connection dropped", code=ErrorCode.EMAIL_FAILED, details={"sent": None})


class FlakyMailer(FakeMailer):
    """Fails with the given errors first, then sends."""

    def __init__(self, errors: list[NodeError]) -> None:
        super().__init__()
        self.errors = errors

    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return super().send(message, idempotency_key=idempotency_key, run_id=run_id, node_id=node_id)


def test_a_refused_send_is_forgotten_so_the_next_attempt_sends() -> None:
    store = InMemoryRunStore()
    mailer = FlakyMailer([refused()])
    with pytest.raises(NodeError) as info:
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, store=store, mailer=mailer)
    assert info.value.code == ErrorCode.EMAIL_FAILED
    assert "r1:n:0" not in store.effects()
    result, _ = run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, store=store, mailer=mailer)
    assert result.output["message_id"] == "<fake-1@baton.test>"
    assert store.effects()["r1:n:0"].status == EffectStatus.DONE
    assert mailer.keys == ["r1:n:0"]


def test_an_ambiguous_failure_stays_started_and_the_retry_is_outcome_unknown() -> None:
    store = InMemoryRunStore()
    mailer = FlakyMailer([dropped()])
    with pytest.raises(NodeError):
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, store=store, mailer=mailer)
    assert store.effects()["r1:n:0"].status == EffectStatus.STARTED
    with pytest.raises(NodeError) as info:
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, store=store, mailer=mailer)
    assert info.value.code == ErrorCode.OUTCOME_UNKNOWN
    assert mailer.sent == []


@pytest.mark.parametrize(("error", "expected"), [(refused, RunStatus.SUCCEEDED), (dropped, RunStatus.FAILED)])
def test_the_runner_retries_a_refused_send(error: Any, expected: RunStatus) -> None:
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    mailer = FlakyMailer([error()])
    services = RunnerServices(**fake_services_kwargs(store=store, clock=clock, mailer=mailer))
    doc = make_doc(
        [("t", "trigger.manual", {"fields": []}), ("send", "email.send", {**EMAIL, "to": "a@b.co"})],
        [("t", "out", "send", "in")],
    )
    doc["nodes"][1]["settings"] = {
        "retry": {"max_attempts": 2, "backoff_seconds": 1, "retry_on": ["EMAIL_FAILED"]}
    }
    run_id = store.create_run(doc, {})
    assert advance_run(run_id, services) == expected
    step = store.steps(run_id)["send"]
    assert step.attempts == 2
    if expected == RunStatus.SUCCEEDED:
        assert step.status == StepStatus.SUCCEEDED
        assert len(mailer.sent) == 1
    else:
        assert step.status == StepStatus.OUTCOME_UNKNOWN
        assert mailer.sent == []

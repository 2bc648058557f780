from __future__ import annotations

import pytest
from node_harness import run_node
from pydantic import ValidationError

from orchestrator_core import ErrorCode, NodeError
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.nodes.builtin.email_send import EMAIL_SEND, valid_email
from orchestrator_core.nodes.builtin.human_approval import HUMAN_APPROVAL
from orchestrator_core.testing import FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import mailer_error

APPROVAL = {
    "title": "Reply to {{ trigger.from }}",
    "instructions": "Check **tone**",
    "context": {"From": "{{ trigger.from }}"},
    "fields": {"reply": "{{ steps.draft.text }}", "note": "fixed"},
}
DATA = {"trigger": {"from": "a@example.com"}, "steps": {"draft": {"text": "Draft"}}}


def test_approval_interrupts_with_the_rendered_request() -> None:
    with pytest.raises(Interrupt) as info:
        run_node(HUMAN_APPROVAL, APPROVAL, **DATA)
    assert info.value.request == {
        "queue": "Support",
        "title": "Reply to a@example.com",
        "instructions": "Check **tone**",
        "context": {"From": "a@example.com"},
        "fields": {"reply": "Draft", "note": "fixed"},
    }


def test_approval_resumed() -> None:
    answer = {
        "decision": "approve",
        "edited": {"reply": "Better", "evil": "x"},
        "comment": "ok",
        "decided_by": "rita",
    }
    result, _ = run_node(HUMAN_APPROVAL, APPROVAL, resume=answer, **DATA)
    assert result.output == {
        "decision": "approved",
        "values": {"reply": "Better", "note": "fixed"},
        "comment": "ok",
        "decided_by": "rita",
    }
    assert result.ports == ("approved",)
    result, _ = run_node(HUMAN_APPROVAL, APPROVAL, resume={"decision": "reject", "edited": None}, **DATA)
    assert result.output["decision"] == "rejected"
    assert result.ports == ("rejected",)
    with pytest.raises(NodeError):
        run_node(HUMAN_APPROVAL, APPROVAL, resume={"decision": "maybe"}, **DATA)


def test_approval_config() -> None:
    with pytest.raises(ValidationError):
        HUMAN_APPROVAL.config_model.model_validate({"title": "x", "fields": {}})
    with pytest.raises(ValidationError):
        HUMAN_APPROVAL.config_model.model_validate({"title": "x", "fields": {"not valid": "x"}})


EMAIL = {"to": "{{ trigger.from }}", "subject": "Re:\r\nBcc: x@y.z {{ trigger.s }}", "body": "Hi"}


def test_email_sends_once() -> None:
    store, mailer = InMemoryRunStore(), FakeMailer()
    trigger = {"from": " bob@example.com ", "s": "Hello"}
    result, _ = run_node(EMAIL_SEND, EMAIL, trigger=trigger, store=store, mailer=mailer)
    assert result.output == {
        "to": "bob@example.com",
        "subject": "Re: Bcc: x@y.z Hello",
        "message_id": "<fake-1@baton.test>",
    }
    again, _ = run_node(EMAIL_SEND, EMAIL, trigger=trigger, store=store, mailer=mailer)
    assert again.output["message_id"] == "<fake-1@baton.test>"
    assert len(mailer.sent) == 1
    assert mailer.keys == ["r1:n:0"]


def test_email_bad_address_and_failures() -> None:
    with pytest.raises(NodeError) as info:
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "not-an-address"})
    assert info.value.code == ErrorCode.INPUT_INVALID
    with pytest.raises(NodeError) as info:
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, mailer=FakeMailer(fail_with=mailer_error()))
    assert info.value.code == ErrorCode.EMAIL_FAILED
    store = InMemoryRunStore()
    store.effect_begin("r1:n:0", run_id="r1", node_id="n")
    with pytest.raises(NodeError) as info:
        run_node(EMAIL_SEND, EMAIL, trigger={"from": "a@b.co"}, store=store)
    assert info.value.code == ErrorCode.OUTCOME_UNKNOWN


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("a@b.co", True),
        ("first.last+tag@mail.example.org", True),
        ("a@b", False),
        ("a b@c.de", False),
        ("a@b.co\nBcc: c@d.e", False),
        ("x" * 250 + "@b.co", False),
        ("", False),
    ],
)
def test_valid_email(address: str, ok: bool) -> None:
    assert valid_email(address) is ok

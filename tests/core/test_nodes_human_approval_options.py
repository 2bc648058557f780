"""``human.approval`` options: N of M, four eyes, deadlines, and the ``changes``/``timeout`` ports."""

from __future__ import annotations

import pytest
from node_harness import run_node
from pydantic import ValidationError

from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.nodes.builtin.human_approval import HUMAN_APPROVAL

BASE = {"title": "Reply", "fields": {"reply": "{{ steps.draft.text }}"}}
DATA = {"steps": {"draft": {"text": "Draft"}}}


def _request(**options: object) -> object:
    with pytest.raises(Interrupt) as info:
        run_node(HUMAN_APPROVAL, {**BASE, **options}, **DATA)
    return info.value.request


def test_defaults_leave_the_request_unchanged() -> None:
    assert set(_request()) == {"queue", "title", "instructions", "context", "fields"}  # type: ignore[arg-type]


def test_options_travel_with_the_request() -> None:
    request = _request(
        approvals_required=2,
        allow_starter=False,
        due_in_minutes=60,
        on_due="escalate",
        escalate_to="Managers",
    )
    assert request == {
        "queue": "Support",
        "title": "Reply",
        "instructions": "",
        "context": {},
        "fields": {"reply": "Draft"},
        "approvals_required": 2,
        "allow_starter": False,
        "due_in_minutes": 60,
        "on_due": "escalate",
        "escalate_to": "Managers",
    }
    assert _request(due_in_minutes=5) == {**_request(), "due_in_minutes": 5, "on_due": "timeout"}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "bad",
    [
        {"approvals_required": 0},
        {"approvals_required": 11},
        {"due_in_minutes": 0},
        {"on_due": "explode", "due_in_minutes": 5},
        {"on_due": "escalate", "due_in_minutes": 5},
        {"on_due": "escalate", "escalate_to": "Managers"},
    ],
)
def test_bad_options_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HUMAN_APPROVAL.config_model.model_validate({**BASE, **bad})


def test_ports() -> None:
    assert [p.name for p in HUMAN_APPROVAL.outputs] == ["approved", "rejected", "changes", "timeout"]


def test_changes_requested_fires_changes_with_the_feedback() -> None:
    answer = {
        "decision": "changes_requested",
        "edited": {"reply": "ignored"},
        "comment": "Shorter",
        "decided_by": "rey",
    }
    result, _ = run_node(HUMAN_APPROVAL, BASE, resume=answer, **DATA)
    assert result.ports == ("changes",)
    assert result.output == {
        "decision": "changes_requested",
        "values": {"reply": "Draft"},
        "comment": "Shorter",
        "decided_by": "rey",
        "feedback": "Shorter",
    }


def test_timeout_fires_timeout_with_the_shown_values() -> None:
    result, _ = run_node(HUMAN_APPROVAL, BASE, resume={"decision": "timeout"}, **DATA)
    assert result.ports == ("timeout",)
    assert result.output == {
        "decision": "timed_out",
        "values": {"reply": "Draft"},
        "comment": "",
        "decided_by": "",
    }

"""SMTP failures: a refusal (known "not sent") lets the step's retry send; a dropped connection
stays OUTCOME_UNKNOWN. The Django store's ``effect_abort`` is exercised end to end."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.core.mail import EmailMessage as DjangoEmail

from backend.connectors.mail import OutboxMailer, smtp_not_sent
from backend.connectors.models import OutboxMessage
from backend.runs.models import Effect, Run, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core import ErrorCode, NodeError
from orchestrator_core.ports import EmailMessage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("exc", "not_sent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.co": (550, b"no such user")}), True),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),
        (ConnectionRefusedError(), True),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (TimeoutError(), False),
    ],
)
def test_which_smtp_failures_prove_nothing_was_sent(exc: BaseException, not_sent: bool) -> None:
    assert smtp_not_sent(exc) is not_sent


def _fail_first(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> list[str]:
    sent: list[str] = []

    def send(self: DjangoEmail, fail_silently: bool = False) -> int:
        if not sent and exc is not None:
            sent.append("failed")
            raise exc
        sent.append("sent")
        return 1

    monkeypatch.setattr(DjangoEmail, "send", send)
    return sent


def test_the_mailer_marks_a_refusal_as_not_sent(settings, monkeypatch) -> None:
    settings.BATON_MAIL_TRANSPORT = "smtp"
    _fail_first(monkeypatch, smtplib.SMTPRecipientsRefused({"a@b.co": (550, b"no")}))
    with pytest.raises(NodeError) as info:
        OutboxMailer().send(
            EmailMessage(to="a@b.co", subject="s", body="b"), idempotency_key="k", run_id="1", node_id="n"
        )
    assert info.value.code == ErrorCode.EMAIL_FAILED
    assert info.value.details == {"sent": False, "reason": "SMTPRecipientsRefused"}


def _email_run(personas: dict[str, Any]) -> Run:
    doc = {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "send",
                "type": "email.send",
                "type_version": 1,
                "config": {"to": "carol@example.com", "subject": "Hi", "body": "Hello"},
                "settings": {
                    "retry": {"max_attempts": 2, "backoff_seconds": 0, "retry_on": ["EMAIL_FAILED"]}
                },
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "send", "target_port": "in"}],
    }
    workflow = workflow_create(user=personas["alice"], name="Mail", document=doc)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    return Run.objects.get(id=run.id)


def test_a_refused_send_is_retried_and_sent_once(personas, settings, monkeypatch) -> None:
    settings.BATON_MAIL_TRANSPORT = "smtp"
    calls = _fail_first(monkeypatch, smtplib.SMTPRecipientsRefused({"carol@example.com": (550, b"busy")}))
    run = _email_run(personas)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert calls == ["failed", "sent"]
    step = StepRun.objects.get(run=run, node_id="send")
    assert step.attempts == 2
    assert Effect.objects.get(run=run).status == Effect.Status.DONE
    assert OutboxMessage.objects.filter(run_id=run.id).count() == 1


def test_a_dropped_connection_stays_outcome_unknown(personas, settings, monkeypatch) -> None:
    settings.BATON_MAIL_TRANSPORT = "smtp"
    calls = _fail_first(monkeypatch, smtplib.SMTPServerDisconnected("connection lost"))
    run = _email_run(personas)
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "OUTCOME_UNKNOWN"
    assert calls == ["failed"]  # the retry did not send again
    assert Effect.objects.get(run=run).status == Effect.Status.STARTED

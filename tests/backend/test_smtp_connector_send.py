"""``email.send`` through an SMTP connector: its server, login and from address; exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.connectors.models import Connector, OutboxMessage
from backend.runs.models import Effect, Run, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from tests.smtp_stub import Smtp, smtp_server

pytestmark = pytest.mark.django_db

PASSWORD = "canary-smtp-pass-8Rt4"


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with smtp_server(PASSWORD) as state:
        yield state


@pytest.fixture(autouse=True)
def _private(settings: Any) -> None:
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.BATON_MAIL_TRANSPORT = "outbox"  # the connector is used anyway


def _connector(port: int, **config: Any) -> Connector:
    return Connector.objects.create(
        name="mail-out",
        kind="smtp",
        config={
            "host": "127.0.0.1",
            "port": port,
            "username": "bot@example.com",
            "use_tls": False,
            "from_email": "robot@example.com",
            **config,
        },
        secret={"password": PASSWORD},
        allowed_hosts=["127.0.0.1"],
    )


def _run(personas: dict[str, Any], connector: str, *, attempts: int = 1) -> Run:
    doc = {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "send",
                "type": "email.send",
                "type_version": 1,
                "config": {
                    "to": "carol@example.com",
                    "subject": "Hi {{ trigger.name }}",
                    "body": "Hello",
                    "connector": connector,
                },
                "settings": {
                    "retry": {"max_attempts": attempts, "backoff_seconds": 0, "retry_on": ["EMAIL_FAILED"]}
                },
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "send", "target_port": "in"}],
    }
    workflow = workflow_create(user=personas["alice"], name="Mail", document=doc)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow),
        started_by=personas["alice"],
        inputs={"name": "Ann"},
    )
    run_advance(run_id=run.id)
    return Run.objects.get(id=run.id)


def test_the_message_goes_through_the_connector_with_its_login_and_from(personas, smtp) -> None:
    _connector(smtp.port)
    run = _run(personas, "mail-out")
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert smtp.logins == [("bot@example.com", PASSWORD)]
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["from"] == "robot@example.com"
    assert message["rcpt"] == ["carol@example.com"]
    assert "Subject: Hi Ann" in message["data"]
    assert "From: robot@example.com" in message["data"]
    assert f"X-Baton-Idempotency-Key: {run.id}:send:0" in message["data"]
    row = OutboxMessage.objects.get(run=run)
    assert (row.connector, row.transport, row.sender) == ("mail-out", "connector", "robot@example.com")
    step = StepRun.objects.get(run=run, node_id="send")
    assert step.output["message_id"] == f"outbox-{row.id}"
    assert Effect.objects.get(run=run).status == Effect.Status.DONE
    # Replaying the run's step (same effect key) does not send again.
    run_advance(run_id=run.id)
    assert len(smtp.messages) == 1


def test_the_outbox_api_names_the_connector(personas, smtp, client_for) -> None:
    _connector(smtp.port)
    run = _run(personas, "mail-out")
    rows = client_for("alice").get("/api/outbox/").json()["results"]
    assert [(r["run_id"], r["connector"], r["transport"]) for r in rows] == [
        (run.id, "mail-out", "connector")
    ]


def test_a_refused_login_is_not_sent_and_retried(personas, smtp) -> None:
    _connector(smtp.port)
    smtp.refuse_auth = True
    run = _run(personas, "mail-out", attempts=2)
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "EMAIL_FAILED"
    assert PASSWORD not in str(run.error)
    step = StepRun.objects.get(run=run, node_id="send")
    assert step.attempts == 2  # known not sent: the retry tried again
    assert step.error["details"]["sent"] is False
    assert smtp.messages == []
    assert not Effect.objects.filter(run=run, status=Effect.Status.STARTED).exists()
    assert not OutboxMessage.objects.filter(run=run).exists()


def test_an_unknown_connector_fails_clearly(personas, smtp) -> None:
    run = _run(personas, "no-such-mailer")
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "NODE_CONFIG_INVALID"
    assert "no-such-mailer" in run.error["message"]
    assert smtp.messages == []


def test_a_host_outside_the_allowed_hosts_is_refused(personas, smtp) -> None:
    connector = _connector(smtp.port)
    Connector.objects.filter(id=connector.id).update(allowed_hosts=["mail.example.com"])
    run = _run(personas, "mail-out")
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "DESTINATION_NOT_ALLOWED"
    assert smtp.logins == []
    assert smtp.messages == []


def test_the_node_schema_offers_an_smtp_connector_picker() -> None:
    from orchestrator_core.nodes.builtin.email_send import EmailSendConfig

    prop = EmailSendConfig.model_json_schema()["properties"]["connector"]
    assert prop["ui"] == {"widget": "connector-picker", "kind": "smtp"}

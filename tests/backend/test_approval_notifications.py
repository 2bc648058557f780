"""Reviewer notifications: e-mail to a queue's members and a webhook, sent after commit, exactly once,
with a link that only opens the item (sign-in first) and never decides it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.accounts.services import user_upsert
from backend.approvals.models import Approval, ApprovalNotification, Queue
from backend.approvals.notifications import notifications_deliver_pending
from backend.approvals.services import approvals_handle_due
from backend.connectors.models import Connector, OutboxMessage
from backend.runs.services import run_advance, run_start
from backend.workflows.models import Workflow
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import CUSTOMER_EMAIL, PASSWORD, load_fixture
from tests.smtp_stub import Smtp, smtp_server

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://baton.example.test"
SEEN: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        SEEN.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length).decode() if length else "",
            }
        )
        self.send_response(204)
        self.end_headers()


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> None:
    SEEN.clear()
    settings.BATON_PUBLIC_URL = PUBLIC_URL
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with smtp_server() as state:
        yield state


def mail_connector(name: str, smtp: Smtp, **config: Any) -> Connector:
    """An SMTP connector pointing at the local stub server."""
    return Connector.objects.create(
        name=name,
        kind="smtp",
        config={"host": "127.0.0.1", "port": smtp.port, "use_tls": False, **config},
        allowed_hosts=["127.0.0.1"],
    )


@pytest.fixture
def support(personas: dict[str, User], smtp: Smtp) -> Queue:
    """The Support queue with three members: rey and ria have addresses, ray has none."""
    queue = Queue.objects.get(name="Support")
    User.objects.filter(id=personas["rey"].id).update(email="rey@example.com")
    ria = user_upsert(username="ria", password=PASSWORD, role=User.Role.REVIEWER)
    User.objects.filter(id=ria.id).update(email="ria@example.com")
    ray = user_upsert(username="ray", password=PASSWORD, role=User.Role.REVIEWER)
    queue.members.add(ria, ray)
    mail_connector("mail", smtp, from_email="inbox@baton.test")
    return queue


def start(workflow: Workflow, starter: User, captured: Any, *, execute: bool = True) -> Approval:
    with captured(execute=execute):
        run = run_start(
            version=workflow_published_version(workflow=workflow), started_by=starter, inputs=CUSTOMER_EMAIL
        )
        run_advance(run_id=run.id)
    return Approval.objects.get(run=run)


def test_email_notification_sends_one_outbox_message_per_member_with_the_link(
    personas, support, support_workflow, django_capture_on_commit_callbacks, smtp
):
    Queue.objects.filter(id=support.id).update(notify_email_connector="mail")
    approval = start(support_workflow, personas["alice"], django_capture_on_commit_callbacks)
    messages = OutboxMessage.objects.filter(idempotency_key__startswith=f"approval:{approval.id}:")
    assert sorted(m.to for m in messages) == ["rey@example.com", "ria@example.com"]
    link = f"{PUBLIC_URL}/inbox/{approval.id}"
    for message in messages:
        assert approval.title in message.subject
        assert link in message.body
        assert message.sender == "inbox@baton.test"
        assert "token" not in message.body.lower()
        assert message.connector == "mail"
    # Delivered by the connector's SMTP server, from its address.
    assert sorted(r for m in smtp.messages for r in m["rcpt"]) == ["rey@example.com", "ria@example.com"]
    assert {m["from"] for m in smtp.messages} == {"inbox@baton.test"}
    assert set(ApprovalNotification.objects.values_list("status", flat=True)) == {"sent"}
    # The sweep later finds nothing to send again.
    assert notifications_deliver_pending(now=timezone.now() + timedelta(days=1)) == 0
    assert messages.count() == 2


def test_a_crash_before_delivery_is_caught_up_once_by_the_sweep(
    personas, support, support_workflow, django_capture_on_commit_callbacks
):
    Queue.objects.filter(id=support.id).update(notify_email_connector="mail")
    # The transaction committed, but the process died before its after-commit hooks ran.
    approval = start(support_workflow, personas["alice"], django_capture_on_commit_callbacks, execute=False)
    assert ApprovalNotification.objects.filter(approval=approval, status="pending").count() == 2
    assert not OutboxMessage.objects.exists()
    # Too early: a delivery may still be in flight.
    assert notifications_deliver_pending(now=timezone.now()) == 0
    later = timezone.now() + timedelta(minutes=5)
    assert notifications_deliver_pending(now=later) == 2
    assert notifications_deliver_pending(now=later + timedelta(hours=1)) == 0
    assert OutboxMessage.objects.count() == 2


def test_no_settings_no_notifications(
    personas, support, support_workflow, django_capture_on_commit_callbacks
):
    start(support_workflow, personas["alice"], django_capture_on_commit_callbacks)
    assert not ApprovalNotification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_webhook_notification_posts_json_to_a_local_stub(
    stub, personas, support, support_workflow, django_capture_on_commit_callbacks
):
    Connector.objects.create(
        name="pager",
        kind="http",
        config={"base_url": f"{stub}/hooks/review", "auth_type": "none"},
        allowed_hosts=["127.0.0.1"],
    )
    Queue.objects.filter(id=support.id).update(notify_webhook_connector="pager", notify_events=["created"])
    approval = start(support_workflow, personas["alice"], django_capture_on_commit_callbacks)
    assert len(SEEN) == 1
    request = SEEN[0]
    assert request["path"] == "/hooks/review"
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["idempotency-key"] == f"approval:{approval.id}:created:webhook"
    body = json.loads(request["body"])
    assert body["type"] == "approval.created"
    assert body["approval"]["id"] == approval.id
    assert body["approval"]["title"] == approval.title
    assert body["approval"]["url"] == f"{PUBLIC_URL}/inbox/{approval.id}"
    assert ApprovalNotification.objects.get(approval=approval).status == "sent"


def test_a_failing_webhook_is_retried_then_given_up(
    personas, support, support_workflow, django_capture_on_commit_callbacks, settings
):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = []  # the SSRF guard refuses the destination
    Connector.objects.create(
        name="pager", kind="http", config={"base_url": "http://127.0.0.1:9/x"}, allowed_hosts=["127.0.0.1"]
    )
    Queue.objects.filter(id=support.id).update(notify_webhook_connector="pager")
    approval = start(support_workflow, personas["alice"], django_capture_on_commit_callbacks)
    notification = ApprovalNotification.objects.get(approval=approval)
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert notification.error
    when = timezone.now()
    for _ in range(10):
        when += timedelta(hours=1)
        notifications_deliver_pending(now=when)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 5)
    assert Approval.objects.get(id=approval.id).status == "pending"  # the item itself is untouched


def test_escalation_notifies_the_new_queue(
    personas, support_workflow, django_capture_on_commit_callbacks, smtp
):
    lead = user_upsert(username="lea", password=PASSWORD, role=User.Role.REVIEWER)
    User.objects.filter(id=lead.id).update(email="lea@example.com")
    mail_connector("mail", smtp)
    leads = Queue.objects.create(name="Leads", notify_email_connector="mail")
    leads.members.add(lead)
    document = load_fixture("support_reply.json")
    for node in document["nodes"]:
        if node["id"] == "review":
            node["config"].update(due_in_minutes=5, on_due="escalate", escalate_to="Leads")
    workflow = workflow_create(user=personas["alice"], name="Escalating", document=document)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    approval = start(workflow, personas["alice"], django_capture_on_commit_callbacks)
    assert not OutboxMessage.objects.exists()  # Support has no notification settings
    assert approval.due_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals_handle_due(now=approval.due_at) == {"escalated": 1, "timed_out": 0}
    message = OutboxMessage.objects.get()
    assert message.to == "lea@example.com"
    assert "escalated" in message.body
    assert f"/inbox/{approval.id}" in message.body


def test_the_link_needs_a_sign_in_and_never_decides(
    personas, support, support_workflow, django_capture_on_commit_callbacks, settings, tmp_path
):
    (tmp_path / "index.html").write_text("<!doctype html><title>Baton</title>")
    settings.FRONTEND_DIST = tmp_path
    approval = start(support_workflow, personas["alice"], django_capture_on_commit_callbacks)
    before = Approval.objects.filter(id=approval.id).values().get()
    anonymous = APIClient()
    for path in (f"/inbox/{approval.id}", f"/inbox/{approval.id}/"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/login?next=/inbox/{approval.id}"
    signed_in = APIClient()
    signed_in.force_login(personas["rey"])
    page = signed_in.get(f"/inbox/{approval.id}")
    assert page.status_code == 200
    assert b"Baton" in b"".join(page.streaming_content)
    assert Approval.objects.filter(id=approval.id).values().get() == before  # nothing claimed or decided


def test_queue_api_manages_the_notification_settings(personas, support, client_for):
    Connector.objects.create(name="hook", kind="http", config={"base_url": "https://hooks.example.com/x"})
    admin = client_for("admin")
    response = admin.patch(
        f"/api/queues/{support.id}/",
        {
            "notify_email_connector": "mail",
            "notify_webhook_connector": "hook",
            "notify_events": ["escalated"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["notify_email_connector"] == "mail"
    assert body["notify_webhook_connector"] == "hook"
    assert body["notify_events"] == ["escalated"]
    wrong_kind = admin.patch(f"/api/queues/{support.id}/", {"notify_email_connector": "hook"}, format="json")
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["error"]["details"][0]["field"] == "notify_email_connector"
    bad_event = admin.patch(f"/api/queues/{support.id}/", {"notify_events": ["decided"]}, format="json")
    assert bad_event.status_code == 400
    off = admin.patch(f"/api/queues/{support.id}/", {"notify_email_connector": None}, format="json")
    assert off.json()["notify_email_connector"] is None
    assert off.json()["notify_webhook_connector"] == "hook"
    created = admin.post(
        "/api/queues/", {"name": "Billing2", "notify_email_connector": "mail"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["notify_events"] == ["created", "escalated"]
    assert client_for("rey").patch(f"/api/queues/{support.id}/", {}, format="json").status_code == 403

"""Policies (issue 8): storage, the tighten-only merge, the API with its audit trail, enforcement."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from backend.approvals.models import Approval
from backend.audit.models import AuditEvent
from backend.connectors.models import Connector
from backend.policies.models import Policy
from backend.policies.selectors import effective_policy
from backend.runs.models import Run, StepRun
from backend.workflows.models import Workflow
from orchestrator_core.policy import Budget, OnBudget, RunPolicy
from tests.backend.conftest import CUSTOMER_EMAIL, load_fixture

pytestmark = pytest.mark.django_db


def test_no_rows_means_the_default_policy(support_workflow: Workflow) -> None:
    with override_settings(BATON_RETENTION_DAYS=14):
        run_policy, extras = effective_policy(support_workflow)
    assert run_policy == RunPolicy()
    assert extras.publish_review is False
    assert extras.retention_days == 14


def test_workflow_policy_only_tightens_the_global_one(support_workflow: Workflow) -> None:
    Policy.objects.create(
        is_global=True,
        run_max_usd=Decimal("1.00"),
        run_max_tokens=None,
        user_month_max_tokens=1000,
        on_budget="approve",
        allowed_models=["stub-small", "stub-large"],
        allowed_connectors=None,
        four_eyes=True,
        retention_days=30,
    )
    Policy.objects.create(
        workflow=support_workflow,
        run_max_usd=Decimal("5.00"),  # looser: ignored
        run_max_tokens=500,  # set only here: applies
        user_month_max_tokens=100,  # tighter: wins
        on_budget="downgrade",  # looser than approve: ignored
        allowed_models=["stub-small", "gpt-4o"],
        allowed_connectors=["crm"],
        four_eyes=False,  # cannot switch off the global four-eyes
        redact_pii=True,
        publish_review=True,
        retention_days=90,  # longer: ignored
    )
    run_policy, extras = effective_policy(support_workflow)
    assert run_policy.budgets.per_run == Budget(max_usd=1.0, max_tokens=500)
    assert run_policy.budgets.per_user_month == Budget(max_usd=None, max_tokens=100)
    assert run_policy.budgets.per_workflow_day == Budget()
    assert run_policy.on_budget is OnBudget.APPROVE
    assert run_policy.allowed_models == frozenset({"stub-small"})
    assert run_policy.allowed_connectors == frozenset({"crm"})
    assert run_policy.four_eyes is True
    assert run_policy.redact_pii is True
    assert run_policy.external_send_requires_approval is False
    assert extras.publish_review is True
    assert extras.retention_days == 30

    # Another workflow only sees the global policy.
    global_only, global_extras = effective_policy(None)
    assert global_only.allowed_models == frozenset({"stub-small", "stub-large"})
    assert global_only.redact_pii is False
    assert global_extras.retention_days == 30


def test_stricter_on_budget_and_shorter_retention_win(support_workflow: Workflow, settings: Any) -> None:
    settings.BATON_RETENTION_DAYS = 0
    Policy.objects.create(is_global=True, on_budget="downgrade")
    Policy.objects.create(workflow=support_workflow, on_budget="stop", retention_days=7)
    run_policy, extras = effective_policy(support_workflow.pk)
    assert run_policy.on_budget is OnBudget.STOP
    assert extras.retention_days == 7


def test_effective_policy_is_one_query(support_workflow: Workflow, django_assert_num_queries: Any) -> None:
    Policy.objects.create(is_global=True, four_eyes=True)
    Policy.objects.create(workflow=support_workflow, redact_pii=True)
    with django_assert_num_queries(1):
        run_policy, _ = effective_policy(support_workflow)
    assert run_policy.four_eyes
    assert run_policy.redact_pii


# --- API -------------------------------------------------------------------------------------------


GLOBAL_BODY = {
    "run_max_usd": "2.5",
    "run_max_tokens": 10000,
    "on_budget": "downgrade",
    "allowed_models": ["demo"],
    "allowed_connectors": None,
    "four_eyes": True,
    "retention_days": 60,
}


def test_admin_sets_the_global_policy_with_an_audit_record(client_for: Any) -> None:
    admin = client_for("admin")
    empty = admin.get("/api/policies/global/")
    assert empty.status_code == 200
    assert empty.json()["allowed_models"] is None
    assert empty.json()["updated_at"] is None
    response = admin.put("/api/policies/global/", GLOBAL_BODY, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run_max_usd"] == 2.5
    assert body["allowed_models"] == ["demo"]
    assert body["four_eyes"] is True
    assert body["redact_pii"] is False
    assert body["updated_by"] == "admin"
    assert Policy.objects.filter(is_global=True).count() == 1
    # A second PUT replaces the same row; fields left out go back to their defaults.
    again = admin.put("/api/policies/global/", {"redact_pii": True}, format="json").json()
    assert (again["redact_pii"], again["four_eyes"], again["allowed_models"]) == (True, False, None)
    assert Policy.objects.filter(is_global=True).count() == 1

    events = list(AuditEvent.objects.filter(action="policy.global.update").order_by("id"))
    assert len(events) == 2
    assert events[0].data["before"]["four_eyes"] is False
    assert events[0].data["after"]["four_eyes"] is True
    assert events[1].data["before"]["four_eyes"] is True
    assert events[1].data["after"]["redact_pii"] is True


def test_only_admins_touch_the_global_policy(client_for: Any) -> None:
    for persona in ("alice", "rey", "vic"):
        assert client_for(persona).get("/api/policies/global/").status_code == 403
        put = client_for(persona).put("/api/policies/global/", {"four_eyes": False}, format="json")
        assert put.status_code == 403
        assert put.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"allowed_models": ["demo", "no-such-model"]}, "UNKNOWN_MODEL", "allowed_models"),
        ({"allowed_connectors": ["nope"]}, "UNKNOWN_CONNECTOR", "allowed_connectors"),
        ({"on_budget": "panic"}, "BAD_REQUEST", "on_budget"),
        ({"run_max_usd": -1}, "BAD_REQUEST", "run_max_usd"),
        ({"retention_days": 0}, "BAD_REQUEST", "retention_days"),
        ({"allowed_models": "demo"}, "BAD_REQUEST", "allowed_models"),
    ],
)
def test_bad_values_are_400_with_a_code(client_for: Any, body: dict[str, Any], code: str, field: str) -> None:
    response = client_for("admin").put("/api/policies/global/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == field
    assert not Policy.objects.exists()


def test_connector_names_are_checked_against_the_connectors(client_for: Any) -> None:
    Connector.objects.create(name="crm", kind="http", config={"base_url": "https://crm.example.com"})
    response = client_for("admin").put(
        "/api/policies/global/", {"allowed_connectors": ["crm"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["allowed_connectors"] == ["crm"]


def test_workflow_policy_read_set_and_delete(client_for: Any, support_workflow: Workflow) -> None:
    url = f"/api/workflows/{support_workflow.id}/policy/"
    client_for("admin").put("/api/policies/global/", {"four_eyes": True, "run_max_usd": 1}, format="json")
    alice = client_for("alice")
    before = alice.get(url).json()
    assert before["policy"] is None
    assert before["global"]["four_eyes"] is True
    assert before["effective"]["four_eyes"] is True
    assert (before["can_edit"], before["can_delete"]) == (True, False)

    # The owner tightens: a lower cap and PII redaction.
    put = alice.put(url, {"run_max_usd": 0.5, "redact_pii": True}, format="json")
    assert put.status_code == 200, put.content
    body = put.json()
    assert body["policy"]["redact_pii"] is True
    assert body["effective"]["budgets"]["per_run"]["max_usd"] == 0.5
    assert body["effective"]["four_eyes"] is True  # the global four-eyes still applies

    # ... but may not loosen what is stored (nor loosen the global one, which the merge ignores).
    loose = alice.put(url, {"run_max_usd": 5}, format="json")
    assert loose.status_code == 403
    assert loose.json()["error"]["code"] == "POLICY_LOOSENING_FORBIDDEN"
    assert {d["field"] for d in loose.json()["error"]["details"]} == {"run_max_usd", "redact_pii"}
    assert alice.delete(url).status_code == 403

    # An admin may loosen it, and remove it.
    admin = client_for("admin")
    assert (
        admin.put(url, {"run_max_usd": 5}, format="json").json()["effective"]["budgets"]["per_run"]["max_usd"]
        == 1.0
    )  # still bound by the global cap
    listed = admin.get("/api/policies/workflows/").json()
    assert [r["workflow"]["id"] for r in listed["results"]] == [support_workflow.id]
    assert admin.delete(url).status_code == 204
    assert admin.delete(url).status_code == 204  # idempotent: nothing left to remove
    assert alice.get(url).json()["policy"] is None

    actions = list(
        AuditEvent.objects.filter(action__startswith="policy.workflow")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["policy.workflow.update", "policy.workflow.update", "policy.workflow.delete"]
    first = AuditEvent.objects.filter(action="policy.workflow.update").order_by("id").first()
    assert first is not None
    assert first.data["before"] is None
    assert first.data["after"]["redact_pii"] is True


def test_others_cannot_see_or_set_a_workflow_policy(client_for: Any, support_workflow: Workflow) -> None:
    url = f"/api/workflows/{support_workflow.id}/policy/"
    assert client_for("bob").get(url).status_code == 404
    assert client_for("bob").put(url, {"redact_pii": True}, format="json").status_code == 404
    assert client_for("vic").get(url).status_code == 404
    assert client_for("bob").get("/api/policies/workflows/").status_code == 403
    assert not Policy.objects.exists()


# --- enforcement end to end ------------------------------------------------------------------------


def _start(client: Any, workflow: Workflow, captured: Any) -> Run:
    with captured(execute=True):
        response = client.post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def test_a_model_the_policy_does_not_allow_fails_the_step(
    client_for: Any, support_workflow: Workflow, django_capture_on_commit_callbacks: Any
) -> None:
    Policy.objects.create(workflow=support_workflow, allowed_models=[])
    run = _start(client_for("alice"), support_workflow, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    step = StepRun.objects.get(run=run, node_id="classify")
    assert step.error["code"] == "MODEL_NOT_ALLOWED"


def test_redaction_policy_keeps_email_addresses_out_of_stored_steps(
    client_for: Any, support_workflow: Workflow, django_capture_on_commit_callbacks: Any
) -> None:
    Policy.objects.create(is_global=True, redact_pii=True)
    run = _start(client_for("alice"), support_workflow, django_capture_on_commit_callbacks)
    steps = {s.node_id: s for s in StepRun.objects.filter(run=run)}
    assert steps["review"].status == "waiting"
    stored = json.dumps([[s.inputs, s.output] for s in steps.values()])
    assert CUSTOMER_EMAIL["from"] not in stored
    assert "[EMAIL]" in stored  # the draft's prompt named the sender


def test_global_four_eyes_refuses_the_starters_decision(
    client_for: Any,
    personas: dict[str, Any],
    support_workflow: Workflow,
    django_capture_on_commit_callbacks: Any,
) -> None:
    Policy.objects.create(is_global=True, four_eyes=True)
    admin = client_for("admin")  # an admin may decide any item, but not one of a run they started
    run = _start(admin, support_workflow, django_capture_on_commit_callbacks)
    approval = Approval.objects.get(run=run)
    assert approval.allow_starter is True  # the node itself would allow it
    body = {"decision": "approve", "payload_hash": approval.payload_hash}
    response = admin.post(f"/api/approvals/{approval.id}/decision/", body, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FOUR_EYES"
    Policy.objects.all().delete()
    body["decision"] = "reject"
    ok = admin.post(f"/api/approvals/{approval.id}/decision/", body, format="json")
    assert ok.status_code == 200, ok.content


SEND_FIRST = {
    "schema_version": 1,
    "nodes": [
        {"id": "trigger", "type": "trigger.manual", "type_version": 1, "config": {}},
        {
            "id": "notify",
            "type": "email.send",
            "type_version": 1,
            "config": {"to": "ops@example.com", "subject": "New", "body": "x"},
        },
        {"id": "fetch", "type": "http.request", "type_version": 1, "config": {"url": "https://example.com/"}},
    ],
    "edges": [
        {"id": "e1", "source": "trigger", "source_port": "out", "target": "notify", "target_port": "in"},
        {"id": "e2", "source": "trigger", "source_port": "out", "target": "fetch", "target_port": "in"},
    ],
}


def test_publishing_a_send_without_approval_is_refused_by_the_policy(
    client_for: Any, personas: dict[str, Any], support_workflow: Workflow
) -> None:
    alice = client_for("alice")
    created = alice.post("/api/workflows/", {"name": "Notify", "document": SEND_FIRST}, format="json")
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    Policy.objects.create(is_global=True, external_send_requires_approval=True)

    refused = alice.post(f"/api/workflows/{workflow_id}/publish/", {}, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "POLICY_VIOLATION"
    assert [d["node_id"] for d in error["details"]] == ["notify"]  # a GET is not a send
    issues = alice.post(f"/api/workflows/{workflow_id}/validate/", {}, format="json").json()
    assert issues["valid"] is False
    assert [i["node_id"] for i in issues["issues"] if i["code"] == "POLICY_VIOLATION"] == ["notify"]

    # The support workflow sends only after its human.approval: it publishes.
    ok = alice.post(f"/api/workflows/{support_workflow.id}/publish/", {}, format="json")
    assert ok.status_code in (200, 201), ok.content


def test_retention_follows_the_policies(personas: dict[str, Any], support_workflow: Workflow) -> None:
    from datetime import UTC, datetime, timedelta

    from backend.runs.retention import runs_purge_expired
    from backend.workflows.selectors import workflow_published_version
    from backend.workflows.services import workflow_create, workflow_publish

    other = workflow_create(user=personas["alice"], name="Other", document=load_fixture("support_reply.json"))
    workflow_publish(workflow=other, user=personas["alice"])
    now = datetime(2025, 6, 1, tzinfo=UTC)

    def finished(workflow: Workflow, days: int) -> Run:
        return Run.objects.create(
            workflow=workflow,
            version=workflow_published_version(workflow=workflow),
            started_by=personas["alice"],
            status=Run.Status.SUCCEEDED,
            finished_at=now - timedelta(days=days),
        )

    runs = {
        "support_20": finished(support_workflow, 20),
        "support_5": finished(support_workflow, 5),
        "other_20": finished(other, 20),
        "other_40": finished(other, 40),
    }
    Policy.objects.create(is_global=True, retention_days=30)
    Policy.objects.create(workflow=support_workflow, retention_days=10)
    assert runs_purge_expired(now=now) == 2
    left = set(Run.objects.values_list("id", flat=True))
    assert left == {runs["support_5"].id, runs["other_20"].id}
    purged = AuditEvent.objects.filter(action="runs.purged")
    assert sorted((e.data["retention_days"], e.data.get("workflow_id")) for e in purged) == [
        (10, support_workflow.id),
        (30, None),
    ]

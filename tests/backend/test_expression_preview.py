"""The editor's live preview of an expression or template against the last run's data."""

from __future__ import annotations

import pytest

from backend.workflows.models import Workflow
from backend.workflows.services import workflow_create
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def ran(support_workflow: Workflow, client_for, django_capture_on_commit_callbacks) -> dict:
    """A run of the support workflow: it stops at the human review, after classify and draft."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    assert response.status_code == 201, response.json()
    return {"workflow": support_workflow, "run_id": response.json()["id"]}


def _preview(client, workflow_id: int, **body):
    return client.post(f"/api/workflows/{workflow_id}/expressions/preview/", body, format="json")


def test_an_expression_sees_the_trigger_and_the_steps_of_the_last_run(ran, client_for):
    response = _preview(
        client_for("alice"), ran["workflow"].id, expression="trigger.subject", node_id="draft"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"ok": True, "value": CUSTOMER_EMAIL["subject"], "run_id": ran["run_id"]}

    label = _preview(client_for("alice"), ran["workflow"].id, expression="steps.classify.label")
    assert label.json()["value"] == "refund"
    keys = _preview(client_for("alice"), ran["workflow"].id, expression="keys(steps)")
    assert set(keys.json()["value"]) >= {"trigger", "classify", "draft"}


def test_a_template_is_rendered(ran, client_for):
    response = _preview(
        client_for("alice"),
        ran["workflow"].id,
        template="Re: {{ trigger.subject }} ({{ steps.classify.label }})",
        run_id=ran["run_id"],
    )
    assert response.json()["value"] == f"Re: {CUSTOMER_EMAIL['subject']} (refund)"


def test_an_invalid_expression_answers_with_its_position(ran, client_for):
    response = _preview(client_for("alice"), ran["workflow"].id, expression="steps.classify.[", node_id="n")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == "EXPRESSION_INVALID"
    assert body["error"]["position"] == 16  # the end: "[" opens nothing
    template = _preview(client_for("alice"), ran["workflow"].id, template="Hi {{ nope( }}")
    assert template.json()["error"]["position"] == 11  # after "nope("
    unclosed = _preview(client_for("alice"), ran["workflow"].id, template="Hi {{ trigger.subject")
    assert unclosed.json()["error"]["position"] == 3


def test_the_run_limits_apply_and_nothing_is_evaluated_as_python(ran, client_for):
    long = _preview(client_for("alice"), ran["workflow"].id, expression="a" * 1001)
    assert long.json()["error"]["code"] == "EXPRESSION_LIMIT"
    deep = _preview(client_for("alice"), ran["workflow"].id, expression="(" * 40 + "a" + ")" * 40)
    assert deep.json()["error"]["code"] == "EXPRESSION_LIMIT"
    python = _preview(client_for("alice"), ran["workflow"].id, expression="__import__('os').getcwd()")
    assert python.json()["ok"] is False
    unknown = _preview(client_for("alice"), ran["workflow"].id, expression="eval('1')")
    assert unknown.json()["error"]["code"] == "EXPRESSION_INVALID"


def test_without_a_run_the_context_is_empty(personas, client_for):
    workflow = workflow_create(user=personas["alice"], name="never ran")
    response = _preview(client_for("alice"), workflow.id, expression="trigger.subject")
    assert response.json() == {"ok": True, "value": None, "run_id": None}


def test_a_run_of_another_workflow_is_not_found(ran, personas, client_for):
    other = workflow_create(user=personas["alice"], name="other")
    response = _preview(client_for("alice"), other.id, expression="trigger", run_id=ran["run_id"])
    assert response.status_code == 404


def test_strangers_cannot_preview(ran, client_for):
    assert _preview(client_for("bob"), ran["workflow"].id, expression="trigger").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"expression": "a", "template": "b"},
        {"expression": ["a"]},
        {"template": "x" * 20_001},
        {"expression": "a", "run_id": "x"},
    ],
)
def test_bad_bodies_are_400(ran, client_for, body):
    response = client_for("alice").post(
        f"/api/workflows/{ran['workflow'].id}/expressions/preview/", body, format="json"
    )
    assert response.status_code == 400, response.json()

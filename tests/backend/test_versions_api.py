"""Versions (document, diff, rollback) and export/import."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backend.audit.models import AuditEvent
from backend.workflows.models import Workflow
from backend.workflows.services import workflow_publish, workflow_update
from backend.workflows.versions import document_diff
from tests.backend.conftest import load_fixture
from tests.backend.test_openapi_schema import _check, schema  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _edit_prompt(workflow: Workflow, user, prompt: str) -> None:
    doc = copy.deepcopy(workflow.draft)
    next(n for n in doc["nodes"] if n["id"] == "draft")["config"]["prompt"] = prompt
    workflow_update(workflow=workflow, user=user, revision=workflow.revision, document=doc)


def test_version_document_and_diff_against_draft(schema, client_for, personas, support_workflow):  # noqa: F811
    alice = client_for("alice")
    wf = support_workflow.id
    body = _check(
        schema,
        "/api/workflows/{workflow_id}/versions/{number}/",
        "get",
        alice.get(f"/api/workflows/{wf}/versions/1/"),
    )
    assert body["number"] == 1
    assert body["document"]["nodes"][0]["id"] == "trigger"
    assert alice.get(f"/api/workflows/{wf}/versions/9/").status_code == 404
    assert client_for("bob").get(f"/api/workflows/{wf}/versions/1/").status_code == 404

    _edit_prompt(support_workflow, personas["alice"], "Be brief.")
    diff = _check(
        schema,
        "/api/workflows/{workflow_id}/versions/{number}/diff/",
        "get",
        alice.get(f"/api/workflows/{wf}/versions/1/diff/?against=draft"),
    )
    assert diff["nodes"]["added"] == []
    assert diff["nodes"]["removed"] == []
    [changed] = diff["nodes"]["changed"]
    assert changed["id"] == "draft"
    assert changed["label"] == "Draft reply"
    [field] = changed["fields"]
    assert field["path"] == "config.prompt"
    assert field["after"] == "Be brief."
    assert field["before"].startswith("Write a reply")
    assert diff["edges"] == {"added": [], "removed": []}
    assert alice.get(f"/api/workflows/{wf}/versions/1/diff/?against=7").status_code == 404
    assert alice.get(f"/api/workflows/{wf}/versions/1/diff/?against=nonsense").status_code == 404


def test_diff_between_versions_nodes_edges_and_positions(client_for, personas, support_workflow):
    alice = client_for("alice")
    wf = support_workflow.id
    doc = copy.deepcopy(support_workflow.draft)
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "send"]
    doc["edges"] = [e for e in doc["edges"] if e["target"] != "send"]
    doc["nodes"][0]["position"] = {"x": 5, "y": 5}
    doc["nodes"].append(
        {
            "id": "note",
            "type": "data.template",
            "type_version": 1,
            "config": {"template": "x"},
            "label": "Note",
            "position": {"x": 0, "y": 0},
        }
    )
    doc["edges"].append(
        {"id": "e9", "source": "review", "source_port": "approved", "target": "note", "target_port": "in"}
    )
    workflow_update(
        workflow=support_workflow, user=personas["alice"], revision=support_workflow.revision, document=doc
    )
    workflow_publish(workflow=support_workflow, user=personas["alice"], note="v2")
    diff = alice.get(f"/api/workflows/{wf}/versions/1/diff/?against=2").json()
    assert [n["id"] for n in diff["nodes"]["added"]] == ["note"]
    assert [n["id"] for n in diff["nodes"]["removed"]] == ["send"]
    assert diff["nodes"]["changed"] == []
    assert [e["target"] for e in diff["edges"]["added"]] == ["note"]
    assert [e["target"] for e in diff["edges"]["removed"]] == ["send"]
    with_positions = alice.get(f"/api/workflows/{wf}/versions/1/diff/?against=2&positions=1").json()
    [moved] = with_positions["nodes"]["changed"]
    assert moved["id"] == "trigger"
    assert {f["path"] for f in moved["fields"]} == {"position.x", "position.y"}


def test_diff_flattens_nested_config():
    before = {"nodes": [{"id": "a", "type": "t", "config": {"context": {"A": "1", "B": "2"}}}], "edges": []}
    after = {"nodes": [{"id": "a", "type": "t", "config": {"context": {"A": "1", "C": "3"}}}], "edges": []}
    [changed] = document_diff(before, after)["nodes"]["changed"]
    assert changed["fields"] == [
        {"path": "config.context.B", "before": "2", "after": None},
        {"path": "config.context.C", "before": None, "after": "3"},
    ]


def test_rollback_restores_a_version_as_a_new_draft_revision(schema, client_for, personas, support_workflow):  # noqa: F811
    alice = client_for("alice")
    wf = support_workflow.id
    original = copy.deepcopy(support_workflow.draft)
    _edit_prompt(support_workflow, personas["alice"], "Changed.")
    revision = Workflow.objects.get(id=wf).revision
    for name in ("rey", "vic"):
        assert client_for(name).post(f"/api/workflows/{wf}/versions/1/rollback/").status_code in (403, 404)
    assert client_for("bob").post(f"/api/workflows/{wf}/versions/1/rollback/").status_code == 404
    stale = alice.post(f"/api/workflows/{wf}/versions/1/rollback/", {"revision": revision - 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "STALE_REVISION"
    body = _check(
        schema,
        "/api/workflows/{workflow_id}/versions/{number}/rollback/",
        "post",
        alice.post(f"/api/workflows/{wf}/versions/1/rollback/", {"revision": revision}, format="json"),
    )
    assert body["document"] == original
    assert body["revision"] == revision + 1
    assert body["updated_by"] == "alice"
    event = AuditEvent.objects.filter(action="workflow.rollback").get()
    assert event.data["version"] == 1
    assert alice.post(f"/api/workflows/{wf}/versions/5/rollback/").status_code == 404


def test_export_is_a_download_and_imports_back(client_for, support_workflow):
    alice = client_for("alice")
    response = alice.get(f"/api/workflows/{support_workflow.id}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="reply-to-a-customer-email.baton.json"'
    exported = json.loads(response.content)
    assert exported["name"] == "Reply to a customer email"
    assert exported["document"] == support_workflow.draft
    assert client_for("bob").get(f"/api/workflows/{support_workflow.id}/export/").status_code == 404

    created = alice.post("/api/workflows/import/", {"document": exported}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["name"] == "Reply to a customer email"
    assert body["id"] != support_workflow.id
    assert body["document"] == support_workflow.draft  # ids kept

    upload = SimpleUploadedFile("wf.json", response.content, content_type="application/json")
    by_file = alice.post("/api/workflows/import/", {"file": upload, "name": "From file"}, format="multipart")
    assert by_file.status_code == 201
    assert by_file.json()["name"] == "From file"
    assert AuditEvent.objects.filter(action="workflow.import").count() == 2


def test_import_bare_document_drops_unknown_keys(schema, client_for):  # noqa: F811
    doc = load_fixture("template_only.json")
    doc["extra"] = {"junk": True}
    created = _check(
        schema,
        "/api/workflows/import/",
        "post",
        client_for("bob").post("/api/workflows/import/", {"document": doc, "name": "Bare"}, format="json"),
    )
    assert "extra" not in created["document"]
    assert [n["id"] for n in created["document"]["nodes"]] == ["trigger", "greet"]
    assert created["name"] == "Bare"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"document": "nope"},
        {"document": [1, 2]},
        {"document": {"nodes": "x", "edges": []}},
        {"document": {"document": {"nodes": [{"id": 3}], "edges": []}}},
        {"document": {"name": "no document"}},
        {"document": {"nodes": [{"id": "a", "type": "x", "position": "bad"}], "edges": [{}]}},
    ],
)
def test_malformed_import_is_400_workflow_invalid(client_for, payload):
    response = client_for("alice").post("/api/workflows/import/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("WORKFLOW_INVALID", "BAD_REQUEST")


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[]", b'"x"', b"null"])
def test_malformed_import_file_is_400(client_for, content):
    upload = SimpleUploadedFile("wf.json", content, content_type="application/json")
    response = client_for("alice").post("/api/workflows/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "WORKFLOW_INVALID"


def test_only_builders_import(client_for):
    doc = load_fixture("template_only.json")
    for name in ("rey", "vic"):
        response = client_for(name).post("/api/workflows/import/", {"document": doc}, format="json")
        assert response.status_code == 403

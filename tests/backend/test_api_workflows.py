from __future__ import annotations

import copy

import pytest

from tests.backend.conftest import load_fixture

pytestmark = pytest.mark.django_db


def _err(response):
    return response.json()["error"]


def test_node_types_lists_the_registry_with_schemas(client_for):
    body = client_for("alice").get("/api/node-types/").json()
    keys = {t["key"] for t in body["results"]}
    assert {
        "trigger.manual",
        "llm.prompt",
        "llm.classify",
        "data.template",
        "logic.if",
        "human.approval",
        "email.send",
    } <= keys
    prompt = next(t for t in body["results"] if t["key"] == "llm.prompt")
    assert "prompt" in prompt["config_schema"]["properties"]


def test_create_get_update_workflow(client_for):
    client = client_for("alice")
    created = client.post(
        "/api/workflows/", {"name": "Mine", "document": load_fixture("support_reply.json")}, format="json"
    )
    assert created.status_code == 201, created.content
    wf = created.json()
    assert wf["trigger_fields"][0]["name"] == "from"
    doc = wf["document"]
    doc["nodes"][1]["config"]["categories"] = ["refund", "other"]
    saved = client.patch(
        f"/api/workflows/{wf['id']}/", {"document": doc, "revision": wf["revision"]}, format="json"
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["revision"] == wf["revision"] + 1
    assert saved.json()["issues"] == []
    again = client.get(f"/api/workflows/{wf['id']}/").json()
    assert again["document"]["nodes"][1]["config"]["categories"] == ["refund", "other"]


def test_stale_save_gets_409_naming_who_changed_it(client_for, support_workflow):
    alice = client_for("alice")
    loaded = alice.get(f"/api/workflows/{support_workflow.id}/").json()
    first = alice.patch(
        f"/api/workflows/{support_workflow.id}/", {"name": "A", "revision": loaded["revision"]}, format="json"
    )
    assert first.status_code == 200
    stale = alice.patch(
        f"/api/workflows/{support_workflow.id}/", {"name": "B", "revision": loaded["revision"]}, format="json"
    )
    assert stale.status_code == 409
    assert _err(stale)["code"] == "STALE_REVISION"
    assert _err(stale)["details"]["updated_by"] == "alice"


def test_malformed_document_is_refused_and_nothing_is_lost(client_for, support_workflow):
    client = client_for("alice")
    before = client.get(f"/api/workflows/{support_workflow.id}/").json()
    response = client.patch(
        f"/api/workflows/{support_workflow.id}/",
        {"document": {"nodes": "not a list"}, "revision": before["revision"]},
        format="json",
    )
    assert response.status_code == 400
    assert _err(response)["code"] == "WORKFLOW_INVALID"
    after = client.get(f"/api/workflows/{support_workflow.id}/").json()
    assert after["document"] == before["document"]
    assert after["revision"] == before["revision"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d["nodes"][1].update(type="nope.missing"), "NODE_TYPE_UNKNOWN"),
        (lambda d: d["nodes"][2]["config"].pop("prompt"), "NODE_CONFIG_INVALID"),
        (
            lambda d: d["edges"].append(
                {
                    "id": "back",
                    "source": "draft",
                    "source_port": "out",
                    "target": "classify",
                    "target_port": "in",
                }
            ),
            "GRAPH_CYCLE",
        ),
        (
            lambda d: d["edges"].append(
                {"id": "x", "source": "draft", "source_port": "out", "target": "ghost", "target_port": "in"}
            ),
            "EDGE_DANGLING",
        ),
        (lambda d: d["nodes"][2]["config"].update(prompt="{{ steps.( }}"), "EXPRESSION_INVALID"),
    ],
)
def test_invalid_graphs_save_as_drafts_but_cannot_publish(client_for, support_workflow, mutate, code):
    client = client_for("alice")
    wf = client.get(f"/api/workflows/{support_workflow.id}/").json()
    doc = copy.deepcopy(wf["document"])
    mutate(doc)
    saved = client.patch(
        f"/api/workflows/{wf['id']}/", {"document": doc, "revision": wf["revision"]}, format="json"
    )
    assert saved.status_code == 200, saved.content
    assert code in {i["code"] for i in saved.json()["issues"]}
    validated = client.post(f"/api/workflows/{wf['id']}/validate/", {}, format="json").json()
    assert validated["valid"] is False
    published = client.post(f"/api/workflows/{wf['id']}/publish/", {"note": "x"}, format="json")
    assert published.status_code == 400
    assert _err(published)["code"] == "WORKFLOW_INVALID"
    assert code in {i["code"] for i in _err(published)["details"]}


def test_publish_makes_numbered_immutable_versions(client_for, support_workflow):
    client = client_for("alice")
    response = client.post(
        f"/api/workflows/{support_workflow.id}/publish/", {"note": "second"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["number"] == 2
    versions = client.get(f"/api/workflows/{support_workflow.id}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [2, 1]


def test_someone_elses_workflow_is_404_and_invisible(client_for, support_workflow):
    bob = client_for("bob")
    assert bob.get(f"/api/workflows/{support_workflow.id}/").status_code == 404
    assert (
        bob.patch(
            f"/api/workflows/{support_workflow.id}/", {"name": "x", "revision": 1}, format="json"
        ).status_code
        == 404
    )
    assert (
        bob.post(f"/api/workflows/{support_workflow.id}/runs/", {"inputs": {}}, format="json").status_code
        == 404
    )
    assert bob.get("/api/workflows/").json()["count"] == 0
    assert client_for("admin").get(f"/api/workflows/{support_workflow.id}/").status_code == 200


def test_reviewers_cannot_create_workflows(client_for):
    response = client_for("rey").post("/api/workflows/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert _err(response)["code"] == "PERMISSION_DENIED"


def test_anonymous_gets_401(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/workflows/")
    assert response.status_code == 401
    assert _err(response)["code"] == "NOT_AUTHENTICATED"


def test_bad_field_types_get_400_with_details(client_for):
    response = client_for("alice").post("/api/workflows/", {"name": ["not", "a", "string"]}, format="json")
    assert response.status_code == 400
    assert _err(response)["details"][0]["field"] == "name"


def test_huge_document_is_413(client_for, support_workflow):
    client = client_for("alice")
    wf = client.get(f"/api/workflows/{support_workflow.id}/").json()
    doc = copy.deepcopy(wf["document"])
    doc["nodes"][2]["config"]["prompt"] = "x" * 1_100_000
    response = client.patch(
        f"/api/workflows/{wf['id']}/", {"document": doc, "revision": wf["revision"]}, format="json"
    )
    assert response.status_code in (400, 413)
    assert _err(response)["code"] in {"PAYLOAD_TOO_LARGE", "PARSE_ERROR", "BAD_REQUEST"}


def test_body_over_the_limit_is_413_in_the_api_shape(client_for):
    body = '{"name": "' + "x" * 3_000_000 + '"}'
    response = client_for("alice").post("/api/workflows/", data=body, content_type="application/json")
    assert response.status_code == 413
    assert _err(response)["code"] == "PAYLOAD_TOO_LARGE"


def test_sticky_notes_round_trip_and_bad_notes_are_refused(client_for, support_workflow):
    client = client_for("alice")
    wf = client.get(f"/api/workflows/{support_workflow.id}/").json()
    doc = copy.deepcopy(wf["document"])
    doc["notes"] = [{"id": "note_1", "text": "Ask legal about refunds", "position": {"x": 10, "y": 20}}]
    saved = client.patch(
        f"/api/workflows/{wf['id']}/", {"document": doc, "revision": wf["revision"]}, format="json"
    )
    assert saved.status_code == 200, saved.content
    again = client.get(f"/api/workflows/{wf['id']}/").json()
    assert again["document"]["notes"] == [
        {"id": "note_1", "text": "Ask legal about refunds", "position": {"x": 10.0, "y": 20.0}}
    ]
    assert again["document"]["nodes"] == wf["document"]["nodes"]
    doc["notes"] = [{"id": 5, "text": "x"}]
    bad = client.patch(
        f"/api/workflows/{wf['id']}/", {"document": doc, "revision": again["revision"]}, format="json"
    )
    assert bad.status_code == 400
    assert _err(bad)["code"] == "WORKFLOW_INVALID"

"""The templates gallery: every starter workflow validates; using one creates a workflow."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.common.engine import registry
from backend.workflows.models import Workflow
from backend.workflows.templates import template_all
from orchestrator_core import validate_workflow
from tests.backend.test_openapi_schema import _check, schema  # noqa: F401  (fixture)


def test_there_are_at_least_five_templates():
    templates = template_all()
    assert len(templates) >= 5
    assert {"support_reply", "knowledge_qa", "lead_triage", "content_moderation", "daily_digest"} <= set(
        templates
    )


@pytest.mark.parametrize("key", sorted(template_all()))
def test_every_template_validates(key):
    template = template_all()[key]
    assert template["name"]
    assert template["description"]
    assert template["category"]
    assert validate_workflow(template["document"], registry()) == []


def test_templates_use_the_promised_node_types():
    types = {k: {n["type"] for n in t["document"]["nodes"]} for k, t in template_all().items()}
    assert {"llm.classify", "logic.switch"} <= types["lead_triage"]
    assert {"llm.classify", "logic.if", "human.approval"} <= types["content_moderation"]
    assert "data.template" in types["knowledge_qa"]
    assert "retrieval" in template_all()["knowledge_qa"]["description"]
    assert "human.approval" in types["support_reply"]
    assert "trigger.schedule" in types["daily_digest"]


@pytest.mark.django_db
def test_list_and_use(schema, client_for, personas):  # noqa: F811
    listing = _check(schema, "/api/templates/", "get", client_for("vic").get("/api/templates/"))
    by_key = {t["key"]: t for t in listing["results"]}
    assert by_key["support_reply"]["node_count"] == 5
    created = _check(
        schema,
        "/api/templates/{key}/use/",
        "post",
        client_for("bob").post("/api/templates/lead_triage/use/", {"name": "My leads"}, format="json"),
    )
    workflow = Workflow.objects.get(id=created["id"])
    assert workflow.owner == personas["bob"]
    assert workflow.name == "My leads"
    assert created["document"]["nodes"][2]["type"] == "logic.switch"
    assert AuditEvent.objects.filter(action="workflow.from_template").count() == 1
    default_name = client_for("admin").post("/api/templates/daily_digest/use/", {}, format="json")
    assert default_name.status_code == 201
    assert default_name.json()["name"] == "Daily digest"


@pytest.mark.django_db
def test_use_is_for_builders_and_unknown_is_404(schema, client_for):  # noqa: F811
    for name in ("rey", "vic"):
        _check(
            schema,
            "/api/templates/{key}/use/",
            "post",
            client_for(name).post("/api/templates/lead_triage/use/"),
        )
        assert client_for(name).post("/api/templates/lead_triage/use/").status_code == 403
    missing = _check(
        schema, "/api/templates/{key}/use/", "post", client_for("alice").post("/api/templates/nope/use/")
    )
    assert missing["error"]["code"] == "NOT_FOUND"
    assert client_for("alice").post("/api/templates/use/").status_code == 404

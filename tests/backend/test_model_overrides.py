"""``/api/model-overrides/``: admins correct a model's tier, context window and prices."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.common.engine import llm_client, model_catalog
from backend.connectors.models import Connector
from backend.gateway.models import ModelOverride

URL = "/api/model-overrides/"


@pytest.fixture
def openai_connector(personas):
    return Connector.objects.create(
        name="OpenAI",
        kind="model",
        config={"provider": "openai", "models": ["gpt-4o-mini", {"name": "house", "tier": 2}]},
        secret={"api_key": "sk-secret"},
    )


def _rows(response):
    assert response.status_code == 200, response.json()
    return {r["name"]: r for r in response.json()["results"]}


def test_admin_sees_litellm_defaults_and_no_override(client_for, openai_connector):
    rows = _rows(client_for("admin").get(URL))
    assert list(rows) == ["demo", "gpt-4o-mini", "house"]
    mini = rows["gpt-4o-mini"]
    assert mini["override"] is None
    assert mini["default"]["input_usd_per_1m"] == pytest.approx(0.15)  # litellm's local cost map
    assert mini["default"]["output_usd_per_1m"] == pytest.approx(0.6)
    assert mini["default"]["context_window"] > 100_000
    assert (mini["tier"], mini["input_usd_per_1m"]) == (1, pytest.approx(0.15))
    assert rows["demo"]["editable"] is False
    assert rows["house"]["input_usd_per_1m"] is None  # unknown to the map


def test_set_override_applies_to_catalog_gateway_and_is_audited(client_for, openai_connector):
    admin = client_for("admin")
    before = llm_client()
    response = admin.put(
        URL,
        {"model_name": "gpt-4o-mini", "tier": 3, "input_usd_per_1m": 0.2, "context_window": 64000},
        format="json",
    )
    mini = _rows(response)["gpt-4o-mini"]
    assert (mini["tier"], mini["context_window"]) == (3, 64000)
    assert mini["input_usd_per_1m"] == pytest.approx(0.2)
    assert mini["output_usd_per_1m"] == pytest.approx(0.6)  # not overridden: still the map's
    assert mini["default"]["input_usd_per_1m"] == pytest.approx(0.15)
    assert mini["override"]["tier"] == 3
    assert mini["override"]["output_usd_per_1m"] is None
    assert mini["override"]["updated_by"] == "admin"
    client = llm_client()
    assert client is not before  # the cached gateway was rebuilt
    spec = client.models["gpt-4o-mini"]
    assert (spec.tier, spec.context_window) == (3, 64000)
    assert client.prices(spec) == (pytest.approx(0.2e-6), pytest.approx(0.6e-6))
    public = {r["name"]: r for r in client_for("vic").get("/api/models/").json()["results"]}
    assert public["gpt-4o-mini"]["tier"] == 3
    assert public["gpt-4o-mini"]["input_usd_per_1m"] == pytest.approx(0.2)
    event = AuditEvent.objects.filter(action="model_override.set").get()
    assert event.data["model"] == "gpt-4o-mini"
    assert event.data["before"] is None
    assert event.data["after"]["tier"] == 3
    # Change it again, then remove it (all null).
    admin.put(URL, {"model_name": "gpt-4o-mini", "tier": 2}, format="json")
    assert AuditEvent.objects.filter(action="model_override.set").count() == 2
    rows = _rows(admin.put(URL, {"model_name": "gpt-4o-mini"}, format="json"))
    assert rows["gpt-4o-mini"]["override"] is None
    assert rows["gpt-4o-mini"]["tier"] == 1
    assert ModelOverride.objects.count() == 0
    deleted = AuditEvent.objects.filter(action="model_override.delete").get()
    assert deleted.data["before"]["tier"] == 2
    assert [m.spec.tier for m in model_catalog() if m.spec.name == "gpt-4o-mini"] == [1]


def test_override_of_a_model_not_in_the_catalog_is_listed(client_for, personas):
    rows = _rows(client_for("admin").put(URL, {"model_name": "gone", "tier": 2}, format="json"))
    assert rows["gone"]["source"] == "override"
    assert rows["gone"]["default"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"model_name": "demo", "tier": 2},
        {"model_name": "auto", "tier": 2},
        {"model_name": "x", "tier": 4},
        {"model_name": "x", "tier": 0},
        {"model_name": "x", "input_usd_per_1m": -1},
        {"model_name": "x", "output_usd_per_1m": 2_000_000},
        {"model_name": "x", "context_window": 0},
        {"model_name": "", "tier": 1},
        {"model_name": "x", "tier": "high"},
        {"tier": 1},
        [],
    ],
)
def test_bad_input_is_refused(client_for, personas, body):
    response = client_for("admin").put(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert ModelOverride.objects.count() == 0


def test_only_admins(client_for, personas):
    for persona in ("alice", "rey", "vic"):
        assert client_for(persona).get(URL).status_code == 403
        assert client_for(persona).put(URL, {"model_name": "x", "tier": 2}, format="json").status_code == 403
    assert ModelOverride.objects.count() == 0

"""``GET /api/models/`` and the gateway built from model connectors."""

from __future__ import annotations

import json

import pytest

from backend.common.engine import llm_client, model_catalog
from backend.connectors.models import Connector
from orchestrator_core import LLMRequest
from orchestrator_core.testing.llm_stub import StubServer


def _connector_payload(**config):
    return {
        "name": "OpenAI",
        "kind": "model",
        "config": {"provider": "openai", "models": ["gpt-4o-mini"], **config},
        "secret": {"api_key": "sk-secret-key-123"},
    }


def test_demo_only_by_default(client_for):
    response = client_for("vic").get("/api/models/")
    assert response.status_code == 200
    body = response.json()
    assert body["default_model"] == "demo"
    assert body["results"] == [
        {
            "name": "demo",
            "label": "Baton demo model (offline, deterministic)",
            "provider": "demo",
            "litellm_model": "demo",
            "tier": 1,
            "context_window": None,
            "input_usd_per_1m": 0.0,
            "output_usd_per_1m": 0.0,
            "source": "demo",
            "connector": "",
        }
    ]


def test_anonymous_is_refused(client):
    assert client.get("/api/models/").status_code in (401, 403)


def test_connector_models_with_map_prices_and_overrides_and_no_secrets(client_for):
    payload = _connector_payload(
        models=[
            "gpt-4o-mini",
            {
                "name": "house",
                "litellm_model": "openai/house-v2",
                "tier": 3,
                "context_window": 32000,
                "input_cost_per_token": 2e-6,
                "output_cost_per_token": 8e-6,
            },
        ]
    )
    created = client_for("admin").post("/api/connectors/", payload, format="json")
    assert created.status_code == 201, created.json()
    response = client_for("bob").get("/api/models/")
    assert response.status_code == 200
    assert "sk-secret-key-123" not in json.dumps(response.json())
    rows = {r["name"]: r for r in response.json()["results"]}
    assert list(rows) == ["demo", "gpt-4o-mini", "house"]
    mini = rows["gpt-4o-mini"]
    assert mini["source"] == "connector"
    assert mini["connector"] == "OpenAI"
    assert mini["provider"] == "openai"
    assert mini["litellm_model"] == "openai/gpt-4o-mini"
    assert mini["input_usd_per_1m"] == pytest.approx(0.15)  # litellm's bundled cost map
    assert mini["output_usd_per_1m"] == pytest.approx(0.6)
    assert mini["context_window"]
    assert mini["context_window"] > 100_000
    house = rows["house"]
    assert (house["tier"], house["context_window"], house["litellm_model"]) == (3, 32000, "openai/house-v2")
    assert (house["input_usd_per_1m"], house["output_usd_per_1m"]) == (pytest.approx(2.0), pytest.approx(8.0))


def test_reserved_and_duplicate_names_are_rejected(client_for):
    for models in (["demo"], ["auto"], ["a", {"name": "a"}], [{"name": "x", "tier": 4}]):
        response = client_for("admin").post(
            "/api/connectors/", _connector_payload(models=models), format="json"
        )
        assert response.status_code == 400, models
        assert response.json()["error"]["code"] == "CONNECTOR_CONFIG_INVALID"


def test_catalog_follows_connector_changes(personas):
    assert [m.spec.name for m in model_catalog()] == ["demo"]
    row = Connector.objects.create(
        name="Local",
        kind="model",
        config={"provider": "ollama", "base_url": "http://127.0.0.1:1", "models": ["llama3"]},
    )
    client = llm_client()
    assert "llama3" in client.models
    assert client.models["llama3"].litellm_model == "ollama/llama3"
    assert llm_client() is client  # cached while nothing changes
    row.config = {**row.config, "models": ["llama3", "qwen"]}
    row.save()
    assert [m.spec.name for m in model_catalog()] == ["demo", "llama3", "qwen"]
    row.delete()
    assert [m.spec.name for m in model_catalog()] == ["demo"]


def test_connector_model_answers_through_litellm_with_its_key(personas):
    with StubServer("Hi from the connector model") as stub:
        Connector.objects.create(
            name="Compat",
            kind="model",
            config={"provider": "openai_compatible", "base_url": stub.base_url, "models": ["compat-1"]},
            secret={"api_key": "sk-compat"},
        )
        reply = llm_client().complete(
            LLMRequest(model="compat-1", messages=[{"role": "user", "content": "hi"}])
        )
        assert reply.text == "Hi from the connector model"
        assert reply.model == "compat-1"
        assert stub.requests[0]["model"] == "compat-1"

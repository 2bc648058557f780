"""Every golden workflow without an external dependency, end to end through the real backend:
created, published and started over the API, run by the (eager) Celery task, read back over the API.

The fixtures with a dependency of their own (approvals, timers, webhooks, HTTP, schedules,
sub-workflows, agents) have their own backend tests; see the ``COVERED_ELSEWHERE`` list.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.runs.models import Run
from orchestrator_core.llm.demo import DEMO_SIGNATURE
from tests.backend.conftest import load_fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # A node thread that crashes (e.g. closing another thread's DB connection) fails the test.
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workflows"

Check = Callable[[dict[str, dict[str, Any]]], None]


def _text(node: str, expected: str) -> Check:
    def check(steps: dict[str, dict[str, Any]]) -> None:
        assert steps[node]["status"] == "succeeded"
        assert steps[node]["output"]["text"] == expected

    return check


def _skipped(*nodes: str) -> Check:
    def check(steps: dict[str, dict[str, Any]]) -> None:
        assert {n: steps[n]["status"] for n in nodes if n in steps} == dict.fromkeys(
            (n for n in nodes if n in steps), "skipped"
        )

    return check


def _demo_reply(steps: dict[str, dict[str, Any]]) -> None:
    assert steps["draft"]["output"]["text"].endswith(DEMO_SIGNATURE)  # the demo's answer, offline
    assert steps["draft"]["output"]["model"] == "demo"


def _reliable(steps: dict[str, dict[str, Any]]) -> None:
    assert steps["use"]["output"]["text"] == steps["draft"]["output"]["text"]
    assert steps["use"]["output"]["text"]
    assert steps["draft"]["attempts"] == 1


def _classified(steps: dict[str, dict[str, Any]]) -> None:
    assert steps["classify"]["output"]["label"] == "refund"


def _transformed(steps: dict[str, dict[str, Any]]) -> None:
    assert steps["summary"]["output"]["result"] == {"customer": "Ada", "skus": ["A1", "B2"], "total": 30}


def _merged(steps: dict[str, dict[str, Any]]) -> None:
    assert steps["reply"]["output"]["text"] == "Hello Ada / Ada is a VIP"


CASES: list[tuple[str, dict[str, Any], list[Check]]] = [
    (
        "template_only.json",
        {"name": "Ada"},
        [lambda s: _startswith(s, "greet", "Hello Ada, welcome to Baton!")],
    ),
    (
        "if_branch.json",
        {"amount": 250},
        [_text("large", "Large order of 250: needs a manager."), _skipped("small")],
    ),
    (
        "if_branch.json",
        {"amount": 20},
        [_text("small", "Small order of 20: auto-approved."), _skipped("large")],
    ),
    ("switch_route.json", {"amount": 500}, [_text("big", "Big order: 500"), _skipped("medium", "default")]),
    ("switch_route.json", {"amount": 50}, [_text("medium", "Medium order: 50"), _skipped("big", "default")]),
    ("switch_route.json", {"amount": 5}, [_text("default", "Small order: 5"), _skipped("big", "medium")]),
    ("merge_branches.json", {"name": "Ada", "vip": True}, [_merged, _skipped("regular")]),
    (
        "transform_order.json",
        {"customer": "Ada", "items": [{"sku": "A1", "price": 10}, {"sku": "B2", "price": 20}]},
        [_transformed],
    ),
    ("classify_only.json", {"text": "I was charged twice, please refund me."}, [_classified]),
    ("prompt_only.json", {"message": "Where is my parcel?"}, [_demo_reply]),
    ("reliable_prompt.json", {"message": "Where is my parcel?"}, [_reliable, _skipped("fallback")]),
]

COVERED_ELSEWHERE = {
    "agent_order_support.json": "test_agent_workflow.py",
    "approval_email.json": "test_approval_examples.py",
    "delay_followup.json": "test_durable_timers.py",
    "http_request.json": "test_http_connector.py",
    "loop_greet_each.json": "test_subworkflows.py",
    "loop_review_each.json": "test_subworkflows.py",
    "scheduled_digest.json": "test_schedules.py",
    "subworkflow_body_greet.json": "test_subworkflows.py",
    "subworkflow_body_review.json": "test_subworkflows.py",
    "subworkflow_call.json": "test_subworkflows.py",
    "support_reply.json": "test_run_journey.py",
    "webhook_echo.json": "test_webhooks.py",
}


def _startswith(steps: dict[str, dict[str, Any]], node: str, prefix: str) -> None:
    assert steps[node]["status"] == "succeeded"
    assert steps[node]["output"]["text"].startswith(prefix)


def test_every_golden_workflow_is_run_end_to_end_somewhere() -> None:
    here = {name for name, _, _ in CASES}
    assert here.isdisjoint(COVERED_ELSEWHERE)
    assert {p.name for p in FIXTURES.glob("*.json")} == here | set(COVERED_ELSEWHERE)


@pytest.mark.parametrize(
    ("fixture", "inputs", "checks"),
    CASES,
    ids=[f"{c[0].removesuffix('.json')}-{i}" for i, c in enumerate(CASES)],
)
def test_golden_workflow_runs_through_the_backend(client_for, fixture, inputs, checks):
    client = client_for("alice")
    created = client.post(
        "/api/workflows/", {"name": fixture, "document": load_fixture(fixture)}, format="json"
    )
    assert created.status_code == 201, created.content
    workflow = created.json()
    validated = client.post(f"/api/workflows/{workflow['id']}/validate/", {}, format="json").json()
    assert validated["valid"] is True, validated
    published = client.post(f"/api/workflows/{workflow['id']}/publish/", {"note": "golden"}, format="json")
    assert published.status_code == 201, published.content
    started = client.post(f"/api/workflows/{workflow['id']}/runs/", {"inputs": inputs}, format="json")
    assert started.status_code == 201, started.content

    run = client.get(f"/api/runs/{started.json()['id']}/").json()
    assert run["status"] == Run.Status.SUCCEEDED, run.get("error")
    steps = {s["node_id"]: s for s in run["steps"]}
    for check in checks:
        check(steps)

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.accounts.services import user_upsert
from backend.approvals.models import Queue
from backend.workflows.models import Workflow
from backend.workflows.services import workflow_create, workflow_publish
from tests.conftest import ROOT

PASSWORD = "correct-horse-battery"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "fixtures" / "workflows" / name).read_text())


@pytest.fixture
def personas(db: Any) -> dict[str, User]:
    """admin, alice (builder, owns workflows), bob (another builder), rey (reviewer in Support),
    vic (viewer), and otto (reviewer outside the Support queue)."""
    people = {
        "admin": user_upsert(username="admin", password=PASSWORD, role=User.Role.ADMIN),
        "alice": user_upsert(username="alice", password=PASSWORD, role=User.Role.BUILDER),
        "bob": user_upsert(username="bob", password=PASSWORD, role=User.Role.BUILDER),
        "rey": user_upsert(username="rey", password=PASSWORD, role=User.Role.REVIEWER),
        "vic": user_upsert(username="vic", password=PASSWORD, role=User.Role.VIEWER),
        "otto": user_upsert(username="otto", password=PASSWORD, role=User.Role.REVIEWER),
    }
    support, _ = Queue.objects.get_or_create(name="Support")
    support.members.add(people["rey"])
    Queue.objects.get_or_create(name="Billing")[0].members.add(people["otto"])
    return people


@pytest.fixture
def client_for(personas: dict[str, User]) -> Any:
    def make(name: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(personas[name])
        return client

    return make


@pytest.fixture
def support_workflow(personas: dict[str, User]) -> Workflow:
    workflow = workflow_create(
        user=personas["alice"], name="Reply to a customer email", document=load_fixture("support_reply.json")
    )
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    return workflow


CUSTOMER_EMAIL = {
    "from": "carol@example.com",
    "subject": "Refund for order 1234",
    "body": "Hello, I was charged twice for order 1234. Please refund the second charge.",
}

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.approvals.models import Queue
from backend.workflows.models import Workflow, WorkflowVersion

pytestmark = pytest.mark.django_db


def test_demo_data_prints_accounts_and_is_idempotent():
    out = StringIO()
    call_command("baton_demo", stdout=out)
    call_command("baton_demo", stdout=StringIO())
    text = out.getvalue()
    for username, password in (
        ("admin", "baton-admin-demo"),
        ("builder", "baton-builder-demo"),
        ("reviewer", "baton-reviewer-demo"),
    ):
        assert username in text
        assert password in text
    assert User.objects.count() == 3
    assert Workflow.objects.count() == 1
    assert WorkflowVersion.objects.filter(published=True).count() == 1
    assert set(Queue.objects.get(name="Support").members.values_list("username", flat=True)) == {
        "admin",
        "reviewer",
    }
    client = APIClient()
    client.post("/api/auth/login/", {"username": "builder", "password": "baton-builder-demo"}, format="json")
    names = [w["name"] for w in client.get("/api/workflows/").json()["results"]]
    assert names == ["Reply to a customer email"]

"""DjangoRunStore passes the same conformance suite as the in-memory store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.accounts.models import User
from backend.runs.models import Run
from backend.runs.store import DjangoRunStore
from backend.workflows.models import Workflow, WorkflowVersion
from backend.workflows.services import document_hash
from orchestrator_core.testing.conformance import ALL_CHECKS

pytestmark = pytest.mark.django_db


@pytest.fixture
def create_run():
    owner = User.objects.create(username="owner", role=User.Role.BUILDER)
    workflow = Workflow.objects.create(name="conformance", owner=owner)
    versions: dict[str, WorkflowVersion] = {}

    def make(document: Any, trigger: Any) -> str:
        digest = document_hash(document)
        if digest not in versions:
            versions[digest] = WorkflowVersion.objects.create(
                workflow=workflow, number=len(versions) + 1, document=document, document_hash=digest
            )
        return str(Run.objects.create(workflow=workflow, version=versions[digest], inputs=trigger).id)

    return make


def expire(run_id: str) -> None:
    Run.objects.filter(id=int(run_id)).update(lease_until=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_django_run_store_conforms(check, create_run):
    check(DjangoRunStore(), create_run, expire)

"""The race itself, run by tests/backend/test_approvals_concurrency.py in a child pytest on a
throw-away PostgreSQL database. Not collected on its own (the file name is not test_*.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

THREADS = 50


@pytest.mark.django_db(transaction=True)
def test_race(personas, support_workflow, monkeypatch):
    from django.db import connection

    from backend.accounts.models import User
    from backend.accounts.services import user_upsert
    from backend.approvals.models import Approval, ApprovalVote, Queue
    from backend.approvals.services import approval_decide
    from backend.common.errors import Conflict
    from backend.runs.models import Run
    from backend.runs.services import run_start
    from backend.workflows.selectors import workflow_published_version
    from tests.backend.conftest import CUSTOMER_EMAIL, PASSWORD

    assert connection.vendor == "postgresql"
    run = run_start(
        version=workflow_published_version(workflow=support_workflow),
        started_by=personas["alice"],
        inputs=CUSTOMER_EMAIL,
    )  # eager Celery: advanced on commit, up to the review step
    approval = Approval.objects.get(run=run)
    assert Run.objects.get(id=run.id).status == "waiting"
    people = [
        user_upsert(username=f"r{i}", password=PASSWORD, role=User.Role.REVIEWER) for i in range(THREADS)
    ]
    Queue.objects.get(name="Support").members.add(*people)

    dispatched: list[int] = []
    lock = threading.Lock()

    def count_dispatch(run_id: int) -> None:
        with lock:
            dispatched.append(run_id)

    monkeypatch.setattr("backend.runs.services._dispatch", count_dispatch)
    start = threading.Barrier(THREADS)

    def vote(user: User) -> str:
        try:
            start.wait(timeout=60)
            approval_decide(
                approval=approval, user=user, decision="approve", payload_hash_seen=approval.payload_hash
            )
            return "ok"
        except Conflict as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(vote, people))

    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("APPROVAL_DECIDED") == THREADS - 1, outcomes
    assert dispatched == [run.id]
    assert ApprovalVote.objects.filter(approval=approval).count() == 1
    approval.refresh_from_db()
    assert approval.status == "approved"
    assert Run.objects.get(id=run.id).status == "queued"

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from backend.approvals.models import Approval
from backend.config.asgi import websocket_urlpatterns
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/inbox/")
    communicator.scope["user"] = user
    await communicator.connect()
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "inbox.ready"
    return communicator


def _start_run(personas, workflow):
    version = workflow_published_version(workflow=workflow)
    run = run_start(version=version, started_by=personas["alice"], inputs=CUSTOMER_EMAIL)
    run_advance(run_id=run.id)
    return run


async def test_queue_members_and_admins_see_new_and_decided_items_live(personas, support_workflow):
    rey = await _connect(personas["rey"])
    admin = await _connect(personas["admin"])
    otto = await _connect(personas["otto"])  # a reviewer of another queue
    await sync_to_async(_start_run)(personas, support_workflow)
    for communicator in (rey, admin):
        event = await communicator.receive_json_from(timeout=5)
        assert event["type"] == "approval.created"
        assert event["approval"]["queue"] == "Support"
    assert await otto.receive_nothing(timeout=0.3)

    from backend.approvals.services import approval_decide

    def decide():
        approval = Approval.objects.get()
        approval_decide(
            approval=approval,
            user=personas["rey"],
            decision="reject",
            payload_hash_seen=approval.payload_hash,
        )

    await sync_to_async(decide)()
    event = await rey.receive_json_from(timeout=5)
    assert event["type"] == "approval.decided"
    assert event["approval"]["status"] == "rejected"
    assert await otto.receive_nothing(timeout=0.3)
    for communicator in (rey, admin, otto):
        await communicator.disconnect()


async def test_anonymous_is_closed_4401(db):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/inbox/")
    communicator.scope["user"] = AnonymousUser()
    await communicator.connect()
    assert (await communicator.receive_output(timeout=2))["code"] == 4401

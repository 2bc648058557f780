from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from backend.config.asgi import websocket_urlpatterns
from backend.runs.models import Run, RunEvent
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(run_id, user, after=0):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(app, f"/ws/runs/{run_id}/?after={after}")
    communicator.scope["user"] = user
    return communicator


@pytest.fixture
def waiting_run(personas, support_workflow):
    version = workflow_published_version(workflow=support_workflow)
    run = run_start(version=version, started_by=personas["alice"], inputs=CUSTOMER_EMAIL)
    run_advance(run_id=run.id)  # on_commit dispatch is eager in tests; make sure it ran
    return Run.objects.get(id=run.id)


async def _receive_all(communicator, count):
    return [json.loads(json.dumps(await communicator.receive_json_from(timeout=5))) for _ in range(count)]


async def test_replays_every_stored_event_in_order(personas, waiting_run):
    stored = await sync_to_async(lambda: list(RunEvent.objects.filter(run=waiting_run).order_by("seq")))()
    communicator = _communicator(waiting_run.id, personas["alice"])
    connected, _ = await communicator.connect()
    assert connected
    events = await _receive_all(communicator, len(stored))
    assert [e["seq"] for e in events] == [e.seq for e in stored]
    assert events[-1]["type"] == "run.status"
    assert events[-1]["data"]["status"] == "waiting"
    step_events = [e for e in events if e["type"] == "step.status"]
    assert {"node_id", "status", "duration_ms", "output"} <= set(step_events[-1]["data"])
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_after_skips_what_the_client_has(personas, waiting_run):
    last = waiting_run.last_seq
    communicator = _communicator(waiting_run.id, personas["alice"], after=last - 2)
    await communicator.connect()
    events = await _receive_all(communicator, 2)
    assert [e["seq"] for e in events] == [last - 1, last]
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_live_events_follow_the_replay(personas, waiting_run):
    last = waiting_run.last_seq
    communicator = _communicator(waiting_run.id, personas["alice"], after=last)
    await communicator.connect()
    await communicator.send_json_to({"hello": "ignored"})
    await communicator.send_to(text_data="{not json")
    await communicator.send_to(bytes_data=b"\x00\xff")
    from backend.runs.services import run_cancel

    await sync_to_async(run_cancel)(run=waiting_run, user=personas["alice"])
    event = await communicator.receive_json_from(timeout=5)
    assert event["seq"] == last + 1
    assert event["data"]["status"] == "cancelled"
    await communicator.disconnect()


async def test_anonymous_is_closed_4401(waiting_run):
    communicator = _communicator(waiting_run.id, AnonymousUser())
    await communicator.connect()
    assert (await communicator.receive_output(timeout=2))["code"] == 4401


async def test_someone_elses_run_is_closed_4404(personas, waiting_run):
    communicator = _communicator(waiting_run.id, personas["bob"])
    await communicator.connect()
    assert (await communicator.receive_output(timeout=2))["code"] == 4404


async def test_missing_run_is_closed_4404(personas, db):
    communicator = _communicator(999999, personas["alice"])
    await communicator.connect()
    assert (await communicator.receive_output(timeout=2))["code"] == 4404

"""A conformance suite every `RunStore` must pass (the in-memory one and ``DjangoRunStore``).

Each check is a plain function with the same signature::

    check(store: RunStore, create_run: CreateRun, expire: Expire) -> None

- ``store``: a fresh store (or one whose runs the check creates itself).
- ``create_run(document, trigger) -> run_id``: stores a new *queued* run.
- ``expire(run_id)``: makes the run's current lease look expired (as if its worker died).

A check raises AssertionError when the store misbehaves. Run them all with::

    for check in ALL_CHECKS:
        check(store, create_run, expire)

or parametrize a pytest test over `ALL_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from orchestrator_core.errors import LeaseLost
from orchestrator_core.ports import (
    EffectStatus,
    Event,
    RunSnapshot,
    RunStatus,
    RunStore,
    StepRecord,
    StepStatus,
)

CreateRun = Callable[[Mapping[str, Any], Any], str]
Expire = Callable[[str], None]
Check = Callable[[RunStore, CreateRun, Expire], None]


def _expect(condition: bool, message: object) -> None:
    if not condition:
        raise AssertionError(message)


def _claimed(snap: RunSnapshot | None, message: object) -> RunSnapshot:
    if snap is None:
        raise AssertionError(message)
    return snap


DOCUMENT: dict[str, Any] = {
    "schema_version": 1,
    "nodes": [{"id": "start", "type": "trigger.manual", "type_version": 1, "config": {}}],
    "edges": [],
}


def check_claim_is_exclusive(store: RunStore, create_run: CreateRun, expire: Expire | None = None) -> None:
    """A queued run is claimed once; a second claim while the lease is live gets None."""
    run_id = create_run(DOCUMENT, {"x": 1})
    snap = store.claim(run_id, owner="a", lease_seconds=60)
    snap = _claimed(snap, "a queued run must be claimable")
    _expect(snap.run_id == run_id, "snap.run_id == run_id")
    _expect(snap.status == RunStatus.RUNNING, "snap.status == RunStatus.RUNNING")
    _expect(dict(snap.trigger) == {"x": 1}, 'dict(snap.trigger) == {"x": 1}')
    _expect(snap.document["nodes"][0]["id"] == "start", 'snap.document["nodes"][0]["id"] == "start"')
    _expect(
        store.claim(run_id, owner="b", lease_seconds=60) is None, "a leased run must not be claimed twice"
    )


def check_fence_rejects_stale_writes(store: RunStore, create_run: CreateRun, expire: Expire) -> None:
    """After another worker re-claims an expired run, the first worker's writes raise LeaseLost."""
    run_id = create_run(DOCUMENT, {})
    first = store.claim(run_id, owner="a", lease_seconds=60)
    first = _claimed(first, "first is not None")
    expire(run_id)
    second = store.claim(run_id, owner="b", lease_seconds=60)
    second = _claimed(second, "an expired lease must be claimable")
    _expect(second.fence > first.fence, "every claim must increase the fence")
    step = StepRecord("start", StepStatus.SUCCEEDED, attempts=1, output={})
    try:
        store.save_step(run_id, fence=first.fence, step=step)
        raise AssertionError("save_step with a stale fence must raise LeaseLost")
    except LeaseLost:
        pass
    try:
        store.finish(run_id, fence=first.fence, status=RunStatus.SUCCEEDED)
        raise AssertionError("finish with a stale fence must raise LeaseLost")
    except LeaseLost:
        pass
    _expect(
        store.renew_lease(run_id, fence=first.fence, lease_seconds=60) is False,
        "store.renew_lease(run_id, fence=first.fence, lease_seconds=60) is False",
    )
    _expect(
        store.renew_lease(run_id, fence=second.fence, lease_seconds=60) is True,
        "store.renew_lease(run_id, fence=second.fence, lease_seconds=60) is True",
    )
    store.save_step(run_id, fence=second.fence, step=step, events=[Event("step.status", "start", {"a": 1})])
    store.finish(run_id, fence=second.fence, status=RunStatus.SUCCEEDED)
    _expect(store.claim(run_id, owner="c", lease_seconds=60) is None, "a finished run is not claimable")


def check_effect_begin_once(store: RunStore, create_run: CreateRun, expire: Expire | None = None) -> None:
    """Exactly one effect_begin gets created=True; complete stores the result."""
    run_id = create_run(DOCUMENT, {})
    key = f"{run_id}:send:0"
    first = store.effect_begin(key, run_id=run_id, node_id="send")
    _expect(first.created is True, "first.created is True")
    _expect(first.status == EffectStatus.STARTED, "first.status == EffectStatus.STARTED")
    again = store.effect_begin(key, run_id=run_id, node_id="send")
    _expect(again.created is False, "again.created is False")
    _expect(again.status == EffectStatus.STARTED, "again.status == EffectStatus.STARTED")
    store.effect_complete(key, result={"message_id": "m1"})
    done = store.effect_begin(key, run_id=run_id, node_id="send")
    _expect(done.created is False, "done.created is False")
    _expect(done.status == EffectStatus.DONE, "done.status == EffectStatus.DONE")
    _expect(dict(done.result) == {"message_id": "m1"}, 'dict(done.result) == {"message_id": "m1"}')


def check_effect_abort_lets_a_retry_act(
    store: RunStore, create_run: CreateRun, expire: Expire | None = None
) -> None:
    """effect_abort forgets a STARTED effect (the next begin creates it again); a DONE one stays."""
    run_id = create_run(DOCUMENT, {})
    key = f"{run_id}:send:0"
    _expect(store.effect_begin(key, run_id=run_id, node_id="send").created, "the first begin creates")
    store.effect_abort(key)
    again = store.effect_begin(key, run_id=run_id, node_id="send")
    _expect(again.created is True, "after effect_abort the next begin creates the effect again")
    _expect(again.status == EffectStatus.STARTED, "again.status == EffectStatus.STARTED")
    store.effect_complete(key, result={"message_id": "m2"})
    store.effect_abort(key)  # too late: the effect happened
    done = store.effect_begin(key, run_id=run_id, node_id="send")
    _expect(done.created is False, "effect_abort leaves a DONE effect")
    _expect(done.status == EffectStatus.DONE, "done.status == EffectStatus.DONE")
    _expect(dict(done.result) == {"message_id": "m2"}, 'dict(done.result) == {"message_id": "m2"}')
    store.effect_abort(f"{run_id}:never:0")  # an unknown key is not an error


def check_expired_lease_can_be_reclaimed(store: RunStore, create_run: CreateRun, expire: Expire) -> None:
    """A running run whose lease expired is claimable again and keeps its steps."""
    run_id = create_run(DOCUMENT, {})
    first = store.claim(run_id, owner="a", lease_seconds=60)
    first = _claimed(first, "first is not None")
    store.save_step(run_id, fence=first.fence, step=StepRecord("start", StepStatus.RUNNING, attempts=1))
    _expect(
        store.claim(run_id, owner="b", lease_seconds=60) is None,
        'store.claim(run_id, owner="b", lease_seconds=60) is None',
    )
    expire(run_id)
    second = store.claim(run_id, owner="b", lease_seconds=60)
    second = _claimed(second, "second is not None")
    _expect(
        second.steps["start"].status == StepStatus.RUNNING,
        'second.steps["start"].status == StepStatus.RUNNING',
    )
    _expect(second.steps["start"].attempts == 1, 'second.steps["start"].attempts == 1')


def check_save_step_roundtrip(store: RunStore, create_run: CreateRun, expire: Expire) -> None:
    """Every StepRecord field survives save_step and a later claim."""
    run_id = create_run(DOCUMENT, {"k": "v"})
    snap = store.claim(run_id, owner="a", lease_seconds=60)
    snap = _claimed(snap, "snap is not None")
    started = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    ended = datetime(2026, 1, 2, 3, 4, 6, 456000, tzinfo=UTC)
    step = StepRecord(
        node_id="start",
        status=StepStatus.WAITING,
        attempts=2,
        inputs={"prompt": "héllo"},
        output={"text": "x", "n": [1, 2.5, None, True]},
        ports=("approved",),
        error={"code": "NODE_FAILED", "message": "m"},
        request={"queue": "Support", "fields": {"reply": "draft"}},
        resume={"decision": "approve"},
        started_at=started,
        ended_at=ended,
        meta={"model": "demo", "tokens_in": 3, "tokens_out": 4, "cost_usd": 0.5, "reason": "r"},
    )
    store.save_step(run_id, fence=snap.fence, step=step, events=[Event("step.status", "start", {"x": 1})])
    expire(run_id)
    again = store.claim(run_id, owner="b", lease_seconds=60)
    again = _claimed(again, "again is not None")
    got = again.steps["start"]
    _expect(got.node_id == step.node_id, "got.node_id == step.node_id")
    _expect(StepStatus(got.status) == step.status, "StepStatus(got.status) == step.status")
    _expect(got.attempts == step.attempts, "got.attempts == step.attempts")
    _expect(got.inputs == step.inputs, "got.inputs == step.inputs")
    _expect(got.output == step.output, "got.output == step.output")
    _expect(tuple(got.ports) == step.ports, "tuple(got.ports) == step.ports")
    _expect(
        dict(got.error or {}) == dict(step.error or {}), "dict(got.error or {}) == dict(step.error or {})"
    )
    _expect(got.request == step.request, "got.request == step.request")
    _expect(got.resume == step.resume, "got.resume == step.resume")
    _expect(got.started_at == started, (got.started_at, started))
    _expect(got.ended_at == ended, (got.ended_at, ended))
    _expect(dict(got.meta) == dict(step.meta), "dict(got.meta) == dict(step.meta)")


def check_reset_steps_replaces_together_under_the_fence(
    store: RunStore, create_run: CreateRun, expire: Expire
) -> None:
    """reset_steps replaces every given step (others stay); with a stale fence it raises LeaseLost
    and changes none of them (a review round is all or nothing)."""
    run_id = create_run(DOCUMENT, {})
    first = _claimed(store.claim(run_id, owner="a", lease_seconds=60), "a queued run must be claimable")
    for node_id, text in (("start", "s"), ("draft", "d1"), ("review", "r1")):
        step = StepRecord(node_id, StepStatus.SUCCEEDED, attempts=1, output={"text": text}, ports=("out",))
        store.save_step(run_id, fence=first.fence, step=step)
    redo = {"kind": "redo", "round": 2, "by": "review"}
    resets = [
        StepRecord(n, StepStatus.QUEUED, request=redo, meta={"rounds": [{"round": 1, "node_id": n}]})
        for n in ("draft", "review")
    ]
    expire(run_id)
    second = _claimed(store.claim(run_id, owner="b", lease_seconds=60), "an expired lease must be claimable")
    try:
        store.reset_steps(run_id, fence=first.fence, steps=resets, events=[Event("step.status", "draft", {})])
        raise AssertionError("reset_steps with a stale fence must raise LeaseLost")
    except LeaseLost:
        pass
    expire(run_id)
    third = _claimed(store.claim(run_id, owner="c", lease_seconds=60), "the run is claimable again")
    _expect(
        all(third.steps[n].status == StepStatus.SUCCEEDED for n in ("draft", "review")),
        "a refused reset_steps must change no step",
    )
    _expect(second.fence < third.fence, "every claim must increase the fence")
    store.reset_steps(run_id, fence=third.fence, steps=resets, events=[Event("step.status", "draft", {})])
    expire(run_id)
    fourth = _claimed(store.claim(run_id, owner="d", lease_seconds=60), "the run is claimable again")
    for node_id in ("draft", "review"):
        got = fourth.steps[node_id]
        _expect(StepStatus(got.status) == StepStatus.QUEUED, f"{node_id} must be reset to queued")
        _expect(got.request == redo, f"{node_id} keeps the redo request")
        _expect(got.output is None and got.attempts == 0, f"{node_id} has no output after the reset")
        _expect(
            dict(got.meta) == {"rounds": [{"round": 1, "node_id": node_id}]}, f"{node_id} keeps its history"
        )
    _expect(fourth.steps["start"].output == {"text": "s"}, "a step not named stays as it was")
    store.reset_steps(run_id, fence=fourth.fence, steps=[])  # nothing to reset is not an error


ALL_CHECKS: list[Check] = [
    check_claim_is_exclusive,
    check_fence_rejects_stale_writes,
    check_effect_begin_once,
    check_effect_abort_lets_a_retry_act,
    check_expired_lease_can_be_reclaimed,
    check_save_step_roundtrip,
    check_reset_steps_replaces_together_under_the_fence,
]

from __future__ import annotations

from celery import Task, shared_task


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance(self: Task, run_id: int) -> None:
    from backend.runs import services  # imported here to avoid import cycles at worker start

    services.run_advance(run_id=run_id)


@shared_task(ignore_result=True)
def run_reap() -> None:
    from backend.runs import services

    services.run_reap()


@shared_task(ignore_result=True)
def run_wake_timers() -> None:
    from backend.runs import services

    services.run_wake_timers()


@shared_task(ignore_result=True)
def runs_fail_overdue() -> None:
    from backend.runs import services

    services.runs_fail_overdue()


@shared_task(ignore_result=True)
def approvals_handle_due() -> None:
    from backend.approvals import services

    services.approvals_handle_due()


@shared_task(ignore_result=True)
def schedules_fire_due() -> None:
    from backend.runs import triggers

    triggers.schedules_fire_due()


@shared_task(ignore_result=True)
def runs_purge_expired() -> int:
    from backend.runs import retention

    return retention.runs_purge_expired()

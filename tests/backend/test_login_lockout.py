"""Sign-in lockout (django-axes): 10 failures per username + IP lock that pair for 15 minutes."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from backend.audit.models import AuditEvent
from tests.backend.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _login(username: str, password: str, ip: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/auth/login/", {"username": username, "password": password}, format="json"
    )


def test_ten_failures_lock_the_username_and_ip_even_for_the_right_password(personas):
    for attempt in range(1, 10):
        response = _login("alice", f"wrong-{attempt}")
        assert response.status_code == 401, attempt
        assert response.json()["error"]["code"] == "INVALID_CREDENTIALS"
    tenth = _login("alice", "wrong-10")
    assert tenth.status_code == 429  # the tenth failure starts the lockout
    response = _login("alice", PASSWORD)
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "LOCKED_OUT"
    assert error["details"]["retry_after_seconds"] == 15 * 60
    assert response["Retry-After"] == str(15 * 60)
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()

    # Another address, or another username from the same address, is not locked.
    assert _login("alice", PASSWORD, ip="10.0.0.2").status_code == 200
    assert _login("bob", PASSWORD).status_code == 200


def test_the_lock_lifts_after_the_cool_off(personas, settings):
    import datetime as dt

    for attempt in range(10):
        _login("alice", f"wrong-{attempt}")
    assert _login("alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert _login("alice", PASSWORD).status_code == 200


def test_a_success_resets_the_count(personas):
    for attempt in range(9):
        _login("alice", f"wrong-{attempt}")
    assert _login("alice", PASSWORD).status_code == 200
    for attempt in range(9):
        assert _login("alice", f"wrong-{attempt}").status_code == 401

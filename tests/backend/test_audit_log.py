"""Audit log: the hash chain verifies and catches tampering; admin-only list and CSV export;
on PostgreSQL a trigger refuses UPDATE and DELETE."""

from __future__ import annotations

import csv
import io
import os
import secrets
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from backend.audit.models import AuditEvent
from backend.audit.services import audit_chain_verify, audit_record
from tests.conftest import ROOT, port_open, require_service


def _events(personas, n: int = 5) -> list[AuditEvent]:
    return [
        audit_record(actor=personas["admin"], action=f"test.step{i}", data={"i": i, "note": "x"})
        for i in range(n)
    ]


@pytest.mark.django_db
def test_the_chain_verifies(personas):
    _events(personas)
    out = io.StringIO()
    call_command("baton_audit_verify", stdout=out)
    assert "intact" in out.getvalue()
    assert audit_chain_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE audit_auditevent SET data = \'{"i": 99, "note": "x"}\' WHERE id = %s',
        "UPDATE audit_auditevent SET actor_name = 'mallory' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_a_row_altered_with_raw_sql_is_detected(personas, sql):
    events = _events(personas)
    target = events[2]
    with connection.cursor() as cursor:
        cursor.execute(sql, [target.id])
    report = audit_chain_verify()
    broken = target.id if sql.startswith("UPDATE") else events[3].id
    assert report.broken_id == broken
    with pytest.raises(CommandError, match=f"event id {broken}") as excinfo:
        call_command("baton_audit_verify")
    assert excinfo.value.returncode == 1


@pytest.mark.django_db
def test_the_command_exits_1_from_a_shell(personas):
    events = _events(personas, 2)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [events[0].id])
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "baton_audit_verify"])
    with pytest.raises(SystemExit) as excinfo:
        utility.execute()
    assert excinfo.value.code == 1


@pytest.mark.django_db
def test_audit_api_is_admin_only_filtered_and_paginated(personas, client_for):
    _events(personas, 3)
    audit_record(actor=personas["alice"], action="auth.login")
    admin = client_for("admin")
    body = admin.get("/api/audit/").json()
    assert body["count"] == 4
    assert body["results"][0]["action"] == "auth.login"
    assert set(body["results"][0]) >= {"id", "created_at", "actor", "action", "ip", "data", "hash"}
    assert admin.get("/api/audit/?actor=alice").json()["count"] == 1
    assert admin.get("/api/audit/?action=test.step1").json()["count"] == 1
    assert admin.get("/api/audit/?action=test.").json()["count"] == 3
    assert admin.get("/api/audit/?since=2000-01-01&until=2999-12-31").json()["count"] == 4
    assert admin.get("/api/audit/?until=2000-01-01").json()["count"] == 0
    assert admin.get("/api/audit/?since=2999-01-01T00:00:00Z").json()["count"] == 0
    bad = admin.get("/api/audit/?since=yesterday")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "BAD_REQUEST"
    for who in ("alice", "rey", "vic"):
        for path in ("/api/audit/", "/api/audit/export.csv"):
            response = client_for(who).get(path)
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"


@pytest.mark.django_db
def test_csv_export_has_every_matching_row_and_neutralizes_formulas(personas, client_for):
    _events(personas, 3)
    audit_record(actor=personas["admin"], action='=HYPERLINK("http://evil")')
    response = client_for("admin").get("/api/audit/export.csv?actor=admin")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "actor", "action"]
    assert len(rows) == 5
    assert rows[1][3].startswith("'=")


PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def test_postgresql_trigger_refuses_update_and_delete():
    require_service(port_open("127.0.0.1", 5432), "PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    db_name = f"baton_audit_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin_conn:
        admin_conn.execute(f'CREATE DATABASE "{db_name}"')
    url = f"{PG_SERVER}/{db_name}"
    try:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "BATON_TEST_DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
        }
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        with psycopg.connect(url, autocommit=True) as conn:
            row_id = conn.execute(
                "INSERT INTO audit_auditevent (created_at, actor_name, action, target_type, target_id, data,"
                " prev_hash, hash) VALUES (now(), 'admin', 'test', '', '', '{}', '', 'h') RETURNING id"
            ).fetchone()[0]
            for sql in (
                "UPDATE audit_auditevent SET action = 'forged' WHERE id = %s",
                "UPDATE audit_auditevent SET actor_id = NULL WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s",
            ):
                with pytest.raises(psycopg.Error, match="append-only"):
                    conn.execute(sql, [row_id])
            assert conn.execute("SELECT action FROM audit_auditevent WHERE id = %s", [row_id]).fetchone() == (
                "test",
            )
            # Deleting a user still works: SET_NULL on the actor is the one allowed change.
            user_id = conn.execute(
                "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,"
                " is_staff, is_active, date_joined, role, display_name)"
                " VALUES ('', false, 'gone', '', '', '', false, true, now(), 'viewer', '') RETURNING id"
            ).fetchone()[0]
            event_id = conn.execute(
                "INSERT INTO audit_auditevent (created_at, actor_id, actor_name, action, target_type,"
                " target_id, data, prev_hash, hash)"
                " VALUES (now(), %s, 'gone', 'test', '', '', '{}', 'h', 'h2') RETURNING id",
                [user_id],
            ).fetchone()[0]
            conn.execute("UPDATE audit_auditevent SET actor_id = NULL WHERE id = %s", [event_id])
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute("UPDATE audit_auditevent SET actor_id = %s WHERE id = %s", [user_id, event_id])
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin_conn:
            admin_conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

"""Secrets at rest: MultiFernet tokens in the column, rotation to a new primary key, embedded fallback."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from backend.common import crypto
from backend.connectors.models import Connector

pytestmark = pytest.mark.django_db

CANARY = "canary-7f3a-smtp-password"


def _raw_secret(connector_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM connectors_connector WHERE id = %s", [connector_id])
        return cursor.fetchone()[0]


def test_rotation_to_a_new_primary_key_keeps_every_secret_readable(settings):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.BATON_SECRET_KEYS = [key_a]
    rows = [
        Connector.objects.create(
            name=f"mail {i}",
            kind="smtp",
            config={"host": "smtp.example.com"},
            secret={"password": f"{CANARY}-{i}"},
        )
        for i in range(3)
    ]
    before = {c.id: _raw_secret(c.id) for c in rows}
    assert all(CANARY not in token and crypto.looks_encrypted(token) for token in before.values())

    settings.BATON_SECRET_KEYS = [key_b, key_a]  # B is primary, A still decrypts
    call_command("baton_rotate_keys", stdout=open("/dev/null", "w"))
    after = {c.id: _raw_secret(c.id) for c in rows}
    assert all(after[i] != before[i] for i in after)

    settings.BATON_SECRET_KEYS = [key_b]  # drop A
    for i, connector in enumerate(rows):
        assert Connector.objects.get(id=connector.id).secret == {"password": f"{CANARY}-{i}"}
        assert CANARY not in _raw_secret(connector.id)
    with pytest.raises(InvalidToken):
        Fernet(key_a.encode()).decrypt(after[rows[0].id].encode())


def test_rotation_fails_loudly_when_a_key_is_missing(settings):
    settings.BATON_SECRET_KEYS = [Fernet.generate_key().decode()]
    Connector.objects.create(name="m", kind="smtp", config={"host": "h"}, secret={"password": "x"})
    settings.BATON_SECRET_KEYS = [Fernet.generate_key().decode()]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no configured key opens"):
        call_command("baton_rotate_keys", stdout=open("/dev/null", "w"))


def test_dry_run_writes_nothing(settings):
    settings.BATON_SECRET_KEYS = [Fernet.generate_key().decode()]
    c = Connector.objects.create(name="m", kind="smtp", config={"host": "h"}, secret={"password": "x"})
    raw = _raw_secret(c.id)
    call_command("baton_rotate_keys", "--dry-run", stdout=open("/dev/null", "w"))
    assert _raw_secret(c.id) == raw


def test_embedded_mode_derives_a_stable_key_from_secret_key(settings):
    settings.BATON_SECRET_KEYS = []
    token = crypto.encrypt_str("hello")
    assert crypto.decrypt_str(token) == "hello"
    assert crypto.configured_keys() == (crypto.derive_embedded_key(settings.SECRET_KEY),)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(InvalidToken):
        crypto.decrypt_str(token)


def test_a_malformed_key_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.BATON_SECRET_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="entry #1"):
        crypto.encrypt_str("x")


def test_dumpdata_never_writes_the_plaintext(settings):
    from io import StringIO

    Connector.objects.create(name="m", kind="smtp", config={"host": "h"}, secret={"password": CANARY})
    out = StringIO()
    call_command("dumpdata", "connectors.connector", stdout=out)
    assert CANARY not in out.getvalue()
    assert "gAAAAA" in out.getvalue()

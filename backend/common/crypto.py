"""Secrets at rest: MultiFernet over the keys in ``BATON_SECRET_KEYS`` (first = primary).

Every new token is encrypted with the primary key; any listed key decrypts. Rotation: put a new
key first, run ``manage.py baton_rotate_keys`` (re-encrypts every secret with the primary key),
then drop the old key.

Embedded mode only: without ``BATON_SECRET_KEYS`` one key is derived from ``SECRET_KEY``, so a
laptop install works out of the box. Production settings refuse to start without the variable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

__all__ = [
    "EncryptedJSONField",
    "EncryptedTextField",
    "InvalidToken",
    "decrypt_str",
    "encrypt_str",
    "encrypted_fields",
    "rotate_token",
]

_TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - every Fernet token (version byte 0x80) starts so in urlsafe base64


def derive_embedded_key(secret_key: str) -> str:
    """A stable Fernet key from ``SECRET_KEY``: embedded mode only (changing SECRET_KEY loses secrets)."""
    digest = hashlib.sha256(b"baton-secrets-v1:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in getattr(settings, "BATON_SECRET_KEYS", []) if k.strip())
    return keys or (derive_embedded_key(settings.SECRET_KEY),)


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"BATON_SECRET_KEYS entry #{index + 1} is not a Fernet key (32 url-safe base64 bytes). "
                "Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from exc
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    return _multi_fernet(configured_keys())


def encrypt_str(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt_str(token: str) -> str:
    """Raises ``InvalidToken`` when no configured key opens the token."""
    return fernet().decrypt(token.encode()).decode()


def rotate_token(token: str) -> str:
    """Re-encrypt a token with the primary key (``MultiFernet.rotate``)."""
    return fernet().rotate(token.encode()).decode()


def looks_encrypted(value: str) -> bool:
    return value.startswith(_TOKEN_PREFIX)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column that holds a Fernet token; Python code only ever sees the plaintext.

    Not searchable (tokens are randomized) and never serialized in plaintext: ``dumpdata``
    writes the token, ``loaddata`` reads it back.
    """

    description = "Text encrypted at rest with BATON_SECRET_KEYS"
    if TYPE_CHECKING:  # what django-stubs reads as the Python-side type
        _pyi_private_set_type: Any
        _pyi_private_get_type: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def _to_plain(self, value: Any) -> Any:
        return value

    def _from_plain(self, value: Any) -> str:
        return str(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._to_plain(decrypt_str(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and looks_encrypted(value):
            try:
                return self._to_plain(decrypt_str(value))
            except InvalidToken:
                pass
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt_str(self._from_plain(value))

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else encrypt_str(self._from_plain(value))


class EncryptedJSONField(EncryptedTextField):
    """JSON (a dict of secret values) encrypted as one token."""

    description = "JSON encrypted at rest with BATON_SECRET_KEYS"

    def _to_plain(self, value: Any) -> Any:
        return json.loads(value)

    def _from_plain(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            if looks_encrypted(value):
                return super().to_python(value)
            return json.loads(value)
        return value


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete encrypted column of every installed model."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field

"""Personal API tokens: ``Authorization: Bearer bat_<40 random characters>``.

Only the sha256 hex digest of a token is stored; a request is authenticated by looking the
digest up (an indexed equality on a hash, so no timing oracle on the secret itself). Token
requests carry no cookie, so they are not subject to CSRF checks.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from backend.accounts.models import ApiToken, User

TOKEN_PREFIX = "bat_"  # noqa: S105 - a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most once a minute per token."""


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2 or not header[1].startswith(TOKEN_PREFIX.encode()):
            return None  # not a Baton token (e.g. a bearer sent to a webhook): not ours to judge
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API token.") from None
        if len(raw) > 100:
            raise exceptions.AuthenticationFailed("Invalid API token.")
        token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid API token.")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API token has been revoked.")
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API token has expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API token is deactivated.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "ApiTokenAuthentication()"


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents the bearer token in the OpenAPI schema."""

    target_class = "backend.accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Personal API token `bat_...`."}

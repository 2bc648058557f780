"""django-axes lockout response in the API's error shape (``AXES_LOCKOUT_CALLABLE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from backend.common.errors import error_body

LOCKED_OUT = "LOCKED_OUT"


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, lockout_seconds() // 60)
    return f"Too many failed sign-ins for this account from your address. Try again in {minutes} minutes."


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> JsonResponse:
    """429 ``LOCKED_OUT`` for the login API and the Django admin login alike."""
    seconds = lockout_seconds()
    response = JsonResponse(
        error_body(LOCKED_OUT, lockout_message(), {"retry_after_seconds": seconds}), status=429
    )
    response["Retry-After"] = str(seconds)
    return response

"""Helpers shared by the thin API views."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User


def paginated(view: APIView, request: Request, items: Any, serialize: Any) -> Response:
    """Paginate a queryset or list and serialize one page with ``serialize(obj) -> dict``."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    assert page is not None
    return paginator.get_paginated_response([serialize(obj) for obj in page])


def request_user(request: Request) -> User:
    """The signed-in user of a view that requires authentication (every API view but a few)."""
    assert isinstance(request.user, User)
    return request.user


def client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")

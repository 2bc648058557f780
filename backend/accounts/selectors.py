from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from backend.accounts.models import ApiToken, User
from backend.common.errors import Forbidden, NotFound


def user_to_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name or user.get_full_name() or user.username,
        "role": "admin" if user.is_admin else user.role,
        "is_admin": user.is_admin,
        "queues": sorted(user.queues.values_list("name", flat=True)),
    }


def user_admin_dict(user: User) -> dict[str, Any]:
    """A user as the admin pages show it."""
    now = timezone.now()
    return {
        **user_to_dict(user),
        "email": user.email,
        "is_active": user.is_active,
        "invitation_pending": user.invitations.filter(accepted_at__isnull=True, expires_at__gt=now).exists(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "date_joined": user.date_joined.isoformat(),
    }


def user_check_admin(*, user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only admins manage users.")


def user_list_for_admin(*, user: User) -> QuerySet[User]:
    user_check_admin(user=user)
    return User.objects.order_by("username").prefetch_related("queues")


def user_get_for_admin(*, user_id: Any, user: User) -> User:
    user_check_admin(user=user)
    try:
        return User.objects.get(id=int(user_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("User not found.") from None


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_for_user(*, token_id: Any, user: User) -> ApiToken:
    try:
        return ApiToken.objects.get(id=int(token_id), user=user)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise NotFound("API token not found.") from None


def api_token_to_dict(token: ApiToken) -> dict[str, Any]:
    """Never the secret: only its first 8 characters."""
    now = timezone.now()
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "active": token.revoked_at is None and token.expires_at > now,
    }

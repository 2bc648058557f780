from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from backend.accounts.authentication import TOKEN_PREFIX, token_hash
from backend.accounts.models import ApiToken, Invitation, User
from backend.approvals.models import Queue
from backend.audit.services import audit_record
from backend.common.errors import ApiError, Conflict

INVITATION_TTL = timedelta(days=7)
TOKEN_MAX_TTL = timedelta(days=365)
INVITATION_INVALID = "INVITATION_INVALID"


@transaction.atomic
def user_upsert(*, username: str, password: str, role: str, display_name: str = "", email: str = "") -> User:
    """Create the user or reset its role and password (used by the demo data command)."""
    user, _ = User.objects.get_or_create(username=username)
    user.role = role
    user.display_name = display_name
    user.email = email
    user.is_staff = role == User.Role.ADMIN
    user.is_superuser = role == User.Role.ADMIN
    user.set_password(password)
    user.save()
    return user


def _check_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApiError(
            "The password is too weak.",
            code="PASSWORD_INVALID",
            details=[{"field": "password", "message": m} for m in exc.messages],
        ) from None


def _set_role(user: User, role: str) -> None:
    user.role = role
    user.is_staff = role == User.Role.ADMIN
    user.is_superuser = role == User.Role.ADMIN


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit log records before/after a change (never a password)."""
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "role": "admin" if user.is_admin else user.role,
        "is_active": user.is_active,
        "queues": sorted(user.queues.values_list("name", flat=True)),
    }


def _queues_by_name(names: list[str]) -> list[Queue]:
    queues = list(Queue.objects.filter(name__in=names))
    missing = sorted(set(names) - {q.name for q in queues})
    if missing:
        raise ApiError(
            "Unknown queue.",
            code="QUEUE_NOT_FOUND",
            details=[{"field": "queues", "message": f"No queue named {name!r}."} for name in missing],
        )
    return queues


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    email: str = "",
    display_name: str = "",
    role: str,
    password: str | None = None,
    queues: list[str] | None = None,
    request: Any = None,
) -> tuple[User, str | None]:
    """Create a user. Without a password the user is inactive and gets an invitation.

    Returns the user and, for an invitation, the one-time raw token (never stored).
    """
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", code="USERNAME_TAKEN")
    user = User(username=username, email=email, display_name=display_name)
    _set_role(user, role)
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
        user.is_active = False
    user.save()
    if queues:
        user.queues.set(_queues_by_name(queues))
    raw: str | None = None
    if not password:
        raw = secrets.token_urlsafe(32)
        Invitation.objects.create(
            user=user,
            token_hash=token_hash(raw),
            expires_at=timezone.now() + INVITATION_TTL,
            created_by=actor,
        )
    audit_record(
        actor=actor,
        action="user.create",
        request=request,
        target=user,
        data={"after": user_snapshot(user), "invited": raw is not None},
    )
    return user, raw


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    role: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    is_active: bool | None = None,
    queues: list[str] | None = None,
    request: Any = None,
) -> User:
    if user.pk == actor.pk and (
        (is_active is False) or (role is not None and role != User.Role.ADMIN and actor.is_admin)
    ):
        raise ApiError("You cannot deactivate or demote yourself.", code="CANNOT_CHANGE_SELF")
    before = user_snapshot(user)
    if role is not None:
        _set_role(user, role)
    if display_name is not None:
        user.display_name = display_name
    if email is not None:
        user.email = email
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            # A deactivated user must not come back through an old invitation link.
            Invitation.objects.filter(user=user, accepted_at__isnull=True).update(expires_at=timezone.now())
    user.save()
    if queues is not None:
        user.queues.set(_queues_by_name(queues))
    after = user_snapshot(user)
    if after != before:
        audit_record(
            actor=actor,
            action="user.update",
            request=request,
            target=user,
            data={"before": before, "after": after},
        )
    return user


@transaction.atomic
def invitation_accept(*, token: str, password: str, request: Any = None) -> User:
    """Set the invited user's password and activate them; 400 INVITATION_INVALID otherwise."""
    invalid = ApiError("This invitation link is invalid or has expired.", code=INVITATION_INVALID)
    if not token:
        raise invalid
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
        raise invalid
    user = invitation.user
    _check_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(actor=user, action="user.invitation_accept", request=request, target=user)
    return user


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_at: datetime, request: Any = None
) -> tuple[ApiToken, str]:
    """Create a personal API token; returns it and the raw secret (shown once, never stored)."""
    now = timezone.now()
    if expires_at <= now or expires_at > now + TOKEN_MAX_TTL:
        raise ApiError(
            "expires_at must be in the future and at most 365 days away.",
            code="TOKEN_EXPIRY_INVALID",
            details=[{"field": "expires_at", "message": "Between now and 365 days from now."}],
        )
    raw = TOKEN_PREFIX + secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:8], token_hash=token_hash(raw), expires_at=expires_at
    )
    audit_record(
        actor=user,
        action="api_token.create",
        request=request,
        target=token,
        data={"name": name, "prefix": token.prefix, "expires_at": expires_at.isoformat()},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User, request: Any = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            request=request,
            target=token,
            data={"name": token.name, "prefix": token.prefix},
        )
    return token

from __future__ import annotations

from django.db import transaction

from backend.accounts.models import User


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

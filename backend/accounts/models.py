from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        BUILDER = "builder", "Builder"
        REVIEWER = "reviewer", "Reviewer"
        VIEWER = "viewer", "Viewer"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    display_name = models.CharField(max_length=150, blank=True)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def can_build(self) -> bool:
        return self.is_admin or self.role == self.Role.BUILDER

    def __str__(self) -> str:
        return self.username

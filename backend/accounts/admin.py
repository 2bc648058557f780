from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from backend.accounts.models import User


@admin.register(User)
class BatonUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "is_active", "is_superuser")
    fieldsets = (*UserAdmin.fieldsets, ("Baton", {"fields": ("role", "display_name")}))  # type: ignore[misc]

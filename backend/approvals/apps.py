from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "backend.approvals"
    label = "approvals"

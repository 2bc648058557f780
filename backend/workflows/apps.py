from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "backend.workflows"
    label = "workflows"

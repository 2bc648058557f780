from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "backend.memory"
    label = "memory"
    verbose_name = "Conversation memory"

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "backend.gateway"
    label = "gateway"
    verbose_name = "LLM gateway"

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "backend.connectors"
    label = "connectors"

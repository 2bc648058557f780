"""Routes of the model catalog admin (included under ``/api/``)."""

from django.urls import path

from backend.gateway import api

urlpatterns = [
    path("model-overrides/", api.ModelOverrideApi.as_view(), name="model-overrides"),
]

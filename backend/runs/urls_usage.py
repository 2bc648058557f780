"""Routes of the model catalog and the usage report (included under ``/api/``)."""

from django.urls import path

from backend.runs import api_usage

urlpatterns = [
    path("models/", api_usage.ModelListApi.as_view(), name="model-list"),
    path("usage/", api_usage.UsageApi.as_view(), name="usage"),
]

"""Workflow sharing routes; included under /api/."""

from django.urls import path

from backend.workflows import api_sharing

urlpatterns = [
    path(
        "workflows/<int:workflow_id>/shares/",
        api_sharing.WorkflowShareListApi.as_view(),
        name="workflow-share-list",
    ),
    path(
        "workflows/<int:workflow_id>/shares/<int:share_id>/",
        api_sharing.WorkflowShareDetailApi.as_view(),
        name="workflow-share-detail",
    ),
]

"""Routes for webhooks and re-runs, included under ``/api/`` by backend/config/urls.py."""

from django.urls import path

from backend.runs import api_test_node, api_triggers

urlpatterns = [
    path("hooks/<str:token>/", api_triggers.WebhookDeliverApi.as_view(), name="webhook-deliver"),
    path(
        "workflows/<int:workflow_id>/webhook/",
        api_triggers.WorkflowWebhookApi.as_view(),
        name="workflow-webhook",
    ),
    path(
        "workflows/<int:workflow_id>/webhook/rotate/",
        api_triggers.WorkflowWebhookRotateApi.as_view(),
        name="workflow-webhook-rotate",
    ),
    path("runs/<int:run_id>/rerun/", api_triggers.RunRerunApi.as_view(), name="run-rerun"),
    path(
        "workflows/<int:workflow_id>/nodes/<str:node_id>/test/",
        api_test_node.WorkflowNodeTestApi.as_view(),
        name="workflow-node-test",
    ),
]

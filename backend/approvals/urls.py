"""Routes of the review inbox and its queues, included under ``/api/`` by backend/config/urls.py."""

from django.urls import path

from backend.approvals import api

urlpatterns = [
    path("approvals/", api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/stats/", api.ApprovalStatsApi.as_view(), name="approval-stats"),
    path("approvals/<int:approval_id>/", api.ApprovalDetailApi.as_view(), name="approval-detail"),
    path("approvals/<int:approval_id>/claim/", api.ApprovalClaimApi.as_view(), name="approval-claim"),
    path("approvals/<int:approval_id>/release/", api.ApprovalReleaseApi.as_view(), name="approval-release"),
    path(
        "approvals/<int:approval_id>/decision/", api.ApprovalDecisionApi.as_view(), name="approval-decision"
    ),
    path("queues/", api.QueueListApi.as_view(), name="queue-list"),
    path("queues/<int:queue_id>/", api.QueueDetailApi.as_view(), name="queue-detail"),
    path(
        "workflows/<int:workflow_id>/nodes/<str:node_id>/examples/",
        api.NodeExamplesApi.as_view(),
        name="workflow-node-examples",
    ),
]

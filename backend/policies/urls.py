from django.urls import path

from backend.policies import api

urlpatterns = [
    path("policies/global/", api.GlobalPolicyApi.as_view(), name="policy-global"),
    path("policies/workflows/", api.WorkflowPolicyListApi.as_view(), name="policy-workflow-list"),
    path("workflows/<int:workflow_id>/policy/", api.WorkflowPolicyApi.as_view(), name="workflow-policy"),
]

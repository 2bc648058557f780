"""Routes for versions, reviews, expression preview, export/import and templates (under /api/)."""

from django.urls import path

from backend.workflows import api_reviews
from backend.workflows import api_versions as api

urlpatterns = [
    path(
        "workflows/<int:workflow_id>/versions/<int:number>/",
        api.WorkflowVersionDetailApi.as_view(),
        name="workflow-version-detail",
    ),
    path(
        "workflows/<int:workflow_id>/versions/<int:number>/diff/",
        api.WorkflowVersionDiffApi.as_view(),
        name="workflow-version-diff",
    ),
    path(
        "workflows/<int:workflow_id>/versions/<int:number>/rollback/",
        api.WorkflowVersionRollbackApi.as_view(),
        name="workflow-version-rollback",
    ),
    path("workflows/<int:workflow_id>/export/", api.WorkflowExportApi.as_view(), name="workflow-export"),
    path("workflows/import/", api.WorkflowImportApi.as_view(), name="workflow-import"),
    path(
        "workflows/<int:workflow_id>/expressions/preview/",
        api_reviews.ExpressionPreviewApi.as_view(),
        name="workflow-expression-preview",
    ),
    path("version-reviews/", api_reviews.VersionReviewListApi.as_view(), name="version-review-list"),
    path(
        "version-reviews/<int:review_id>/",
        api_reviews.VersionReviewDetailApi.as_view(),
        name="version-review-detail",
    ),
    path(
        "version-reviews/<int:review_id>/decision/",
        api_reviews.VersionReviewDecisionApi.as_view(),
        name="version-review-decision",
    ),
    path("templates/", api.TemplateListApi.as_view(), name="template-list"),
    path("templates/<str:key>/use/", api.TemplateUseApi.as_view(), name="template-use"),
]

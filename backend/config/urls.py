from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.accounts import api as accounts_api
from backend.approvals.views import inbox_item_page
from backend.audit import api as audit_api
from backend.common.views import HealthApi, api_bad_request, api_not_found, api_server_error, spa_index
from backend.connectors import api as connectors_api
from backend.runs import api as runs_api
from backend.workflows import api as workflows_api
from backend.workflows import urls_versions as versions_urls

api_patterns: list[URLPattern | URLResolver] = [
    path("health/", HealthApi.as_view(), name="health"),
    path("auth/csrf/", accounts_api.CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login/", accounts_api.LoginApi.as_view(), name="auth-login"),
    path("auth/token/", accounts_api.LoginApi.as_view(), name="auth-token"),
    path("auth/logout/", accounts_api.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", accounts_api.MeApi.as_view(), name="auth-me"),
    path("node-types/", workflows_api.NodeTypeListApi.as_view(), name="node-types"),
    path("workflows/", workflows_api.WorkflowListApi.as_view(), name="workflow-list"),
    path("workflows/<int:workflow_id>/", workflows_api.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path(
        "workflows/<int:workflow_id>/validate/",
        workflows_api.WorkflowValidateApi.as_view(),
        name="workflow-validate",
    ),
    path(
        "workflows/<int:workflow_id>/publish/",
        workflows_api.WorkflowPublishApi.as_view(),
        name="workflow-publish",
    ),
    path(
        "workflows/<int:workflow_id>/versions/",
        workflows_api.WorkflowVersionListApi.as_view(),
        name="workflow-versions",
    ),
    path("workflows/<int:workflow_id>/runs/", runs_api.RunStartApi.as_view(), name="workflow-run-start"),
    path("runs/", runs_api.RunListApi.as_view(), name="run-list"),
    path("runs/<int:run_id>/", runs_api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/cancel/", runs_api.RunCancelApi.as_view(), name="run-cancel"),
    path("", include("backend.approvals.urls")),
    path("outbox/", connectors_api.OutboxListApi.as_view(), name="outbox-list"),
    path("connectors/", connectors_api.ConnectorListApi.as_view(), name="connector-list"),
    path("connectors/kinds/", connectors_api.ConnectorKindListApi.as_view(), name="connector-kinds"),
    path(
        "connectors/<int:connector_id>/",
        connectors_api.ConnectorDetailApi.as_view(),
        name="connector-detail",
    ),
    path(
        "connectors/<int:connector_id>/test/",
        connectors_api.ConnectorTestApi.as_view(),
        name="connector-test",
    ),
    path("", include("backend.runs.urls_usage")),
    path("audit/", audit_api.AuditListApi.as_view(), name="audit-list"),
    path("audit/export.csv", audit_api.AuditExportApi.as_view(), name="audit-export"),
    *versions_urls.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("backend.accounts.urls")),
    path("", include("backend.workflows.urls_sharing")),
    path("", include("backend.runs.urls_triggers")),
    path("", include("backend.policies.urls")),
    path("", include("backend.gateway.urls")),
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("django-admin/", admin.site.urls),  # /admin/... belongs to the app's admin pages
    path("inbox/<int:approval_id>", inbox_item_page, name="inbox-item"),
    path("inbox/<int:approval_id>/", inbox_item_page),
    re_path(r"^(?!api/|django-admin/|static/|ws/).*$", spa_index, name="spa"),
]

handler400 = api_bad_request
handler500 = api_server_error

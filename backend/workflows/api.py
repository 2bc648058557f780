from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated, request_user
from backend.common.engine import registry
from backend.common.errors import Forbidden
from backend.common.schema import PAGE_PARAMETER, AnySerializer, error_responses
from backend.common.schema import paginated as paginated_of
from backend.policies.checks import policy_document_problems
from backend.workflows import services
from backend.workflows.models import VersionReview, Workflow, WorkflowVersion
from backend.workflows.selectors import (
    workflow_get_for_user,
    workflow_list_for_user,
    workflow_permission,
    workflow_published_number,
)
from orchestrator_core import trigger_fields
from orchestrator_core.nodes.settings import settings_schema

# --- Response shapes (documentation only: the views return the dicts built below) -------------


class PortSerializer(AnySerializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class NodeTypeSerializer(AnySerializer):
    key = serializers.CharField(help_text="e.g. `llm.prompt`")
    version = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.CharField(help_text="Palette group: Triggers, AI, Logic, Data, Human, Actions.")
    icon = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    is_trigger = serializers.BooleanField()
    side_effect = serializers.BooleanField(help_text="True when the node acts on the world (email, ...).")
    inputs = PortSerializer(many=True)
    outputs = PortSerializer(many=True)
    config_schema = serializers.JSONField(
        help_text='JSON Schema of the node config; properties may carry `"ui": {"widget": ...}`.'
    )


class NodeTypeListSerializer(AnySerializer):
    results = NodeTypeSerializer(many=True)
    settings_schema = serializers.JSONField(
        help_text=(
            "JSON Schema of the per-node `settings` object every node type accepts "
            "(`retry`, `timeout_seconds`, `on_error`)."
        )
    )


class IssueSerializer(AnySerializer):
    code = serializers.CharField(help_text="e.g. `GRAPH_CYCLE`, `NODE_CONFIG_INVALID`.")
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)
    edge_id = serializers.CharField(allow_null=True)


class TriggerFieldSerializer(AnySerializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.CharField(help_text="`string`, `text`, `number` or `boolean`.")
    required = serializers.BooleanField()  # type: ignore[assignment]


class WorkflowSummarySerializer(AnySerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    revision = serializers.IntegerField(help_text="Draft revision; send it back on PATCH.")
    published_version = serializers.IntegerField(
        allow_null=True, help_text="Number of the published version."
    )
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(allow_null=True, help_text="Username.")
    owner = serializers.CharField(
        allow_null=True, help_text="Username; only the owner or an admin may delete."
    )


class WorkflowDetailSerializer(WorkflowSummarySerializer):
    document = serializers.JSONField(help_text="The draft document `{schema_version, nodes, edges}`.")
    can_edit = serializers.BooleanField()
    can_run = serializers.BooleanField()
    trigger_fields = TriggerFieldSerializer(many=True, help_text="The run form (manual trigger fields).")


class WorkflowUpdatedSerializer(WorkflowDetailSerializer):
    issues = IssueSerializer(many=True, help_text="Validation problems of the saved draft.")


class ValidationResultSerializer(AnySerializer):
    valid = serializers.BooleanField()
    issues = IssueSerializer(many=True)


class VersionReviewBriefSerializer(AnySerializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="`pending`, `approved`, `rejected` or `superseded`.")


class VersionSerializer(AnySerializer):
    number = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True)
    published = serializers.BooleanField(help_text="False for snapshots frozen by draft runs.")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True, help_text="Username.")
    review = VersionReviewBriefSerializer(
        allow_null=True, help_text="Set when the version went through (or waits for) a publish review."
    )


def workflow_summary(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "revision": workflow.revision,
        "published_version": workflow_published_number(workflow=workflow),
        "updated_at": workflow.updated_at.isoformat(),
        "updated_by": workflow.updated_by.username if workflow.updated_by else None,
        "owner": workflow.owner.username if workflow.owner_id else None,
    }


def workflow_detail(workflow: Workflow, user: User) -> dict[str, Any]:
    perm = workflow_permission(workflow=workflow, user=user)
    return {
        **workflow_summary(workflow),
        "document": workflow.draft,
        "can_edit": perm == "edit",
        "can_run": perm in ("edit", "run"),
        "trigger_fields": trigger_fields(workflow.draft),
    }


def version_to_dict(version: WorkflowVersion) -> dict[str, Any]:
    try:
        review: VersionReview | None = version.review
    except VersionReview.DoesNotExist:
        review = None
    return {
        "number": version.number,
        "note": version.note,
        "published": version.published,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by.username if version.created_by else None,
        "review": {"id": review.id, "status": review.status} if review is not None else None,
    }


class NodeTypeListApi(APIView):
    @extend_schema(
        summary="List node types",
        operation_id="node_types_list",
        responses={200: NodeTypeListSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": registry().describe(), "settings_schema": settings_schema()})


class WorkflowListApi(APIView):
    @extend_schema_serializer(component_name="WorkflowCreate")
    class InputSerializer(AnySerializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        document = serializers.JSONField(required=False)

    @extend_schema(
        summary="List workflows",
        operation_id="workflows_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(WorkflowSummarySerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        return paginated(self, request, workflow_list_for_user(user=request_user(request)), workflow_summary)

    @extend_schema(
        summary="Create a workflow",
        description="Builders and admins only.",
        request=InputSerializer,
        responses={201: WorkflowDetailSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        if not user.can_build:
            raise Forbidden("Only builders and admins create workflows.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = services.workflow_create(user=user, **data.validated_data)
        return Response(workflow_detail(workflow, user), status=201)


class WorkflowDetailApi(APIView):
    @extend_schema_serializer(component_name="WorkflowUpdate")
    class InputSerializer(AnySerializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        document = serializers.JSONField(required=False)
        revision = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(
        summary="Get a workflow",
        operation_id="workflows_retrieve",
        responses={200: WorkflowDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user)
        return Response(workflow_detail(workflow, user))

    @extend_schema(
        summary="Save the draft",
        description=(
            "Saves the draft even when it has validation problems (returned in `issues`); only a "
            "structurally malformed document is refused (400 `WORKFLOW_INVALID`). Send the `revision` "
            "you edited: a stale one is refused with 409 `STALE_REVISION`, "
            "`details: {current_revision, updated_by, updated_at}`."
        ),
        request=InputSerializer,
        responses={
            200: WorkflowUpdatedSerializer,
            **error_responses(400, 401, 403, 404, 409, e409="Stale edit (`STALE_REVISION`)."),
        },
    )
    def patch(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = services.workflow_update(
            workflow=workflow,
            user=user,
            revision=data.validated_data.get("revision"),
            name=data.validated_data.get("name"),
            description=data.validated_data.get("description"),
            document=data.validated_data.get("document"),
        )
        issues = [i.as_dict() for i in services.document_issues(workflow.draft, workflow)]
        return Response({**workflow_detail(workflow, user), "issues": issues})

    @extend_schema(
        summary="Delete a workflow",
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(
                401, 403, 404, 409, e409="WORKFLOW_IN_USE: running or published workflows call it."
            ),
        },
    )
    def delete(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        if not (user.is_admin or workflow.owner_id == user.id):  # a share never deletes the original
            raise Forbidden("Only the workflow's owner or an admin may delete it.", code="NOT_OWNER")
        services.workflow_delete(workflow=workflow, user=user)
        return Response(status=204)


class WorkflowValidateApi(APIView):
    @extend_schema_serializer(component_name="WorkflowValidate")
    class InputSerializer(AnySerializer):
        document = serializers.JSONField(required=False)

    @extend_schema(
        summary="Validate a document",
        description="Validates `document`, or the saved draft when it is omitted.",
        request=InputSerializer,
        responses={200: ValidationResultSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = data.validated_data.get("document", workflow.draft)
        issues = [i.as_dict() for i in services.document_issues(document, workflow)]
        issues += policy_document_problems(workflow=workflow, document=document)
        return Response({"valid": not issues, "issues": issues})


class WorkflowPublishApi(APIView):
    @extend_schema_serializer(component_name="WorkflowPublish")
    class InputSerializer(AnySerializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    @extend_schema(
        summary="Publish the draft",
        description=(
            "Freezes the draft as a new published version. 400 `WORKFLOW_INVALID` (with the issues). "
            "When the workflow's policy requires a publish review, the version is stored unpublished "
            "and `review` is `{id, status: pending}`: another builder approves it in the review inbox."
        ),
        request=InputSerializer,
        responses={201: VersionSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.workflow_publish(workflow=workflow, user=user, note=data.validated_data["note"])
        return Response(version_to_dict(version), status=201)


class WorkflowVersionListApi(APIView):
    @extend_schema(
        summary="List versions of a workflow",
        description="Newest first.",
        operation_id="workflows_versions_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(VersionSerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request))
        versions = workflow.versions.select_related("created_by", "review").order_by("-number")
        return paginated(self, request, versions, version_to_dict)

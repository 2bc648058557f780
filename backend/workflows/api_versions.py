"""Versions (document, diff, rollback), export/import and the templates gallery."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.errors import ApiError, Forbidden
from backend.common.schema import AnySerializer, error_responses
from backend.workflows import templates, versions
from backend.workflows.api import (
    VersionSerializer,
    WorkflowDetailSerializer,
    version_to_dict,
    workflow_detail,
)
from backend.workflows.selectors import workflow_get_for_user

# --- Response shapes (documentation only) -------------------------------------------------------


class VersionDocumentSerializer(VersionSerializer):
    document = serializers.JSONField(help_text="The frozen document `{schema_version, nodes, edges}`.")


class DiffFieldSerializer(AnySerializer):
    path = serializers.CharField(help_text="Dotted path, e.g. `config.prompt`, `label`, `position.x`.")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class DiffNodeSerializer(AnySerializer):
    id = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class DiffChangedNodeSerializer(DiffNodeSerializer):
    fields = DiffFieldSerializer(many=True)  # type: ignore[assignment]


class DiffEdgeSerializer(AnySerializer):
    id = serializers.CharField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    source_port = serializers.CharField()
    target = serializers.CharField()
    target_port = serializers.CharField()


class DiffNodesSerializer(AnySerializer):
    added = DiffNodeSerializer(many=True)
    removed = DiffNodeSerializer(many=True)
    changed = DiffChangedNodeSerializer(many=True)


class DiffEdgesSerializer(AnySerializer):
    added = DiffEdgeSerializer(many=True)
    removed = DiffEdgeSerializer(many=True)


class VersionDiffSerializer(AnySerializer):
    nodes = DiffNodesSerializer()
    edges = DiffEdgesSerializer()


class WorkflowExportSerializer(AnySerializer):
    format = serializers.CharField(help_text="Always `baton.workflow`.")
    format_version = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    document = serializers.JSONField()


class TemplateSerializer(AnySerializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    node_count = serializers.IntegerField()


class TemplateListSerializer(AnySerializer):
    results = TemplateSerializer(many=True)


# --- Views --------------------------------------------------------------------------------------


class WorkflowVersionDetailApi(APIView):
    @extend_schema(
        summary="Get a version's document",
        operation_id="workflows_versions_retrieve",
        responses={200: VersionDocumentSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, workflow_id: int, number: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request))
        version = versions.workflow_version_get(workflow=workflow, number=number)
        return Response({**version_to_dict(version), "document": version.document})


class WorkflowVersionDiffApi(APIView):
    @extend_schema(
        summary="Compare a version with another version or the draft",
        description=(
            "What changed from version `n` to `against` (a version number or `draft`; default "
            "`draft`). Nodes match by id, edges by connection; config fields are flattened to "
            "dotted paths. Positions are left out unless `positions=1`."
        ),
        parameters=[
            OpenApiParameter("against", OpenApiTypes.STR, description="Version number or `draft`."),
            OpenApiParameter("positions", OpenApiTypes.BOOL, description="Also compare node positions."),
        ],
        responses={200: VersionDiffSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, workflow_id: int, number: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request))
        before = versions.workflow_document_at(workflow=workflow, ref=str(number))
        after = versions.workflow_document_at(
            workflow=workflow, ref=request.query_params.get("against", versions.DRAFT)
        )
        positions = request.query_params.get("positions", "") in ("1", "true", "yes")
        return Response(versions.document_diff(before, after, positions=positions))


class WorkflowVersionRollbackApi(APIView):
    @extend_schema_serializer(component_name="WorkflowRollback")
    class InputSerializer(AnySerializer):
        revision = serializers.IntegerField(
            required=False, min_value=1, help_text="The draft revision you loaded (409 if stale)."
        )

    @extend_schema(
        summary="Restore a version as the draft",
        description="The version's document becomes the draft (a new revision). Audited `workflow.rollback`.",
        request=InputSerializer,
        responses={
            200: WorkflowDetailSerializer,
            **error_responses(400, 401, 403, 404, 409, e409="Stale edit (`STALE_REVISION`)."),
        },
    )
    def post(self, request: Request, workflow_id: int, number: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        version = versions.workflow_version_get(workflow=workflow, number=number)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = versions.workflow_rollback(
            workflow=workflow, version=version, user=user, revision=data.validated_data.get("revision")
        )
        return Response(workflow_detail(workflow, user))


class WorkflowExportApi(APIView):
    @extend_schema(
        summary="Export a workflow",
        description="The draft with its name and description, as a JSON file download.",
        responses={200: WorkflowExportSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> HttpResponse:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request))
        body = json.dumps(versions.workflow_export(workflow=workflow), indent=2, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json")
        filename = f"{slugify(workflow.name) or 'workflow'}.baton.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class WorkflowImportApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="WorkflowImport")
    class InputSerializer(AnySerializer):
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        document = serializers.JSONField(
            required=False, help_text="An exported workflow, or a bare `{schema_version, nodes, edges}`."
        )
        file = serializers.FileField(required=False, help_text="Multipart: the exported JSON file.")

    @extend_schema(
        summary="Import a workflow",
        description=(
            "Creates a new workflow owned by you from `document` (JSON body) or `file` (multipart). "
            "Node ids are kept; unknown top-level keys are dropped. Malformed → 400 `WORKFLOW_INVALID`."
        ),
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={201: WorkflowDetailSerializer, **error_responses(400, 401, 403, 413)},
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        if not user.can_build:
            raise Forbidden("Only builders and admins create workflows.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        raw: Any
        if upload is not None:
            if upload.size > 2_000_000:
                raise ApiError("The file is larger than 2 MB.", code="PAYLOAD_TOO_LARGE", status_code=413)
            raw = upload.read()
        elif "document" in data.validated_data:
            raw = data.validated_data["document"]
        else:
            raise ApiError("Send 'document' or 'file'.", code="WORKFLOW_INVALID")
        workflow = versions.workflow_import(user=user, raw=raw, name=data.validated_data.get("name"))
        return Response(workflow_detail(workflow, user), status=201)


class TemplateListApi(APIView):
    @extend_schema(
        summary="List workflow templates",
        operation_id="templates_list",
        responses={200: TemplateListSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"results": [templates.template_summary(t) for t in templates.template_all().values()]}
        )


class TemplateUseApi(APIView):
    @extend_schema_serializer(component_name="TemplateUse")
    class InputSerializer(AnySerializer):
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)

    @extend_schema(
        summary="Create a workflow from a template",
        description="Builders and admins only; the new workflow is yours.",
        request=InputSerializer,
        responses={201: WorkflowDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, key: str) -> Response:
        user = request_user(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = templates.template_use(user=user, key=key, name=data.validated_data.get("name"))
        return Response(workflow_detail(workflow, user), status=201)

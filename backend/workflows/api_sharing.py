"""Per-workflow sharing: /api/workflows/{id}/shares/ (users with edit permission, and admins)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.errors import NotFound
from backend.common.schema import AnySerializer, error_responses
from backend.workflows.models import WorkflowShare
from backend.workflows.selectors import workflow_get_for_user
from backend.workflows.sharing import share_to_dict, workflow_share_delete, workflow_share_upsert

_PERMISSIONS = [p.value for p in WorkflowShare.Permission]


class WorkflowShareSerializer(AnySerializer):
    id = serializers.IntegerField()
    user = serializers.CharField(allow_null=True, help_text="Username, for a user share.")
    queue = serializers.CharField(allow_null=True, help_text="Queue name, for a group share.")
    permission = serializers.ChoiceField(choices=_PERMISSIONS)
    created_at = serializers.DateTimeField(allow_null=True)


class WorkflowShareListSerializer(AnySerializer):
    results = WorkflowShareSerializer(many=True)


class WorkflowShareListApi(APIView):
    @extend_schema_serializer(component_name="WorkflowShareWrite")
    class InputSerializer(AnySerializer):
        username = serializers.CharField(required=False, allow_blank=True, max_length=150)
        queue = serializers.CharField(required=False, allow_blank=True, max_length=100)
        permission = serializers.ChoiceField(choices=_PERMISSIONS)

    @extend_schema(
        summary="List the shares of a workflow",
        description="Users with edit permission on the workflow, and admins.",
        operation_id="workflows_shares_list",
        responses={200: WorkflowShareListSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request), need="edit")
        shares = workflow.shares.select_related("user", "queue").order_by("id")
        return Response({"results": [share_to_dict(s) for s in shares]})

    @extend_schema(
        summary="Share a workflow",
        description=(
            "Give exactly one of `username` or `queue` (every member of the queue gets the "
            "permission). Sharing again changes the permission (200). `edit` given to a reviewer or "
            "viewer works as `run`. `400 SHARE_TARGET_INVALID`, `400 SHARE_TARGET_NOT_FOUND`."
        ),
        request=InputSerializer,
        responses={
            201: WorkflowShareSerializer,
            200: OpenApiResponse(WorkflowShareSerializer, description="An existing share was changed."),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        share, created = workflow_share_upsert(
            workflow=workflow,
            actor=user,
            request=request,
            permission=data.validated_data["permission"],
            username=data.validated_data.get("username") or None,
            queue=data.validated_data.get("queue") or None,
        )
        return Response(share_to_dict(share), status=201 if created else 200)


class WorkflowShareDetailApi(APIView):
    @extend_schema(
        summary="Remove a share",
        responses={204: OpenApiResponse(description="Removed."), **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, workflow_id: int, share_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        share: Any = workflow.shares.select_related("user", "queue", "workflow").filter(id=share_id).first()
        if share is None:
            raise NotFound("Share not found.")
        workflow_share_delete(share=share, actor=user, request=request)
        return Response(status=204)

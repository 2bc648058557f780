from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated
from backend.common.engine import registry
from backend.common.errors import Forbidden
from backend.workflows import services
from backend.workflows.models import Workflow, WorkflowVersion
from backend.workflows.selectors import (
    workflow_get_for_user,
    workflow_list_for_user,
    workflow_permission,
    workflow_published_number,
)
from orchestrator_core import trigger_fields


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def workflow_summary(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "revision": workflow.revision,
        "published_version": workflow_published_number(workflow=workflow),
        "updated_at": workflow.updated_at.isoformat(),
        "updated_by": workflow.updated_by.username if workflow.updated_by else None,
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
    return {
        "number": version.number,
        "note": version.note,
        "published": version.published,
        "created_at": version.created_at.isoformat(),
        "created_by": version.created_by.username if version.created_by else None,
    }


class NodeTypeListApi(APIView):
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        return Response({"results": registry().describe()})


class WorkflowListApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        document = serializers.JSONField(required=False)

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        return paginated(self, request, workflow_list_for_user(user=_user(request)), workflow_summary)

    @extend_schema(request=InputSerializer, responses={201: serializers.DictField()})
    def post(self, request: Request) -> Response:
        user = _user(request)
        if not user.can_build:
            raise Forbidden("Only builders and admins create workflows.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = services.workflow_create(user=user, **data.validated_data)
        return Response(workflow_detail(workflow, user), status=201)


class WorkflowDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
        document = serializers.JSONField(required=False)
        revision = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, workflow_id: int) -> Response:
        user = _user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user)
        return Response(workflow_detail(workflow, user))

    @extend_schema(request=InputSerializer, responses={200: serializers.DictField()})
    def patch(self, request: Request, workflow_id: int) -> Response:
        user = _user(request)
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
        issues = [i.as_dict() for i in services.document_issues(workflow.draft)]
        return Response({**workflow_detail(workflow, user), "issues": issues})

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workflow_id: int) -> Response:
        user = _user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        services.workflow_delete(workflow=workflow, user=user)
        return Response(status=204)


class WorkflowValidateApi(APIView):
    class InputSerializer(serializers.Serializer):
        document = serializers.JSONField(required=False)

    @extend_schema(request=InputSerializer, responses={200: serializers.DictField()})
    def post(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=_user(request))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = data.validated_data.get("document", workflow.draft)
        issues = [i.as_dict() for i in services.document_issues(document)]
        return Response({"valid": not issues, "issues": issues})


class WorkflowPublishApi(APIView):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    @extend_schema(request=InputSerializer, responses={201: serializers.DictField()})
    def post(self, request: Request, workflow_id: int) -> Response:
        user = _user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.workflow_publish(workflow=workflow, user=user, note=data.validated_data["note"])
        return Response(version_to_dict(version), status=201)


class WorkflowVersionListApi(APIView):
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=_user(request))
        versions = workflow.versions.select_related("created_by").order_by("-number")
        return paginated(self, request, versions, version_to_dict)

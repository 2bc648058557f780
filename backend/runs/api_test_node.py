"""Test one node of a workflow's draft on sample data (the editor's "test this node")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.schema import AnySerializer, enum_field, error_responses
from backend.runs import services
from backend.runs.api import RunErrorSerializer
from backend.workflows.selectors import workflow_get_for_user


class NodeTestResultSerializer(AnySerializer):
    status = enum_field("NodeTestStatusEnum", ["succeeded", "failed", "waiting"])
    output = serializers.JSONField(allow_null=True, help_text="The node's output object (succeeded).")
    ports = serializers.ListField(child=serializers.CharField(), help_text="Output ports that would fire.")
    inputs = serializers.JSONField(help_text="What the node rendered and evaluated, by config field.")
    error = RunErrorSerializer(allow_null=True, help_text="Why it failed (`SIDE_EFFECT_BLOCKED`, ...).")
    request = serializers.JSONField(
        allow_null=True, help_text="Set when waiting: what the node would ask a person (or timer)."
    )
    meta = serializers.JSONField(help_text="LLM model, tokens and `cost_usd` when the node called one.")
    duration_ms = serializers.IntegerField()


class WorkflowNodeTestApi(APIView):
    @extend_schema_serializer(component_name="WorkflowNodeTest")
    class InputSerializer(AnySerializer):
        inputs = serializers.JSONField(
            default=dict, help_text='Sample data: `{"trigger": {...}, "steps": {node_id: output}}`.'
        )
        config = serializers.JSONField(
            required=False, help_text="Replaces the node's saved config for this test."
        )

        def validate_inputs(self, value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise serializers.ValidationError("must be an object")
            unknown = sorted(set(value) - {"trigger", "steps"})
            if unknown:
                raise serializers.ValidationError(f"unknown keys: {', '.join(unknown)}")
            steps = value.get("steps", {})
            if not isinstance(steps, dict) or not all(isinstance(v, dict) for v in steps.values()):
                raise serializers.ValidationError("steps must map node ids to output objects")
            return {"trigger": value.get("trigger", {}), "steps": steps}

        def validate_config(self, value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise serializers.ValidationError("must be an object")
            return value

    @extend_schema(
        summary="Test one node",
        description=(
            "Executes only this node of the saved draft, on sample data, without storing a run. "
            "Nothing acts on the world: sending e-mail and non-GET HTTP requests fail with "
            "`SIDE_EFFECT_BLOCKED`. LLM calls are made (their cost is in `meta.cost_usd`). A node "
            "that would wait for a person or a timer answers `waiting` with its `request`. A node "
            "failure is a 200 with `status: failed`; 404 for an unknown node id."
        ),
        request=InputSerializer,
        responses={200: NodeTestResultSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, workflow_id: int, node_id: str) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        inputs = data.validated_data["inputs"]
        body = services.workflow_node_test(
            workflow=workflow,
            user=user,
            node_id=node_id,
            trigger=inputs["trigger"],
            steps=inputs["steps"],
            config=data.validated_data.get("config"),
        )
        return Response(body)

"""Webhook endpoints (secret URL, deliveries) and re-runs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.errors import ApiError
from backend.common.schema import AnySerializer, error_responses
from backend.runs import services, triggers
from backend.runs.api import RunSummarySerializer, run_summary
from backend.runs.models import Run, WebhookEndpoint
from backend.runs.selectors import run_get_for_user
from backend.workflows.models import Workflow
from backend.workflows.selectors import workflow_get_for_user


class WebhookEndpointSerializer(AnySerializer):
    url = serializers.CharField(help_text="The full secret URL; anyone who has it can start runs.")
    path = serializers.CharField(help_text="`/api/hooks/<token>/`.")
    token = serializers.CharField()
    enabled = serializers.BooleanField(help_text="True when the published version has a webhook trigger.")
    created_at = serializers.DateTimeField()
    rotated_at = serializers.DateTimeField(allow_null=True)


def _endpoint(request: Request, workflow: Workflow, endpoint: WebhookEndpoint) -> dict[str, Any]:
    path = f"/api/hooks/{endpoint.token}/"
    return {
        "url": request.build_absolute_uri(path),
        "path": path,
        "token": endpoint.token,
        "enabled": triggers.webhook_enabled(workflow=workflow),
        "created_at": endpoint.created_at.isoformat(),
        "rotated_at": endpoint.rotated_at.isoformat() if endpoint.rotated_at else None,
    }


class WorkflowWebhookApi(APIView):
    @extend_schema(
        summary="Get the workflow's webhook URL",
        description="Builders with edit permission; the secret token is created on first request.",
        responses={200: WebhookEndpointSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, workflow_id: int) -> Response:
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=request_user(request), need="edit")
        endpoint = triggers.webhook_endpoint_get_or_create(workflow=workflow)
        return Response(_endpoint(request, workflow, endpoint))


class WorkflowWebhookRotateApi(APIView):
    @extend_schema(
        summary="Rotate the workflow's webhook token",
        description="The old URL answers 404 from now on.",
        request=None,
        responses={200: WebhookEndpointSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        endpoint = triggers.webhook_endpoint_rotate(workflow=workflow, user=user)
        return Response(_endpoint(request, workflow, endpoint))


class WebhookAcceptedSerializer(AnySerializer):
    run_id = serializers.IntegerField()
    duplicate = serializers.BooleanField(help_text="True when the Idempotency-Key was seen in the last 24 h.")


class WebhookRunFailedSerializer(AnySerializer):
    run_id = serializers.IntegerField()
    error = serializers.JSONField(help_text="The run's error.")


class WebhookDeliverApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Deliver a webhook (start a run)",
        description=(
            "No sign-in: the secret token in the URL is the credential. The JSON body becomes "
            "`trigger.body`, the query string `trigger.query`. An `Idempotency-Key` header (at most "
            "200 characters) seen in the last 24 h returns the first run and starts nothing. With the "
            "trigger's `respond: wait`, the answer is the output of its `response_node` (200) once the "
            "run succeeds, 502 when it ends without one, or 202 when `timeout_seconds` pass first."
        ),
        auth=[],
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The response node's output (respond: wait)."
            ),
            202: WebhookAcceptedSerializer,
            502: OpenApiResponse(WebhookRunFailedSerializer, description="The run ended without a response."),
            **error_responses(400, 404, 413, e404="Unknown or rotated token, or no webhook trigger."),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        body: Any = request.data if request.body else {}
        idempotency_key = request.headers.get("Idempotency-Key")
        query = {key: str(value) for key, value in request.query_params.items()}
        delivery = triggers.webhook_deliver(
            token=token, body=body, query=query, idempotency_key=idempotency_key
        )
        accepted = Response({"run_id": delivery.run.id, "duplicate": delivery.duplicate}, status=202)
        if delivery.config.respond != "wait":
            return accepted
        outcome, value = triggers.webhook_wait_for_response(delivery=delivery)
        if outcome == "output":
            return Response(value, status=200)
        if outcome == "failed":
            return Response({"run_id": delivery.run.id, "error": value}, status=502)
        return accepted


class RunRerunSerializer(RunSummarySerializer):
    rerun_of = serializers.IntegerField(help_text="The run this one repeats.")
    rerun_from_node = serializers.CharField(
        allow_null=True, help_text="Where it restarted; null: from the start."
    )


class RunRerunApi(APIView):
    @extend_schema(
        summary="Re-run a finished run",
        description=(
            "A new run of the same version with the same inputs. With `from_node`, the succeeded steps "
            "of every node that is not `from_node` or downstream of it are copied, not executed again. "
            "409 `RUN_NOT_FINISHED` while the run is not final; 400 `NODE_UNKNOWN` for an unknown node."
        ),
        request=None,
        parameters=[OpenApiParameter("from_node", OpenApiTypes.STR, description="Node id to restart at.")],
        responses={
            201: RunRerunSerializer,
            **error_responses(400, 401, 403, 404, 409, e409="The run has not finished (`RUN_NOT_FINISHED`)."),
        },
    )
    def post(self, request: Request, run_id: int) -> Response:
        user = request_user(request)
        run = run_get_for_user(run_id=run_id, user=user, need="run")
        from_node = request.query_params.get("from_node")
        if from_node is not None and not from_node.strip():
            raise ApiError("from_node must be a node id.", code="NODE_UNKNOWN")
        new_run = services.run_rerun(run=run, user=user, from_node=from_node)
        fresh = Run.objects.select_related("workflow", "version", "started_by").get(id=new_run.id)
        body = {**run_summary(fresh), "rerun_of": run.id, "rerun_from_node": from_node}
        return Response(body, status=201)

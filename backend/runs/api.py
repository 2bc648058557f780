from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import paginated, request_user
from backend.common.schema import (
    PAGE_PARAMETER,
    AnySerializer,
    ErrorBodySerializer,
    WorkflowRefSerializer,
    enum_field,
    error_responses,
)
from backend.common.schema import paginated as paginated_of
from backend.runs import services
from backend.runs.models import Run, RunOrigin
from backend.runs.selectors import run_get_for_user, run_list_for_user
from backend.runs.store import step_record_from_row
from backend.workflows.selectors import workflow_get_for_user
from orchestrator_core import step_to_dict

# --- Response shapes (documentation only: the views return the dicts built below) -------------

STEP_STATUSES = [
    "queued",
    "running",
    "waiting",
    "succeeded",
    "failed",
    "skipped",
    "retrying",
    "outcome_unknown",
]


class RunErrorSerializer(ErrorBodySerializer):
    """``{code, message, details?}`` of a failed run or step."""


class StepTrySerializer(AnySerializer):
    """One model call of a step (a fallback shows the model that failed and the one that answered)."""

    model = serializers.CharField()
    outcome = serializers.CharField(help_text='"ok" or "error".')
    error_code = serializers.CharField(required=False, allow_null=True)
    http_status = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()


class StepSerializer(AnySerializer):
    node_id = serializers.CharField()
    status = serializers.ChoiceField(choices=STEP_STATUSES)
    attempts = serializers.IntegerField()
    inputs = serializers.JSONField(allow_null=True, help_text="What the node saw: its rendered config.")
    output = serializers.JSONField(allow_null=True, help_text="The node's output object.")
    error = RunErrorSerializer(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    children_cost_usd = serializers.FloatField(
        help_text="Spent by the child runs of a loop, sub-workflow or agent step (not in cost_usd)."
    )
    reason = serializers.CharField(allow_null=True, help_text="Why this model / route was chosen.")
    tries = StepTrySerializer(many=True, help_text="Every model call of the step, in order ([] for none).")
    request = serializers.JSONField(
        allow_null=True, help_text="Set while waiting: what the node asked a human (or timer) about."
    )
    round = serializers.IntegerField(
        required=False,
        help_text="Only for a step that review rounds sent back: the round it is in (2, 3...).",
    )
    rounds = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="Only with `round`: each earlier round of the step "
        "({round, status, output, error, started_at, ended_at, cost_usd}).",
    )


class RunSummarySerializer(AnySerializer):
    id = serializers.IntegerField()
    workflow = WorkflowRefSerializer()
    version = serializers.IntegerField(help_text="Number of the workflow version that runs.")
    status = enum_field("RunStatusEnum", Run.Status.values)
    error = RunErrorSerializer(allow_null=True)
    started_by = serializers.CharField(allow_null=True, help_text="Username.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    cost_usd = serializers.FloatField()
    last_seq = serializers.IntegerField(help_text="Sequence number of the last event (for `?after=`).")


class RunDetailSerializer(RunSummarySerializer):
    inputs = serializers.JSONField(help_text="The trigger inputs.")
    document = serializers.JSONField(help_text="The workflow document of the version.")
    steps = StepSerializer(many=True)
    rerun_of = serializers.IntegerField(allow_null=True, help_text="The run this one re-runs; null: none.")
    rerun_from_node = serializers.CharField(
        allow_null=True, help_text="The node a re-run restarted at; null: from the start (or not a re-run)."
    )


def _duration_ms(run: Run) -> int | None:
    if run.started_at and run.finished_at:
        return int((run.finished_at - run.started_at).total_seconds() * 1000)
    return None


def run_summary(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "workflow": {"id": run.workflow_id, "name": run.workflow.name},
        "version": run.version.number,
        "status": run.status,
        "error": run.error,
        "started_by": run.started_by.username if run.started_by else None,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_ms": _duration_ms(run),
        "cost_usd": run.cost_usd,
        "last_seq": run.last_seq,
    }


def run_detail(run: Run) -> dict[str, Any]:
    order = {node.get("id"): i for i, node in enumerate(run.version.document.get("nodes", []))}
    steps = sorted(run.steps.all(), key=lambda s: order.get(s.node_id, len(order)))
    return {
        **run_summary(run),
        "inputs": run.inputs,
        "document": run.version.document,
        "steps": [step_to_dict(step_record_from_row(s)) for s in steps],
        **_origin(run),
    }


def _origin(run: Run) -> dict[str, Any]:
    try:
        origin = run.origin
    except RunOrigin.DoesNotExist:
        return {"rerun_of": None, "rerun_from_node": None}
    return {"rerun_of": origin.rerun_of_id, "rerun_from_node": origin.rerun_from_node or None}


class RunStartApi(APIView):
    @extend_schema_serializer(component_name="RunStart")
    class InputSerializer(AnySerializer):
        inputs = serializers.JSONField(default=dict)
        source = serializers.ChoiceField(choices=["published", "draft"], default="published")  # type: ignore[assignment]

    @extend_schema(
        summary="Start a run",
        description=(
            "`published` runs the published version (400 `WORKFLOW_NOT_PUBLISHED` when there is none); "
            "`draft` (builders only) runs the saved draft, frozen as an unpublished snapshot version. "
            "400 `INPUT_INVALID` when `inputs` do not match the trigger fields."
        ),
        request=InputSerializer,
        responses={201: RunSummarySerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user, need="run")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = data.validated_data["source"]
        if source == "draft":  # running the draft is editing it in spirit: builders only
            workflow_get_for_user(workflow_id=workflow_id, user=user, need="edit")
        version = services.run_version_for_start(workflow=workflow, user=user, source=source)
        run = services.run_start(version=version, started_by=user, inputs=data.validated_data["inputs"])
        return Response(run_summary(run), status=201)


class RunListApi(APIView):
    @extend_schema(
        summary="List runs",
        description="Run summaries (no `document`, no `steps`), newest first.",
        operation_id="runs_list",
        parameters=[
            OpenApiParameter("workflow", OpenApiTypes.INT, description="Only runs of this workflow id."),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=Run.Status.values, description="Only runs in this status."
            ),
            PAGE_PARAMETER,
        ],
        responses={200: paginated_of(RunSummarySerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        runs = run_list_for_user(user=request_user(request))
        workflow = request.query_params.get("workflow")
        if workflow:
            if not workflow.isdigit():
                runs = runs.none()
            else:
                runs = runs.filter(workflow_id=int(workflow))
        status = request.query_params.get("status")
        if status:
            runs = runs.filter(status=status)
        return paginated(self, request, runs, run_summary)


class RunDetailApi(APIView):
    @extend_schema(
        summary="Get a run",
        operation_id="runs_retrieve",
        responses={200: RunDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(run_detail(run_get_for_user(run_id=run_id, user=request_user(request))))


class RunCancelApi(APIView):
    @extend_schema(
        summary="Cancel a run",
        request=None,
        responses={
            200: RunDetailSerializer,
            **error_responses(401, 403, 404, 409, e409="The run already ended (`RUN_FINISHED`)."),
        },
    )
    def post(self, request: Request, run_id: int) -> Response:
        user = request_user(request)
        run = run_get_for_user(run_id=run_id, user=user, need="run")
        return Response(run_detail(services.run_cancel(run=run, user=user)))

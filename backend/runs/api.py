from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated
from backend.runs import services
from backend.runs.models import Run
from backend.runs.selectors import run_get_for_user, run_list_for_user
from backend.runs.store import step_record_from_row
from backend.workflows.selectors import workflow_get_for_user
from orchestrator_core import step_to_dict


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


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
    }


class RunStartApi(APIView):
    class InputSerializer(serializers.Serializer):
        inputs = serializers.JSONField(default=dict)
        source = serializers.ChoiceField(choices=["published", "draft"], default="published")

    @extend_schema(request=InputSerializer, responses={201: serializers.DictField()})
    def post(self, request: Request, workflow_id: int) -> Response:
        user = _user(request)
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
        parameters=[OpenApiParameter("workflow", int), OpenApiParameter("status", str)],
        responses={200: serializers.DictField()},
    )
    def get(self, request: Request) -> Response:
        runs = run_list_for_user(user=_user(request))
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
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, run_id: int) -> Response:
        return Response(run_detail(run_get_for_user(run_id=run_id, user=_user(request))))


class RunCancelApi(APIView):
    @extend_schema(request=None, responses={200: serializers.DictField()})
    def post(self, request: Request, run_id: int) -> Response:
        user = _user(request)
        run = run_get_for_user(run_id=run_id, user=user, need="run")
        return Response(run_detail(services.run_cancel(run=run, user=user)))

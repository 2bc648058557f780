from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.approvals import services
from backend.approvals.models import Approval
from backend.approvals.selectors import approval_get_for_user, approval_list_for_user
from backend.common.api import paginated


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def approval_summary(a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "run_id": a.run_id,
        "workflow": {"id": a.run.workflow_id, "name": a.run.workflow.name},
        "node_id": a.node_id,
        "queue": a.queue.name,
        "title": a.title,
        "status": a.status,
        "claimed_by": a.claimed_by.username if a.claimed_by else None,
        "created_at": a.created_at.isoformat(),
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "decided_by": a.decided_by.username if a.decided_by else None,
    }


def approval_detail(a: Approval) -> dict[str, Any]:
    return {
        **approval_summary(a),
        "instructions": a.instructions,
        "context": a.context,
        "fields": a.fields,
        "payload_hash": a.payload_hash,
        "decision": {"approved": "approve", "rejected": "reject"}.get(a.status),
        "comment": a.comment,
        "edited": a.edited,
    }


class ApprovalListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("queue", str)],
        responses={200: serializers.DictField()},
    )
    def get(self, request: Request) -> Response:
        qs = approval_list_for_user(user=_user(request))
        status = request.query_params.get("status", "pending")
        if status == "decided":
            qs = qs.filter(status__in=[Approval.Status.APPROVED, Approval.Status.REJECTED])
        elif status != "all":
            qs = qs.filter(status=status)
        queue = request.query_params.get("queue")
        if queue:
            qs = qs.filter(queue__name=queue)
        return paginated(self, request, qs, approval_summary)


class ApprovalDetailApi(APIView):
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, approval_id: int) -> Response:
        return Response(approval_detail(approval_get_for_user(approval_id=approval_id, user=_user(request))))


class ApprovalClaimApi(APIView):
    @extend_schema(request=None, responses={200: serializers.DictField()})
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_claim(approval=approval, user=user)))


class ApprovalReleaseApi(APIView):
    @extend_schema(request=None, responses={200: serializers.DictField()})
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        return Response(approval_detail(services.approval_release(approval=approval, user=user)))


class ApprovalDecisionApi(APIView):
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approve", "reject"])
        edited = serializers.JSONField(required=False, allow_null=True)
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        payload_hash = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={200: serializers.DictField()})
    def post(self, request: Request, approval_id: int) -> Response:
        user = _user(request)
        approval = approval_get_for_user(approval_id=approval_id, user=user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decided = services.approval_decide(
            approval=approval,
            user=user,
            decision=data.validated_data["decision"],
            payload_hash_seen=data.validated_data["payload_hash"],
            edited=data.validated_data.get("edited"),
            comment=data.validated_data["comment"],
        )
        return Response(approval_detail(decided))

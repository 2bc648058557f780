from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated
from backend.common.schema import PAGE_PARAMETER, AnySerializer, error_responses
from backend.common.schema import paginated as paginated_of
from backend.connectors.models import OutboxMessage
from backend.runs.selectors import run_list_for_user


def outbox_to_dict(msg: OutboxMessage) -> dict[str, Any]:
    return {
        "id": msg.id,
        "run_id": msg.run_id,
        "node_id": msg.node_id,
        "from": msg.sender,
        "to": msg.to,
        "subject": msg.subject,
        "body": msg.body,
        "status": msg.status,
        "transport": msg.transport,
        "created_at": msg.created_at.isoformat(),
    }


class OutboxMessageSerializer(AnySerializer):
    """An e-mail a workflow sent (documentation of ``outbox_to_dict``)."""

    id = serializers.IntegerField()
    run_id = serializers.IntegerField(allow_null=True)
    node_id = serializers.CharField(allow_blank=True)
    from_ = serializers.CharField(help_text="Sender address.")
    to = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=OutboxMessage.Status.choices)
    transport = serializers.CharField(help_text="`outbox` (embedded mode) or `smtp`.")
    created_at = serializers.DateTimeField()

    def get_fields(self) -> dict[str, Any]:
        # "from" is a Python keyword: declared as from_, renamed here (same position).
        return {("from" if name == "from_" else name): field for name, field in super().get_fields().items()}


class OutboxListApi(APIView):
    @extend_schema(
        summary="List sent e-mails",
        description="E-mails of the runs you can see, newest first.",
        operation_id="outbox_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(OutboxMessageSerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        visible_runs = run_list_for_user(user=request.user).values("id")
        messages = OutboxMessage.objects.filter(run__in=visible_runs)
        return paginated(self, request, messages, outbox_to_dict)

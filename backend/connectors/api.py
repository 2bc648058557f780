from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated
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


class OutboxListApi(APIView):
    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        visible_runs = run_list_for_user(user=request.user).values("id")
        messages = OutboxMessage.objects.filter(run__in=visible_runs)
        return paginated(self, request, messages, outbox_to_dict)

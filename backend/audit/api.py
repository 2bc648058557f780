from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.audit.selectors import audit_list_for_user, audit_to_dict
from backend.common.api import paginated
from backend.common.schema import PAGE_PARAMETER, AnySerializer, error_responses
from backend.common.schema import paginated as paginated_of

FILTER_PARAMETERS = [
    OpenApiParameter("action", str, description="Exact action, or a prefix ending in `.` (`auth.`)."),
    OpenApiParameter("actor", str, description="Username of the actor."),
    OpenApiParameter("since", str, description="ISO date or date-time, inclusive."),
    OpenApiParameter("until", str, description="ISO date or date-time, inclusive."),
]
CSV_COLUMNS = [
    "id",
    "created_at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "ip",
    "data",
    "prev_hash",
    "hash",
]


class AuditEventSerializer(AnySerializer):
    """One audit event (documentation of ``audit_to_dict``)."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True, help_text="Username; null for anonymous.")
    action = serializers.CharField()
    target_type = serializers.CharField(allow_blank=True)
    target_id = serializers.CharField(allow_blank=True)
    ip = serializers.IPAddressField(allow_null=True)
    data_ = serializers.JSONField(help_text="Details; never secret values.")
    prev_hash = serializers.CharField(allow_blank=True)
    hash = serializers.CharField()

    def get_fields(self) -> dict[str, Any]:
        # "data" would shadow Serializer.data: declared as data_, renamed here (same position).
        return {("data" if name == "data_" else name): field for name, field in super().get_fields().items()}


def _filters(request: Request) -> dict[str, str]:
    return {
        key: str(request.query_params.get(key, ""))[:200] for key in ("action", "actor", "since", "until")
    }


class AuditListApi(APIView):
    @extend_schema(
        summary="Read the audit log (admins)",
        description="Newest first.",
        operation_id="audit_list",
        parameters=[PAGE_PARAMETER, *FILTER_PARAMETERS],
        responses={200: paginated_of(AuditEventSerializer), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        events = audit_list_for_user(user=request.user, **_filters(request))
        return paginated(self, request, events, audit_to_dict)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        return data if isinstance(data, bytes | str) else json.dumps(data)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must not start with = + - @ (OWASP CSV injection).
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _csv_rows(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=1000):
        row = audit_to_dict(event)
        row["data"] = json.dumps(row["data"], sort_keys=True)
        yield writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])


class AuditExportApi(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Export the audit log as CSV (admins)",
        description="Same filters as the list; every matching row, newest first.",
        operation_id="audit_export_csv",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row."),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        assert isinstance(request.user, User)
        events = audit_list_for_user(user=request.user, **_filters(request))
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="baton-audit-{stamp}.csv"'
        return response

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated
from backend.common.schema import PAGE_PARAMETER, AnySerializer, error_responses
from backend.common.schema import paginated as paginated_of
from backend.connectors.models import Connector, OutboxMessage
from backend.connectors.schemas import kinds_schema
from backend.connectors.selectors import (
    connector_check_admin,
    connector_get_for_user,
    connector_list_for_user,
    connector_to_dict,
)
from backend.connectors.services import connector_create, connector_delete, connector_update
from backend.connectors.testing import connector_test
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
        "connector": msg.connector or None,
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
    transport = serializers.CharField(
        help_text="`outbox` (embedded mode), `smtp` (the server's SMTP settings) or `connector`."
    )
    connector = serializers.CharField(allow_null=True, help_text="The SMTP connector it was sent through.")
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


class ConnectorSerializer(AnySerializer):
    """A connector as the API shows it (documentation of ``connector_to_dict``).

    Builders get ``id``, ``name`` and ``kind`` only. Secret values are never returned.
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Connector.Kind.choices)
    config = serializers.DictField(required=False, help_text="Non-secret settings (admins only).")
    allowed_hosts = serializers.ListField(child=serializers.CharField(), required=False)
    secret_set = serializers.BooleanField(required=False, help_text="Whether a secret is stored.")
    secret_fields = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Names of the stored secret fields."
    )
    created_by = serializers.CharField(allow_null=True, required=False)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)


_KIND_HELP = (
    "smtp: config {host, port, username, use_tls, from_email}, secret {password}. "
    "http: config {base_url, auth_type none|bearer|basic|header|oauth2_client_credentials, username, "
    "header_name, token_url, client_id, scope, audience, client_auth basic|post}, "
    "secret {token | password | header_value | client_secret}. "
    "model: config {provider openai|anthropic|azure|ollama|openai_compatible, base_url, models[]}, "
    "secret {api_key}. slack: config {channel}, secret {webhook_url}."
)


@extend_schema_serializer(component_name="ConnectorWrite")
class ConnectorInputSerializer(AnySerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Connector.Kind.choices)
    config = serializers.JSONField(default=dict, help_text="Non-secret settings. " + _KIND_HELP)
    secret = serializers.JSONField(
        default=dict,
        write_only=True,
        help_text="Write-only. On PATCH leave it out to keep the stored secret; send it to replace it whole.",
    )
    allowed_hosts = serializers.ListField(
        child=serializers.CharField(max_length=253),
        default=list,
        max_length=50,
        help_text="Host names it may reach; empty = the host its settings name.",
    )


_CONNECTOR_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    409,
    e400="Invalid settings (`CONNECTOR_CONFIG_INVALID`, `BAD_REQUEST`).",
    e409="Name taken (`CONNECTOR_NAME_TAKEN`).",
)


class ConnectorListApi(APIView):
    @extend_schema(
        summary="List connectors",
        description="Builders see names and kinds; admins also see settings (never secret values).",
        operation_id="connector_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(ConnectorSerializer), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        user = request.user
        return paginated(
            self, request, connector_list_for_user(user=user), lambda c: connector_to_dict(c, user=user)
        )

    @extend_schema(
        summary="Create a connector (admins)",
        operation_id="connector_create",
        request=ConnectorInputSerializer,
        responses={201: ConnectorSerializer, **_CONNECTOR_ERRORS},
    )
    def post(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        connector_check_admin(user=request.user)
        data = ConnectorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connector = connector_create(user=request.user, request=request, **data.validated_data)
        return Response(connector_to_dict(connector, user=request.user), status=201)


class ConnectorKindSerializer(AnySerializer):
    """One connector kind and the JSON Schemas its form is generated from."""

    kind = serializers.ChoiceField(choices=Connector.Kind.choices)
    title = serializers.CharField()
    config_schema = serializers.DictField(help_text="JSON Schema of `config`.")
    secret_schema = serializers.DictField(
        help_text="JSON Schema of the write-only `secret`. `ui.when` on a property: shown only when "
        "the named config field has one of the listed values."
    )


class ConnectorKindListApi(APIView):
    @extend_schema(
        summary="Connector kinds and their settings schemas",
        description="Per kind, the JSON Schemas of `config` and `secret` (the admin form is built "
        "from them).",
        operation_id="connector_kinds",
        responses={200: ConnectorKindSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        connector_list_for_user(user=request.user)  # builders and admins
        return Response(kinds_schema())


class ConnectorDetailApi(APIView):
    @extend_schema(
        summary="Get a connector",
        operation_id="connector_get",
        responses={200: ConnectorSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, connector_id: int) -> Response:
        assert isinstance(request.user, User)
        connector = connector_get_for_user(user=request.user, connector_id=connector_id)
        return Response(connector_to_dict(connector, user=request.user))

    @extend_schema(
        summary="Change a connector (admins)",
        description="Partial update; without `secret` the stored secret is kept.",
        operation_id="connector_update",
        request=ConnectorInputSerializer(partial=True),
        responses={200: ConnectorSerializer, **_CONNECTOR_ERRORS},
    )
    def patch(self, request: Request, connector_id: int) -> Response:
        assert isinstance(request.user, User)
        connector_check_admin(user=request.user)
        connector = connector_get_for_user(user=request.user, connector_id=connector_id)
        data = ConnectorInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connector = connector_update(
            connector=connector, user=request.user, request=request, **data.validated_data
        )
        return Response(connector_to_dict(connector, user=request.user))

    @extend_schema(
        summary="Delete a connector (admins)",
        operation_id="connector_delete",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, connector_id: int) -> Response:
        assert isinstance(request.user, User)
        connector_check_admin(user=request.user)
        connector = connector_get_for_user(user=request.user, connector_id=connector_id)
        connector_delete(connector=connector, user=request.user, request=request)
        return Response(status=204)


class ConnectorTestResultSerializer(AnySerializer):
    """The outcome of a connection test (a failed check is still a 200 with ``ok: false``)."""

    ok = serializers.BooleanField()
    message = serializers.CharField(help_text="What happened, in words; never contains a secret.")
    duration_ms = serializers.IntegerField()
    details = serializers.DictField(help_text="Per kind: HTTP status, SMTP steps, model, host, error code.")


class ConnectorTestApi(APIView):
    @extend_schema(
        summary="Test a connector (admins)",
        description=(
            "One read-only check: http GETs the base URL (through the SSRF guard, ok when the status is "
            "below 500; with OAuth2 client credentials a fresh token is fetched first); smtp connects, "
            "STARTTLS, logs in and quits; model asks the first model for 5 "
            "tokens; slack only checks that the webhook URL is on hooks.slack.com (nothing is posted)."
        ),
        operation_id="connector_test",
        request=None,
        responses={200: ConnectorTestResultSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, connector_id: int) -> Response:
        assert isinstance(request.user, User)
        connector_check_admin(user=request.user)
        connector = connector_get_for_user(user=request.user, connector_id=connector_id)
        return Response(connector_test(connector=connector, user=request.user, request=request))

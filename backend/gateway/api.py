"""``/api/model-overrides/``: the admin view of the model catalog and its overrides."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.schema import AnySerializer, error_responses
from backend.gateway.selectors import model_catalog_admin_rows, model_override_check_admin
from backend.gateway.services import model_override_set


class ModelValuesSerializer(AnySerializer):
    tier = serializers.IntegerField(allow_null=True)
    context_window = serializers.IntegerField(allow_null=True, help_text="Max prompt tokens; null = unknown.")
    input_usd_per_1m = serializers.FloatField(allow_null=True, help_text="USD per 1M prompt tokens.")
    output_usd_per_1m = serializers.FloatField(allow_null=True, help_text="USD per 1M completion tokens.")


class ModelOverrideSerializer(ModelValuesSerializer):
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(allow_null=True)


class ModelAdminRowSerializer(AnySerializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    provider = serializers.CharField(allow_blank=True)
    litellm_model = serializers.CharField(allow_blank=True)
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["demo", "connector", "settings", "override"],
        help_text="`override`: an override of a model that is no longer in the catalog.",
    )
    connector = serializers.CharField(allow_blank=True)
    tier = serializers.IntegerField(help_text="Effective tier (1 small … 3 strongest).")
    context_window = serializers.IntegerField(allow_null=True)
    input_usd_per_1m = serializers.FloatField(allow_null=True)
    output_usd_per_1m = serializers.FloatField(allow_null=True)
    default = ModelValuesSerializer(
        allow_null=True, help_text="Without the override: the connector's values, else litellm's cost map."
    )
    override = ModelOverrideSerializer(allow_null=True)
    editable = serializers.BooleanField(help_text="False for the built-in demo model.")


class ModelAdminListSerializer(AnySerializer):
    results = ModelAdminRowSerializer(many=True)


def _per_token(value: float | None) -> float | None:
    return None if value is None else value / 1_000_000


class ModelOverrideApi(APIView):
    @extend_schema_serializer(component_name="ModelOverrideSet")
    class InputSerializer(AnySerializer):
        model_name = serializers.CharField(max_length=200)
        tier = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3)
        context_window = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=100_000_000
        )
        input_usd_per_1m = serializers.FloatField(
            required=False, allow_null=True, min_value=0, max_value=1_000_000
        )
        output_usd_per_1m = serializers.FloatField(
            required=False, allow_null=True, min_value=0, max_value=1_000_000
        )

    @extend_schema(
        summary="Model catalog with defaults and overrides (admin)",
        description=(
            "Every catalog model with its effective tier, context window and prices, the defaults "
            "(the connector's values, else litellm's bundled cost map) and the admin's override."
        ),
        operation_id="model_overrides_list",
        responses={200: ModelAdminListSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        model_override_check_admin(user=request_user(request))
        return Response({"results": model_catalog_admin_rows()})

    @extend_schema(
        summary="Set or remove a model override (admin)",
        description=(
            "Fields left out or null keep the default; all four null removes the override. Prices "
            "are USD per 1M tokens. Audited as `model_override.set` / `model_override.delete`; the "
            "catalog and the gateway pick the change up at once (also in workers)."
        ),
        operation_id="model_overrides_set",
        request=InputSerializer,
        responses={200: ModelAdminListSerializer, **error_responses(400, 401, 403)},
    )
    def put(self, request: Request) -> Response:
        user = request_user(request)
        model_override_check_admin(user=user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = data.validated_data
        model_override_set(
            user=user,
            model_name=values["model_name"],
            tier=values.get("tier"),
            context_window=values.get("context_window"),
            input_cost_per_token=_per_token(values.get("input_usd_per_1m")),
            output_cost_per_token=_per_token(values.get("output_usd_per_1m")),
            request=request,
        )
        return Response({"results": model_catalog_admin_rows()})

"""``GET /api/models/`` (the model catalog) and ``GET /api/usage/`` (LLM tokens and cost)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.api import request_user
from backend.common.engine import CatalogModel, llm_client, model_catalog
from backend.common.errors import ApiError
from backend.common.schema import AnySerializer, error_responses
from backend.runs.usage import GROUPS, MAX_DAYS, usage_summary

# --- models -----------------------------------------------------------------------------------


class ModelCatalogEntrySerializer(AnySerializer):
    name = serializers.CharField(help_text="What nodes write in `model`.")
    label = serializers.CharField()  # type: ignore[assignment]
    provider = serializers.CharField(help_text="`demo`, `openai`, `anthropic`, `azure`, `ollama`, ...")
    litellm_model = serializers.CharField()
    tier = serializers.IntegerField(
        help_text="1 (small) … 3 (strongest); `auto` honours a node's `min_tier`."
    )
    context_window = serializers.IntegerField(allow_null=True, help_text="Max prompt tokens; null = unknown.")
    input_usd_per_1m = serializers.FloatField(
        allow_null=True, help_text="USD per 1M prompt tokens; null = unknown."
    )
    output_usd_per_1m = serializers.FloatField(allow_null=True)
    source = serializers.ChoiceField(choices=["demo", "connector", "settings"])  # type: ignore[assignment]
    connector = serializers.CharField(allow_blank=True, help_text="The model connector's name, if any.")


class ModelCatalogSerializer(AnySerializer):
    default_model = serializers.CharField()
    results = ModelCatalogEntrySerializer(many=True)


def _model_to_dict(
    model: CatalogModel, prices: tuple[float, float] | None, window: int | None
) -> dict[str, Any]:
    spec = model.spec
    return {
        "name": spec.name,
        "label": spec.label or spec.name,
        "provider": model.provider,
        "litellm_model": spec.litellm_model,
        "tier": spec.tier,
        "context_window": window,
        "input_usd_per_1m": None if prices is None else round(prices[0] * 1_000_000, 6),
        "output_usd_per_1m": None if prices is None else round(prices[1] * 1_000_000, 6),
        "source": model.source,
        "connector": model.connector,
    }


class ModelListApi(APIView):
    @extend_schema(
        summary="List usable models",
        description=(
            "Every model a node may name: the offline `demo` model, models from "
            "`ORCHESTRATOR['MODELS']` and from model connectors. Prices come from the connector's "
            "override, else litellm's bundled cost map. Never includes keys or base URLs. "
            "Nodes may also write `auto` (the cheapest model that fits)."
        ),
        operation_id="models_list",
        responses={200: ModelCatalogSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        client = llm_client()
        rows = [
            _model_to_dict(m, client.prices(m.spec), client.context_window(m.spec)) for m in model_catalog()
        ]
        return Response({"default_model": client.default_model, "results": rows})


# --- usage ------------------------------------------------------------------------------------


class UsageNumbersSerializer(AnySerializer):
    runs = serializers.IntegerField()
    steps = serializers.IntegerField(help_text="LLM steps (steps whose meta names a model).")
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.FloatField()


class UsageRowSerializer(UsageNumbersSerializer):
    key = serializers.CharField(
        allow_null=True, help_text="The day (YYYY-MM-DD), workflow id, model name or user id."
    )
    label = serializers.CharField(allow_blank=True, help_text="Workflow name or username; else the key.")  # type: ignore[assignment]


class UsageSerializer(AnySerializer):
    group_by = serializers.ChoiceField(choices=list(GROUPS))
    days = serializers.IntegerField()
    rows = UsageRowSerializer(many=True)
    totals = UsageNumbersSerializer()


class UsageApi(APIView):
    class InputSerializer(AnySerializer):
        group_by = serializers.ChoiceField(choices=list(GROUPS), default="day")
        days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=30)
        workflow = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(
        summary="LLM usage",
        description=(
            "Tokens and cost of LLM steps, summed from the steps' meta, over the runs you may see "
            "that were created in the last `days` days."
        ),
        operation_id="usage_retrieve",
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUPS), description="Default `day`."),
            OpenApiParameter("days", OpenApiTypes.INT, description=f"1..{MAX_DAYS}, default 30."),
            OpenApiParameter("workflow", OpenApiTypes.INT, description="Only runs of this workflow id."),
        ],
        responses={200: UsageSerializer, **error_responses(400, 401)},
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        if not params.is_valid():
            details = [
                {"field": field, "message": str(messages[0])} for field, messages in params.errors.items()
            ]
            raise ApiError("Invalid query parameters.", code="BAD_REQUEST", details=details)
        data = params.validated_data
        return Response(
            usage_summary(
                user=request_user(request),
                group_by=data["group_by"],
                days=data["days"],
                workflow_id=data.get("workflow"),
            )
        )

"""Expression preview (the editor) and version reviews (the publish-review inbox)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.models import User
from backend.common.api import paginated, request_user
from backend.common.schema import (
    PAGE_PARAMETER,
    AnySerializer,
    WorkflowRefSerializer,
    enum_field,
    error_responses,
)
from backend.common.schema import paginated as paginated_of
from backend.workflows import preview, reviews
from backend.workflows.api import VersionSerializer, version_to_dict
from backend.workflows.models import VersionReview
from backend.workflows.selectors import workflow_get_for_user

MAX_PREVIEW_CHARS = 20_000

# --- Expression preview -------------------------------------------------------------------------


class PreviewErrorSerializer(AnySerializer):
    code = serializers.CharField(help_text="`EXPRESSION_INVALID` or `EXPRESSION_LIMIT`.")
    message = serializers.CharField()
    position = serializers.IntegerField(help_text="0-based character offset in what you sent.")


class ExpressionPreviewSerializer(AnySerializer):
    ok = serializers.BooleanField()
    value = serializers.JSONField(required=False, allow_null=True, help_text="Set when `ok`.")
    error = PreviewErrorSerializer(required=False, help_text="Set when not `ok`.")
    run_id = serializers.IntegerField(
        allow_null=True, help_text="The run whose data was used; null when the workflow never ran."
    )


class ExpressionPreviewApi(APIView):
    @extend_schema_serializer(component_name="ExpressionPreviewRequest")
    class InputSerializer(AnySerializer):
        expression = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_PREVIEW_CHARS
        )
        template = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_PREVIEW_CHARS
        )
        node_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
        field = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
        run_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("expression" in attrs) == ("template" in attrs):
                raise serializers.ValidationError("Send exactly one of 'expression' and 'template'.")
            return attrs

    @extend_schema(
        summary="Preview an expression or template",
        description=(
            "Evaluates `expression` (JMESPath) or renders `template` (`{{ }}` placeholders) against "
            "the data of run `run_id` of this workflow, or of its latest run: `{trigger, steps, run, "
            "vars}` as the run's nodes saw it. Same limits as a run; nothing is eval'd. An invalid "
            "expression is a 200 with `ok: false` and `error: {code, message, position}`."
        ),
        request=InputSerializer,
        responses={200: ExpressionPreviewSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, workflow_id: int) -> Response:
        user = request_user(request)
        workflow = workflow_get_for_user(workflow_id=workflow_id, user=user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        body = preview.expression_preview(
            workflow=workflow,
            user=user,
            expression=v.get("expression"),
            template=v.get("template"),
            node_id=v["node_id"],
            field=v["field"],
            run_id=v.get("run_id"),
        )
        return Response(body)


# --- Version reviews ----------------------------------------------------------------------------


class VersionReviewSerializer(AnySerializer):
    id = serializers.IntegerField()
    workflow = WorkflowRefSerializer()
    version = VersionSerializer()
    base_number = serializers.IntegerField(
        allow_null=True, help_text="The version live when the review was asked for (the diff's base)."
    )
    status = serializers.CharField(help_text="`pending`, `approved`, `rejected` or `superseded`.")
    requested_by = serializers.CharField(allow_null=True)
    decided_by = serializers.CharField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    can_decide = serializers.BooleanField(help_text="True when you may approve or reject it now.")


def review_to_dict(review: VersionReview, user: User) -> dict[str, Any]:
    return {
        "id": review.id,
        "workflow": {"id": review.workflow_id, "name": review.workflow.name},
        "version": version_to_dict(review.version),
        "base_number": review.base_number,
        "status": review.status,
        "requested_by": review.requested_by.username if review.requested_by else None,
        "decided_by": review.decided_by.username if review.decided_by else None,
        "comment": review.comment,
        "created_at": review.created_at.isoformat(),
        "decided_at": review.decided_at.isoformat() if review.decided_at else None,
        "can_decide": reviews.review_can_decide(review=review, user=user),
    }


class VersionReviewListApi(APIView):
    @extend_schema(
        summary="List version reviews",
        description="Publish reviews of the workflows you can see, newest first.",
        operation_id="version_reviews_list",
        parameters=[
            PAGE_PARAMETER,
            OpenApiParameter(
                "status", OpenApiTypes.STR, description="`pending` (default), `decided` or `all`."
            ),
        ],
        responses={200: paginated_of(VersionReviewSerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        wanted = request.query_params.get("status", "pending")
        qs = reviews.review_list_for_user(user=user)
        if wanted == "decided":
            qs = qs.exclude(status=VersionReview.Status.PENDING)
        elif wanted != "all":
            qs = qs.filter(status=VersionReview.Status.PENDING)
        return paginated(self, request, qs, lambda r: review_to_dict(r, user))


class VersionReviewDetailApi(APIView):
    @extend_schema(
        summary="Get a version review",
        operation_id="version_reviews_retrieve",
        responses={200: VersionReviewSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, review_id: int) -> Response:
        user = request_user(request)
        review = reviews.review_get_for_user(review_id=review_id, user=user)
        return Response(review_to_dict(review, user))


class VersionReviewDecisionApi(APIView):
    @extend_schema_serializer(component_name="VersionReviewDecision")
    class InputSerializer(AnySerializer):
        decision = enum_field("VersionReviewDecisionEnum", list(reviews.DECISIONS))
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(
        summary="Approve or reject a version review",
        description=(
            "`approve` makes the version live; `reject` leaves the previous version live. Builders "
            "who may edit the workflow, and admins, decide; the author may not (403 `FOUR_EYES`). "
            "Audited `workflow.publish_approved` / `workflow.publish_rejected`."
        ),
        request=InputSerializer,
        responses={
            200: VersionReviewSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                e403="Not allowed, or you published it (`FOUR_EYES`).",
                e409="Already decided or superseded (`REVIEW_DECIDED`).",
            ),
        },
    )
    def post(self, request: Request, review_id: int) -> Response:
        user = request_user(request)
        review = reviews.review_get_for_user(review_id=review_id, user=user)
        workflow_get_for_user(workflow_id=review.workflow_id, user=user, need="edit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = reviews.review_decide(
            review=review,
            user=user,
            decision=data.validated_data["decision"],
            comment=data.validated_data["comment"],
        )
        return Response(review_to_dict(review, user))

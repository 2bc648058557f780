"""OpenAPI documentation helpers shared by the API views.

The views return plain dicts; the serializers here (and the ``*Out`` serializers next to each
view) only *describe* those dicts for drf-spectacular. They are never used to render a response.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

AnySerializer = serializers.Serializer[Any]


class ErrorBodySerializer(AnySerializer):
    code = serializers.CharField(help_text="Stable error code, e.g. `NOT_FOUND`, `STALE_REVISION`.")
    message = serializers.CharField(help_text="Human readable message.")
    details = serializers.JSONField(
        required=False,
        help_text=(
            "Structured details, only present when there are some: a list of validation problems "
            "(`{field, message}` or `{code, message, node_id, edge_id}`) or an object."
        ),
    )


class ErrorResponseSerializer(AnySerializer):
    error = ErrorBodySerializer()


class WorkflowRefSerializer(AnySerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


_ERROR_DESCRIPTIONS = {
    400: "Bad input (`BAD_REQUEST`, `PARSE_ERROR`, `WORKFLOW_INVALID`, `INPUT_INVALID`, ...).",
    401: "Not signed in (`NOT_AUTHENTICATED`).",
    403: "Signed in but not allowed (`PERMISSION_DENIED`).",
    404: "Does not exist, or you may not see it (`NOT_FOUND`).",
    409: "Conflict: stale edit, already decided or claimed (`STALE_REVISION`, `APPROVAL_DECIDED`, ...).",
    413: "Body too large (`PAYLOAD_TOO_LARGE`).",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """``{status: ErrorResponse}`` for ``@extend_schema(responses=...)``.

    ``descriptions`` overrides the default text per status, keyed ``e409="..."``.
    """
    return {
        status: OpenApiResponse(
            response=ErrorResponseSerializer,
            description=descriptions.get(f"e{status}", _ERROR_DESCRIPTIONS[status]),
        )
        for status in statuses
    }


def enum_field(component_name: str, values: list[str], **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField documented as the shared enum component ``component_name``.

    For a choice set that appears in several components under the same field name (``status``
    of a run summary and a run detail), which drf-spectacular could otherwise only name by hash.
    """

    @extend_schema_field({"type": "string", "enum": values}, component_name=component_name)
    class NamedChoiceField(serializers.ChoiceField):
        pass

    return NamedChoiceField(choices=values, **kwargs)


_PAGINATED: dict[str, type[AnySerializer]] = {}


def paginated(item: type[AnySerializer]) -> type[AnySerializer]:
    """The ``{count, next, previous, results: [item]}`` page of a list endpoint.

    Cached per item serializer, so every list of the same items shares one component.
    """
    base = item.__name__.removesuffix("Serializer")
    name = f"Paginated{base}ListSerializer"
    if name not in _PAGINATED:

        class Page(AnySerializer):
            count = serializers.IntegerField(help_text="Total number of items.")
            next = serializers.URLField(allow_null=True, help_text="URL of the next page, or null.")
            previous = serializers.URLField(allow_null=True, help_text="URL of the previous page, or null.")
            results = item(many=True)

        Page.__name__ = Page.__qualname__ = name  # drf-spectacular names the component after the class
        _PAGINATED[name] = Page
    return _PAGINATED[name]


PAGE_PARAMETER = OpenApiParameter(
    "page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Page number (1-based, 50 items a page)."
)

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from django.conf import settings
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.common.errors import error_body
from backend.common.schema import AnySerializer


def _version() -> str:
    try:
        return version("baton")
    except PackageNotFoundError:
        return "0.1.0"


class HealthSerializer(AnySerializer):
    status = serializers.ChoiceField(choices=["ok"])
    mode = serializers.ChoiceField(choices=["embedded", "production"])
    version = serializers.CharField()


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        summary="Health check",
        description="No sign-in needed. Checks the database connection.",
        responses={200: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok", "mode": settings.BATON_MODE, "version": _version()})


def spa_index(request: HttpRequest) -> HttpResponse | FileResponse:
    """Serve the built editor for every client-side route."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(
            "The frontend is not built. Run `make run` (or `cd frontend && npm ci && npm run build`).",
            status=503,
            content_type="text/plain",
        )
    response = FileResponse(index.open("rb"), content_type="text/html")
    response["Cache-Control"] = "no-cache"
    return response


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse(error_body("NOT_FOUND", f"No API endpoint at {request.path}."), status=404)


def api_server_error(request: HttpRequest) -> HttpResponse:
    """A bug must still answer API clients in the API's shape (never an HTML page)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("INTERNAL_ERROR", "Something went wrong on our side."), status=500)
    return HttpResponse("Server error", status=500, content_type="text/plain")


def api_bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("BAD_REQUEST", "The request could not be read."), status=400)
    return HttpResponse("Bad request", status=400, content_type="text/plain")

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.lockout import LOCKED_OUT, lockout_message, lockout_seconds
from backend.accounts.models import User
from backend.accounts.selectors import user_to_dict
from backend.audit.services import audit_record
from backend.common.errors import ApiError
from backend.common.schema import AnySerializer, ErrorResponseSerializer, error_responses


class UserSerializer(AnySerializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.ChoiceField(choices=["admin", "builder", "reviewer", "viewer"])
    is_admin = serializers.BooleanField()
    queues = serializers.ListField(child=serializers.CharField(), help_text="Review queues the user is in.")


class CsrfTokenSerializer(AnySerializer):
    csrf_token = serializers.CharField()


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CsrfApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Get a CSRF token",
        description="Sets the `csrftoken` cookie; send its value as `X-CSRFToken` on unsafe requests.",
        responses={200: CsrfTokenSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request)})


class LoginApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="Login")
    class InputSerializer(AnySerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=512, trim_whitespace=False)

    @extend_schema(
        summary="Sign in",
        description="Starts a session (cookie). `/api/auth/token/` is an alias of `/api/auth/login/`.",
        request=InputSerializer,
        responses={
            200: UserSerializer,
            **error_responses(
                400,
                401,
                403,
                e401="Wrong username or password (`INVALID_CREDENTIALS`).",
                e403="CSRF check failed (`PERMISSION_DENIED`).",
            ),
            429: OpenApiResponse(
                response=ErrorResponseSerializer,
                description=(
                    "Too many failed sign-ins for this username from this address (`LOCKED_OUT`); "
                    "see `Retry-After`."
                ),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        # DRF exempts unauthenticated requests from CSRF; a login form must not be (login CSRF).
        SessionAuthentication().enforce_csrf(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # django-axes needs the HttpRequest: it counts failures per username + IP address.
        user = authenticate(request._request, **data.validated_data)
        if getattr(request._request, "axes_locked_out", False):
            audit_record(
                actor=None,
                action="auth.locked_out",
                request=request,
                data={"username": data.validated_data["username"]},
            )
            raise ApiError(
                lockout_message(),
                code=LOCKED_OUT,
                status_code=429,
                details={"retry_after_seconds": lockout_seconds()},
            )
        if user is None or not isinstance(user, User):
            audit_record(
                actor=None,
                action="auth.login_failed",
                request=request,
                data={"username": data.validated_data["username"]},
            )
            raise ApiError("Wrong username or password.", code="INVALID_CREDENTIALS", status_code=401)
        login(request._request, user)
        audit_record(actor=user, action="auth.login", request=request)
        return Response(user_to_dict(user))


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="Sign out", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if request.user.is_authenticated:
            audit_record(actor=request.user, action="auth.logout", request=request)
        logout(request._request)
        return Response(status=204)


class MeApi(APIView):
    @extend_schema(summary="The signed-in user", responses={200: UserSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        return Response(user_to_dict(request.user))

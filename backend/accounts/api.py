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

from backend.accounts import services
from backend.accounts.lockout import LOCKED_OUT, lockout_message, lockout_seconds
from backend.accounts.models import ApiToken, User
from backend.accounts.oidc import sso_config
from backend.accounts.selectors import (
    api_token_get_for_user,
    api_token_list_for_user,
    api_token_to_dict,
    user_admin_dict,
    user_check_admin,
    user_get_for_admin,
    user_list_for_admin,
    user_to_dict,
)
from backend.audit.services import audit_record
from backend.common.api import paginated
from backend.common.errors import ApiError, Forbidden
from backend.common.schema import PAGE_PARAMETER, AnySerializer, ErrorResponseSerializer, error_responses
from backend.common.schema import paginated as paginated_of


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


class SsoConfigSerializer(AnySerializer):
    enabled = serializers.BooleanField()
    label = serializers.CharField(help_text="The button's text, e.g. `Sign in with SSO`.")  # type: ignore[assignment]
    login_url = serializers.CharField(help_text="Open this URL (a browser navigation) to sign in.")


class AuthConfigSerializer(AnySerializer):
    password_login = serializers.BooleanField()
    sso = SsoConfigSerializer()


class AuthConfigApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        summary="How to sign in",
        description=(
            "No sign-in needed. Tells the sign-in page whether single sign-on (OpenID Connect) is "
            "configured; `sso.login_url` starts it (`?next=/path` returns there afterwards)."
        ),
        responses={200: AuthConfigSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(sso_config())


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


# --- Users (admins), invitations, personal API tokens ------------------------------------------

_ROLES = [r.value for r in User.Role]


class AdminUserSerializer(UserSerializer):
    email = serializers.CharField(allow_blank=True)
    is_active = serializers.BooleanField()
    invitation_pending = serializers.BooleanField(help_text="Invited and has not accepted yet.")
    last_login = serializers.DateTimeField(allow_null=True)
    date_joined = serializers.DateTimeField()


class UserCreatedSerializer(AdminUserSerializer):
    invite_url = serializers.CharField(
        allow_null=True,
        help_text="`/invite/<token>` when no password was given. Shown once; the token is not stored.",
    )


class ApiTokenSerializer(AnySerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="First 8 characters of the token.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(help_text="The full token `bat_...`. Returned once, never again.")


def _me(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class UserListApi(APIView):
    @extend_schema_serializer(component_name="UserCreate")
    class InputSerializer(AnySerializer):
        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
        email = serializers.EmailField(required=False, allow_blank=True, default="")
        display_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
        role = serializers.ChoiceField(choices=_ROLES)
        password = serializers.CharField(
            required=False, allow_blank=True, max_length=512, trim_whitespace=False, write_only=True
        )
        queues = serializers.ListField(
            child=serializers.CharField(max_length=100), required=False, max_length=100
        )

    @extend_schema(
        summary="List users",
        description="Admins only.",
        operation_id="users_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(AdminUserSerializer), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        return paginated(self, request, user_list_for_admin(user=_me(request)), user_admin_dict)

    @extend_schema(
        summary="Create or invite a user",
        description=(
            "Admins only. With `password` the user is active at once (`400 PASSWORD_INVALID` when "
            "the password validators refuse it). Without it the user is inactive and the response "
            "carries `invite_url` (`/invite/<token>`, valid 7 days, shown once). "
            "`409 USERNAME_TAKEN`, `400 QUEUE_NOT_FOUND`."
        ),
        request=InputSerializer,
        responses={
            201: UserCreatedSerializer,
            **error_responses(400, 401, 403, 409, e409="Username taken (`USERNAME_TAKEN`)."),
        },
    )
    def post(self, request: Request) -> Response:
        actor = _me(request)
        user_check_admin(user=actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, raw = services.user_create(actor=actor, request=request, **data.validated_data)
        invite_url = f"/invite/{raw}" if raw else None
        return Response({**user_admin_dict(user), "invite_url": invite_url}, status=201)


class UserDetailApi(APIView):
    @extend_schema_serializer(component_name="UserUpdate")
    class InputSerializer(AnySerializer):
        role = serializers.ChoiceField(choices=_ROLES, required=False)
        display_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        email = serializers.EmailField(required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False, help_text="false deactivates the user.")
        queues = serializers.ListField(
            child=serializers.CharField(max_length=100),
            required=False,
            max_length=100,
            help_text="Replaces the user's queue memberships.",
        )

    @extend_schema(
        summary="Get a user",
        description="Admins only.",
        operation_id="users_retrieve",
        responses={200: AdminUserSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, user_id: int) -> Response:
        return Response(user_admin_dict(user_get_for_admin(user_id=user_id, user=_me(request))))

    @extend_schema(
        summary="Change a user",
        description=(
            "Admins only: role, display name, e-mail, queues, `is_active: false` to deactivate "
            "(the user can no longer sign in; sessions and API tokens stop working). An admin cannot "
            "deactivate or demote themselves (`400 CANNOT_CHANGE_SELF`)."
        ),
        request=InputSerializer,
        responses={200: AdminUserSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, user_id: int) -> Response:
        actor = _me(request)
        user = user_get_for_admin(user_id=user_id, user=actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(actor=actor, user=user, request=request, **data.validated_data)
        return Response(user_admin_dict(user))


class InvitationAcceptApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="InvitationAccept")
    class InputSerializer(AnySerializer):
        token = serializers.CharField(max_length=200, allow_blank=True)
        password = serializers.CharField(max_length=512, trim_whitespace=False)

    @extend_schema(
        summary="Accept an invitation",
        description=(
            "Sets the invited user's password and activates them (CSRF-checked like sign-in; does "
            "not sign in). `400 INVITATION_INVALID` for an unknown, expired or used token; "
            "`400 PASSWORD_INVALID` with details when the password is refused."
        ),
        request=InputSerializer,
        responses={200: UserSerializer, **error_responses(400, 403, e403="CSRF check failed.")},
    )
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.invitation_accept(request=request, **data.validated_data)
        return Response(user_to_dict(user))


class ApiTokenListApi(APIView):
    @extend_schema_serializer(component_name="ApiTokenCreate")
    class InputSerializer(AnySerializer):
        name = serializers.CharField(max_length=100)
        expires_at = serializers.DateTimeField(help_text="Required; at most 365 days from now.")

    @extend_schema(
        summary="List your API tokens",
        description="Your own tokens, newest first; only the prefix of each is shown.",
        operation_id="auth_tokens_list",
        parameters=[PAGE_PARAMETER],
        responses={200: paginated_of(ApiTokenSerializer), **error_responses(401, 404)},
    )
    def get(self, request: Request) -> Response:
        return paginated(self, request, api_token_list_for_user(user=_me(request)), api_token_to_dict)

    @extend_schema(
        summary="Create an API token",
        description=(
            "Returns the full token `bat_...` once in `token`; use it as `Authorization: Bearer <token>`. "
            "Only a session can create tokens (a token cannot mint another: 403). "
            "`400 TOKEN_EXPIRY_INVALID` when `expires_at` is past or more than 365 days away."
        ),
        request=InputSerializer,
        responses={201: ApiTokenCreatedSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        user = _me(request)
        if isinstance(request.auth, ApiToken):
            raise Forbidden("Create API tokens from a signed-in session, not with a token.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = services.api_token_create(user=user, request=request, **data.validated_data)
        return Response({**api_token_to_dict(token), "token": raw}, status=201)


class ApiTokenDetailApi(APIView):
    @extend_schema(
        summary="Revoke an API token",
        responses={204: OpenApiResponse(description="Revoked."), **error_responses(401, 404)},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        user = _me(request)
        token = api_token_get_for_user(token_id=token_id, user=user)
        services.api_token_revoke(token=token, actor=user, request=request)
        return Response(status=204)

"""Single sign-on with OpenID Connect, on top of mozilla-django-oidc.

Off unless ``BATON_OIDC_ISSUER``, ``BATON_OIDC_CLIENT_ID`` and ``BATON_OIDC_CLIENT_SECRET`` are set.
The provider's endpoints come from ``<issuer>/.well-known/openid-configuration`` (fetched once per
process). The flow is the authorization code flow with state, nonce and PKCE (S256); the id_token
must be signed (RS256/ES256 via the provider's JWKS), name our client in ``aud`` and the configured
issuer in ``iss``.

Users are linked by ``(issuer, sub)`` (``User.oidc_subject``), never by e-mail address: an e-mail
claim is not proof of owning a local account. On every sign-in the user's e-mail, display name and
role are refreshed from the claims; the role is the highest one any of the user's groups maps to
(``BATON_OIDC_GROUP_ROLES``). A user in no mapped group is refused (``SSO_NO_ROLE``) unless
``BATON_OIDC_DEFAULT_ROLE`` names a role. A deactivated user stays refused.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from backend.accounts.models import User
from backend.accounts.oidc_roles import ROLE_RANK, parse_group_roles
from backend.audit.services import audit_record
from backend.common.errors import error_body

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"

# Reasons a sign-in was refused; the login page shows a message for each.
SSO_FAILED = "SSO_FAILED"
SSO_NO_ROLE = "SSO_NO_ROLE"
SSO_INACTIVE = "SSO_INACTIVE"
SSO_PROVIDER_ERROR = "SSO_PROVIDER_ERROR"


def oidc_enabled() -> bool:
    return bool(
        settings.BATON_OIDC_ISSUER and settings.BATON_OIDC_CLIENT_ID and settings.BATON_OIDC_CLIENT_SECRET
    )


def sso_config() -> dict[str, Any]:
    """What the sign-in page needs to know (public: no secret, no endpoint but our own)."""
    enabled = oidc_enabled()
    return {
        "password_login": True,
        "sso": {
            "enabled": enabled,
            "label": settings.BATON_OIDC_BUTTON_LABEL if enabled else "",
            "login_url": "/api/auth/oidc/authenticate/" if enabled else "",
        },
    }


def role_for_groups(groups: list[str]) -> str | None:
    """The highest role any of ``groups`` maps to, else ``BATON_OIDC_DEFAULT_ROLE`` (or None)."""
    mapping = parse_group_roles(settings.BATON_OIDC_GROUP_ROLES)
    roles = [mapping[g] for g in groups if g in mapping]
    if roles:
        return max(roles, key=lambda r: ROLE_RANK[r])
    default = settings.BATON_OIDC_DEFAULT_ROLE.strip().lower()
    return default if default in ROLE_RANK else None


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


_providers: dict[str, Provider] = {}


def provider() -> Provider:
    """The issuer's discovery document, fetched once per process (per issuer)."""
    issuer = settings.BATON_OIDC_ISSUER
    cached = _providers.get(issuer)
    if cached:
        return cached
    response = requests.get(
        f"{issuer}/.well-known/openid-configuration", timeout=settings.BATON_OIDC_TIMEOUT_SECONDS
    )
    response.raise_for_status()
    doc = response.json()
    if str(doc.get("issuer", "")).rstrip("/") != issuer:
        raise SuspiciousOperation("The discovery document names another issuer.")
    found = Provider(
        issuer=issuer,
        authorization_endpoint=str(doc["authorization_endpoint"]),
        token_endpoint=str(doc["token_endpoint"]),
        userinfo_endpoint=str(doc.get("userinfo_endpoint") or ""),
        jwks_uri=str(doc["jwks_uri"]),
    )
    _providers[issuer] = found
    return found


def _oidc_setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, derived from ours (the library reads them by name)."""
    if attr.startswith("OIDC_OP_"):
        p = provider()
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": p.authorization_endpoint,
            "OIDC_OP_TOKEN_ENDPOINT": p.token_endpoint,
            "OIDC_OP_USER_ENDPOINT": p.userinfo_endpoint,
            "OIDC_OP_JWKS_ENDPOINT": p.jwks_uri,
        }.get(attr, args[0] if args else None)
    ours: dict[str, Any] = {
        "OIDC_RP_CLIENT_ID": settings.BATON_OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.BATON_OIDC_CLIENT_SECRET,
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": settings.BATON_OIDC_SCOPES,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_TIMEOUT": settings.BATON_OIDC_TIMEOUT_SECONDS,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc-callback",
        "OIDC_CREATE_USER": True,
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
        "LOGIN_REDIRECT_URL": "/",
        "LOGIN_REDIRECT_URL_FAILURE": f"{LOGIN_PATH}?sso_error={SSO_FAILED}",
    }
    if attr in ours:
        return ours[attr]
    return import_from_settings(attr, *args)


def _fail(request: HttpRequest, reason: str) -> None:
    request.baton_sso_error = reason  # type: ignore[attr-defined]


class BatonOidcBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    """Creates or updates the Baton user from the provider's claims; inert while SSO is off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads (and validates) its settings here; that needs the provider, so only
        # when SSO is on and a sign-in is under way (see authenticate).
        self.UserModel = User

    get_settings = staticmethod(_oidc_setting)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:  # type: ignore[override]
        if request is None or not oidc_enabled() or "nonce" not in kwargs:
            return None  # a password sign-in, or SSO is off
        super().__init__()
        user: User | None = super().authenticate(request, **kwargs)
        return user

    def get_user(self, user_id: int) -> User | None:  # type: ignore[override]
        try:
            return User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        if str(payload.get("iss", "")).rstrip("/") != settings.BATON_OIDC_ISSUER:
            raise SuspiciousOperation("The id_token comes from another issuer.")
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if settings.BATON_OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The id_token was issued to another client.")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        userinfo: dict[str, Any] = {}
        if provider().userinfo_endpoint:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo answer is about another subject.")
        claims = {**payload, **userinfo}
        sub = str(claims.get("sub") or "")
        if not sub:
            raise SuspiciousOperation("The id_token has no subject.")
        groups_claim = claims.get(settings.BATON_OIDC_GROUPS_CLAIM) or []
        groups = [str(g) for g in groups_claim] if isinstance(groups_claim, list) else [str(groups_claim)]
        role = role_for_groups(groups)
        subject = f"{settings.BATON_OIDC_ISSUER} {sub}"
        if role is None:
            _fail(self.request, SSO_NO_ROLE)
            audit_record(
                actor=None,
                action="auth.login_failed",
                request=self.request,
                data={"method": "sso", "reason": SSO_NO_ROLE, "subject": sub, "groups": groups[:50]},
            )
            return None
        return self._upsert(subject=subject, claims=claims, role=role, groups=groups)

    @transaction.atomic
    def _upsert(self, *, subject: str, claims: dict[str, Any], role: str, groups: list[str]) -> User:
        user = User.objects.select_for_update().filter(oidc_subject=subject).first()
        created = user is None
        if user is None:
            user = User(oidc_subject=subject, username=_free_username(claims))
            user.set_unusable_password()
        before = user.role
        user.email = str(claims.get("email") or "")[:254]
        user.display_name = str(claims.get("name") or claims.get("preferred_username") or "")[:150]
        user.role = role
        user.is_staff = user.is_superuser = role == User.Role.ADMIN
        user.save()
        data: dict[str, Any] = {"method": "sso", "groups": groups[:50], "role": role}
        if created:
            data["created"] = True
        elif before != role:
            data["role_before"] = before
        self.request.baton_sso_data = data  # type: ignore[attr-defined]
        return user


def _free_username(claims: dict[str, Any]) -> str:
    base = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "sso-user")
    base = re.sub(r"[^\w.@+-]", "-", base)[:140] or "sso-user"
    candidate, n = base, 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _disabled(request: HttpRequest) -> HttpResponse | None:
    if request.method != "GET":
        return JsonResponse(error_body("METHOD_NOT_ALLOWED", "Use GET."), status=405)
    if not oidc_enabled():
        return JsonResponse(error_body("SSO_DISABLED", "Single sign-on is not configured."), status=404)
    return None


def _to_login(reason: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{LOGIN_PATH}?{urlencode({'sso_error': reason})}")


class OidcStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]
    """``GET /api/auth/oidc/authenticate/?next=/path``: redirects to the provider."""

    get_settings = staticmethod(_oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _disabled(request)
        if refused:
            return refused
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider().authorization_endpoint
        except (requests.RequestException, KeyError, ValueError, SuspiciousOperation) as exc:
            log.warning("OpenID provider discovery failed: %s", type(exc).__name__)
            return _to_login(SSO_PROVIDER_ERROR)
        self.OIDC_RP_CLIENT_ID = settings.BATON_OIDC_CLIENT_ID
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response


class OidcCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """``GET /api/auth/oidc/callback/?code=…&state=…``: signs the user in, then back to the app."""

    get_settings = staticmethod(_oidc_setting)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _disabled(request)
        if refused:
            return refused
        try:
            response: HttpResponse = super().dispatch(request, *args, **kwargs)
        except SuspiciousOperation as exc:
            # Unknown state (CSRF or replay), nonce mismatch, bad signature, wrong issuer…
            log.warning("SSO sign-in refused: %s", exc)
            audit_record(
                actor=None,
                action="auth.login_failed",
                request=request,
                data={"method": "sso", "reason": str(exc)},
            )
            return _to_login(SSO_FAILED)
        except requests.RequestException as exc:
            log.warning("SSO sign-in failed talking to the provider: %s", type(exc).__name__)
            return _to_login(SSO_PROVIDER_ERROR)
        return response

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            audit_record(
                actor=None,
                action="auth.login_failed",
                request=self.request,
                data={"method": "sso", "reason": SSO_INACTIVE, "username": user.username},
            )
            return _to_login(SSO_INACTIVE)
        return _to_login(getattr(self.request, "baton_sso_error", SSO_FAILED))

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        audit_record(
            actor=self.user,
            action="auth.login",
            request=self.request,
            data=getattr(self.request, "baton_sso_data", {"method": "sso"}),
        )
        return response


oidc_start = never_cache(OidcStartView.as_view())
oidc_callback = never_cache(OidcCallbackView.as_view())

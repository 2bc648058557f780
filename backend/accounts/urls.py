"""Users (admins), invitations and personal API tokens; included under /api/."""

from django.urls import path

from backend.accounts import api, oidc

urlpatterns = [
    path("users/", api.UserListApi.as_view(), name="user-list"),
    path("users/<int:user_id>/", api.UserDetailApi.as_view(), name="user-detail"),
    path("auth/config/", api.AuthConfigApi.as_view(), name="auth-config"),
    path("auth/oidc/authenticate/", oidc.oidc_start, name="oidc-authenticate"),
    path("auth/oidc/callback/", oidc.oidc_callback, name="oidc-callback"),
    path("auth/invitations/accept/", api.InvitationAcceptApi.as_view(), name="auth-invitation-accept"),
    path("auth/tokens/", api.ApiTokenListApi.as_view(), name="auth-token-list"),
    path("auth/tokens/<int:token_id>/", api.ApiTokenDetailApi.as_view(), name="auth-token-detail"),
]

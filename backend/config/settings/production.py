"""Production mode (``docker compose up``): PostgreSQL, Redis, separate worker processes.

Refuses to start with the embedded defaults for anything secret.
"""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from backend.config.settings.base import *

if SECRET_KEY == INSECURE_DEFAULT_SECRET or len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("Set SECRET_KEY (at least 40 random characters) for production mode.")
if not BATON_SECRET_KEYS:
    raise ImproperlyConfigured(
        "Set BATON_SECRET_KEYS for production mode: comma-separated Fernet keys, the first one is primary "
        "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'). "
        "Production never derives the secrets key from SECRET_KEY."
    )
for _index, _key in enumerate(BATON_SECRET_KEYS):
    try:
        Fernet(_key.encode())
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"BATON_SECRET_KEYS entry #{_index + 1} is not a Fernet key (32 url-safe base64 bytes)."
        ) from _exc
if not env_str("DATABASE_URL") or not REDIS_URL:
    raise ImproperlyConfigured("Production mode needs DATABASE_URL (PostgreSQL) and REDIS_URL.")

if BATON_OIDC_ISSUER and not BATON_OIDC_ISSUER.startswith("https://"):
    raise ImproperlyConfigured("BATON_OIDC_ISSUER must be an https:// URL in production mode.")
if BATON_OIDC_ISSUER and BATON_OIDC_GROUP_ROLES:
    from backend.accounts.oidc_roles import parse_group_roles

    try:
        parse_group_roles(BATON_OIDC_GROUP_ROLES)
    except ValueError as _exc:
        raise ImproperlyConfigured(str(_exc)) from _exc

EMBEDDED_WORKER = False
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]  # container health checks speak plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
BATON_MAIL_TRANSPORT = env_str("BATON_MAIL_TRANSPORT", "smtp")
if BATON_MAIL_TRANSPORT == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

"""Settings shared by every mode. Environment variables decide; defaults suit embedded mode only.

Embedded mode (``make run``): SQLite in ``var/``, an in-process channel layer and an in-process
Celery worker. Production mode (``REDIS_URL`` and ``DATABASE_URL`` set): PostgreSQL, Redis
channel layer and broker, separate worker processes.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from backend.config.env import env_bool, env_int, env_list, env_str

# litellm reads this at import time; the machine is offline and the cost map ships with it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(env_str("BATON_VAR_DIR", str(BASE_DIR / "var")))
FRONTEND_DIST = Path(env_str("BATON_FRONTEND_DIST", str(BASE_DIR / "frontend" / "dist")))

INSECURE_DEFAULT_SECRET = "embedded-mode-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "backend.common",
    "backend.accounts",
    "backend.workflows",
    "backend.runs",
    "backend.approvals",
    "backend.connectors",
    "backend.audit",
    "backend.policies",
    "backend.memory",
    "backend.gateway",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backend.common.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lockout flagged during authenticate() into our 429 LOCKED_OUT response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.config.urls"
ASGI_APPLICATION = "backend.config.asgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def _database() -> dict[str, object]:
    url = env_str("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
        return dict(db)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "baton.sqlite3"),
        # WAL + IMMEDIATE transactions: the in-process worker and web requests write at once.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# django-axes first: it refuses locked-out username+IP pairs before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("BATON_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("BATON_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Review inbox: "due soon" = pending items due within this many hours (or overdue).
BATON_DUE_SOON_HOURS = env_int("BATON_DUE_SOON_HOURS", 24)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backend.accounts.lockout.lockout_response"
AXES_VERBOSE = False

# Single sign-on with OpenID Connect (backend.accounts.oidc, mozilla-django-oidc). Off unless the
# issuer, client id and client secret are all set; the endpoints come from the issuer's discovery
# document. Groups map to roles: "baton-admins=admin,baton-builders=builder" (highest role wins);
# a user in none of them is refused unless BATON_OIDC_DEFAULT_ROLE names a role.
BATON_OIDC_ISSUER = env_str("BATON_OIDC_ISSUER").rstrip("/")
BATON_OIDC_CLIENT_ID = env_str("BATON_OIDC_CLIENT_ID")
BATON_OIDC_CLIENT_SECRET = env_str("BATON_OIDC_CLIENT_SECRET")
BATON_OIDC_SCOPES = env_str("BATON_OIDC_SCOPES", "openid email profile")
BATON_OIDC_GROUPS_CLAIM = env_str("BATON_OIDC_GROUPS_CLAIM", "groups")
BATON_OIDC_GROUP_ROLES = env_str("BATON_OIDC_GROUP_ROLES")
BATON_OIDC_DEFAULT_ROLE = env_str("BATON_OIDC_DEFAULT_ROLE")
BATON_OIDC_BUTTON_LABEL = env_str("BATON_OIDC_BUTTON_LABEL", "Sign in with SSO")
BATON_OIDC_TIMEOUT_SECONDS = env_int("BATON_OIDC_TIMEOUT_SECONDS", 10)
# Inert while SSO is off: it only answers the callback of a sign-in it started.
AUTHENTICATION_BACKENDS.append("backend.accounts.oidc.BatonOidcBackend")

# Secrets at rest (backend.common.crypto): comma-separated Fernet keys, the first one encrypts.
# Empty means "derive one key from SECRET_KEY" — embedded mode only; production requires the list.
BATON_SECRET_KEYS = env_list("BATON_SECRET_KEYS", [])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The built editor (vite) is served from the site root: /assets/..., /favicon.svg.
WHITENOISE_ROOT = FRONTEND_DIST if FRONTEND_DIST.exists() else None
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("BATON_MAX_BODY_BYTES", 2 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "backend.accounts.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "backend.common.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Baton API",
    "DESCRIPTION": (
        "Workflows, runs, the review inbox and the outbox. Errors: {error: {code, message, details}}."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI assets ship with the package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Channels, Celery: embedded unless REDIS_URL is set -------------------------------------
REDIS_URL = env_str("REDIS_URL")
BATON_MODE = "production" if REDIS_URL else "embedded"

if REDIS_URL:
    # The pub/sub layer: the default Redis layer dropped messages under bursts when measured here.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"visibility_timeout": 3600}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "backend.common.layers.ThreadSafeInMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://localhost/"
    # kombu's memory transport polls once a second by default: half a second lost per task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.02}

CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Never lose a run when a worker dies: ack after the task, requeue on worker loss, take one at
# a time. The database holds the run's state; the reaper re-dispatches runs with expired leases.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "reap-expired-leases": {"task": "backend.runs.tasks.run_reap", "schedule": 30.0},
    "wake-due-timers": {"task": "backend.runs.tasks.run_wake_timers", "schedule": 5.0},
    "fail-overdue-runs": {"task": "backend.runs.tasks.runs_fail_overdue", "schedule": 30.0},
    "fire-due-schedules": {"task": "backend.runs.tasks.schedules_fire_due", "schedule": 30.0},
    "approvals-handle-due": {"task": "backend.runs.tasks.approvals_handle_due", "schedule": 30.0},
    "purge-expired-runs": {"task": "backend.runs.tasks.runs_purge_expired", "schedule": 86400.0},
}
# Days to keep finished runs (with their steps, events and effects); 0 = keep forever.
BATON_RETENTION_DAYS = env_int("BATON_RETENTION_DAYS", 0)
# Budget approvals (on_budget=approve) of a workflow without a human.approval node go here.
BATON_BUDGET_QUEUE = env_str("BATON_BUDGET_QUEUE", "Default") or "Default"

# Hosts on private networks that http.request may reach (comma-separated names, IPs or CIDRs).
# Empty: every loopback, private and link-local destination is refused (SSRF guard).
BATON_HTTP_ALLOW_PRIVATE_HOSTS = env_list("BATON_HTTP_ALLOW_PRIVATE_HOSTS", [])

# Engine knobs, turned into a typed config for orchestrator_core by backend.runs.engine.
ORCHESTRATOR: dict[str, Any] = {
    "LEASE_SECONDS": env_int("BATON_LEASE_SECONDS", 120),
    "MAX_PARALLEL": env_int("BATON_MAX_PARALLEL", 4),
    "MODELS": [],  # extra litellm models: [{"name", "litellm_model", "api_base", "api_key", "tier"}]
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support@baton.local")
# "outbox": store sent mail in the database only (embedded); "smtp": also send via EMAIL_*.
BATON_MAIL_TRANSPORT = env_str("BATON_MAIL_TRANSPORT", "outbox")
# Where people open Baton: links in reviewer notifications are <BATON_PUBLIC_URL>/inbox/<id>.
BATON_PUBLIC_URL = env_str("BATON_PUBLIC_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "celery": {"level": "WARNING"},
        "LiteLLM": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # Wire-level DEBUG logs print request options and response headers, which may carry a
        # credential a server echoed back (tests/backend/test_secret_canary.py).
        "httpcore": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
    },
}

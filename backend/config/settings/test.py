"""Settings for pytest: fast hashing, eager Celery, in-memory channel layer."""

import os

from backend.config.settings.base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMBEDDED_WORKER = False
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if not os.environ.get("BATON_TEST_DATABASE_URL"):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
else:
    import dj_database_url

    DATABASES = {"default": dict(dj_database_url.parse(os.environ["BATON_TEST_DATABASE_URL"]))}
CHANNEL_LAYERS = {"default": {"BACKEND": "backend.common.layers.ThreadSafeInMemoryChannelLayer"}}
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]

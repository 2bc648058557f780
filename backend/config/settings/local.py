"""Embedded mode for one machine (``make run``): everything in one process."""

from backend.config.settings.base import *

EMBEDDED_WORKER = env_bool("BATON_EMBEDDED_WORKER", BATON_MODE == "embedded")

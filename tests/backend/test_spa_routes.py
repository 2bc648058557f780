"""Client-side routes load the app on a full page load; Django's admin lives at /django-admin/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def built_frontend(settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Baton app</title>")
    settings.FRONTEND_DIST = tmp_path
    return tmp_path


@pytest.mark.parametrize(
    "path",
    ["/admin/policies", "/admin/connectors", "/admin/users", "/admin/models", "/workflows/3", "/inbox"],
)
def test_a_reload_of_an_app_page_serves_the_app(built_frontend, path):
    response = APIClient().get(path)
    assert response.status_code == 200
    assert b"Baton app" in b"".join(response.streaming_content)


def test_django_admin_is_at_its_own_prefix(built_frontend):
    response = APIClient().get("/django-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/django-admin/login/")


def test_unknown_api_paths_stay_json_404(built_frontend):
    response = APIClient().get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"

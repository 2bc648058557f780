"""The admin's Model catalog page: litellm's defaults, an inline override, its validation.

Set BATON_DOC_SCREENSHOTS=1 to save docs/img/admin-models.png."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import call

pytestmark = pytest.mark.browser


def test_admin_overrides_a_models_tier_and_price(open_page) -> None:
    admin = open_page("admin")
    call(
        admin,
        "POST",
        "/api/connectors/",
        {
            "name": "OpenAI (e2e)",
            "kind": "model",
            "config": {
                "provider": "openai",
                "models": [{"name": "gpt-4o-mini", "tier": 2}, {"name": "gpt-4o", "tier": 3}],
            },
            "secret": {"api_key": "sk-e2e-not-a-real-key"},
        },
    )
    admin.get_by_role("button", name="Admin", exact=True).click()
    admin.get_by_role("link", name="Models").click()
    expect(admin).to_have_url(re.compile(r"/admin/models$"))
    mini = admin.get_by_test_id("model-row-gpt-4o-mini")
    expect(mini).to_contain_text("$0.15")  # litellm's local cost map
    expect(mini).to_contain_text("$0.6")
    expect(admin.get_by_test_id("model-row-demo")).to_contain_text("built in")

    admin.get_by_role("button", name="Edit gpt-4o-mini").click()
    admin.get_by_label("Tier of gpt-4o-mini").fill("9")
    admin.get_by_role("button", name="Save").click()
    expect(mini.get_by_role("alert")).to_contain_text("Tier: 1 to 3")
    admin.get_by_label("Tier of gpt-4o-mini").fill("3")
    admin.get_by_label("Input $ / 1M of gpt-4o-mini").fill("0.2")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("button", name="Save")).to_have_count(0)
    expect(mini).to_contain_text("$0.2")
    expect(mini).to_contain_text("default $0.15")
    # The public catalog (what the editor's model picker reads) follows at once.
    models = {m["name"]: m for m in call(admin, "GET", "/api/models/")["results"]}
    assert models["gpt-4o-mini"]["tier"] == 3
    assert models["gpt-4o-mini"]["input_usd_per_1m"] == pytest.approx(0.2)
    assert admin.console_errors == []

    if os.environ.get("BATON_DOC_SCREENSHOTS"):
        admin.screenshot(path=str(ROOT / "docs" / "img" / "admin-models.png"), full_page=True)

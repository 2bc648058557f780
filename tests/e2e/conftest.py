"""Browser tests: Debian's Chromium driven by Playwright against a real embedded-mode server
(`manage.py baton_serve`, SQLite, in-process worker) started with a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, free_port, require_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORDS = {
    "admin": "baton-admin-demo",
    "builder": "baton-builder-demo",
    "reviewer": "baton-reviewer-demo",
}


@pytest.fixture(scope="session")
def baton_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_service(
        Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    )
    dist = Path(os.environ.get("BATON_FRONTEND_DIST") or ROOT / "frontend" / "dist")
    if not (dist / "index.html").exists():
        pytest.fail("The frontend is not built: run `make setup` (or `cd frontend && npm run build`).")
    var_dir = tmp_path_factory.mktemp("e2e-var")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
        "BATON_VAR_DIR": str(var_dir),
        "BATON_EMBEDDED_WORKER": "true",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "baton_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (var_dir / "server.log").open("wb")
    server = subprocess.Popen(
        [python, "manage.py", "baton_serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"baton_serve exited: {(var_dir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base}/api/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("baton_serve did not become healthy in 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(baton_server: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # slow, busy machines: wait as a person would, not 5 s
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Any, baton_server: str, tmp_path: Path) -> Iterator[Any]:
    """``open_page(username)`` → a signed-in page in its own browser context (own cookies)."""
    contexts: list[Any] = []

    def make(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1400, "height": 860}, base_url=baton_server)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("current-user").wait_for()
        return page

    yield make
    for context in contexts:
        context.close()


_API_JS = """async ([method, path, body]) => {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  let token = cookie ? decodeURIComponent(cookie.split("=")[1]) : null;
  if (!token) token = (await (await fetch("/api/auth/csrf/")).json()).csrf_token;
  const r = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: body === null ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}"""


def call(page: Any, method: str, path: str, body: Any = None) -> Any:
    """Call the API from the page, with its session and CSRF token (as the SPA does); 2xx expected."""
    result = page.evaluate(_API_JS, [method, path, body])
    assert result["status"] < 300, result
    return result["body"]

"""Every node, port and control has an accessible name (issue 6).

Visits each page of the app signed in as the demo user who uses it, and on each runs two checks
in the page:

* axe-core (loaded from ``frontend/node_modules``, never fetched) with the naming rules only:
  ``button-name, link-name, label, select-name, aria-input-field-name, aria-command-name,
  aria-toggle-field-name, image-alt``;
* our own sweep over every visible interactive element (links, buttons, form fields, ARIA widget
  roles, anything focusable, and React Flow's nodes and handles), whose accessible name is computed
  with axe's implementation of the accname algorithm (aria-labelledby, aria-label, <label>, title,
  alt, text content; placeholder as a last resort).

Offenders are reported with a CSS path and an HTML excerpt. Set BATON_A11Y_SHOTS=docs/img to save
the editor screenshot with a loop node selected (docs/img/editor-loop-node.png).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import call

pytestmark = pytest.mark.browser

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RULES = [
    "button-name",
    "link-name",
    "label",
    "select-name",
    "aria-input-field-name",
    "aria-command-name",
    "aria-toggle-field-name",
    "image-alt",
]
INTERACTIVE = ", ".join(
    [
        "a[href]",
        "button",
        "input:not([type=hidden])",
        "select",
        "textarea",
        *(
            f"[role={r}]"
            for r in (
                "button",
                "link",
                "checkbox",
                "tab",
                "menuitem",
                "option",
                "switch",
                "slider",
                "combobox",
                "listbox",
            )
        ),
        "[tabindex]:not([tabindex^='-'])",
        ".react-flow__node",
        ".react-flow__handle",
    ]
)
# Roles that Chromium's accessibility tree must name (it computes names the way screen readers get them).
WIDGET_ROLES = {
    "button",
    "link",
    "checkbox",
    "radio",
    "textbox",
    "searchbox",
    "spinbutton",
    "combobox",
    "listbox",
    "option",
    "tab",
    "menuitem",
    "switch",
    "slider",
    "img",
}
CUSTOMER = {
    "Customer e-mail": "dora@example.com",
    "Subject": "Where is order 77?",
    "Message": "Hello, order 77 has not arrived yet. Can you check?",
}

_CHECK_JS = """async ([rules, selector]) => {
  const axe = window.axe;
  const cssPath = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
      let part = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(part + "#" + e.id); break; }
      const tid = e.getAttribute("data-testid");
      if (tid) { parts.unshift(part + '[data-testid="' + tid + '"]'); break; }
      const cls = [...e.classList].slice(0, 2).join(".");
      if (cls) part += "." + cls;
      parts.unshift(part);
    }
    return parts.join(" > ");
  };
  const result = await axe.run(document, {
    runOnly: { type: "rule", values: rules },
    resultTypes: ["violations"],
  });
  const offenders = [];
  for (const v of result.violations)
    for (const n of v.nodes)
      offenders.push({ check: "axe:" + v.id, where: n.target.join(" "), html: n.html.slice(0, 240) });

  axe.setup(document);
  try {
    for (const el of document.querySelectorAll(selector)) {
      if (el.closest("[aria-hidden=true], [inert]")) continue;
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if ((box.width === 0 && box.height === 0) || style.visibility === "hidden" || style.display === "none")
        continue;
      const vnode = axe.utils.getNodeFromTree(el);
      // Behind a modal dialog, or hidden from assistive technology: not reachable, not checked.
      if (!vnode || !axe.commons.dom.isVisibleToScreenReaders(vnode)) continue;
      let name = axe.commons.text.accessibleTextVirtual(vnode, {});
      if (!name.trim()) name = el.getAttribute("placeholder") || "";
      if (!name.trim())
        offenders.push({ check: "name", where: cssPath(el), html: el.outerHTML.slice(0, 240) });
    }
  } finally {
    axe.teardown();
  }
  return offenders;
}"""


def _chromium_unnamed(page: Any) -> list[dict[str, str]]:
    """Widgets in Chromium's own accessibility tree whose computed name is empty."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.getDocument", {"depth": 0})
        found = []
        for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
            role = (node.get("role") or {}).get("value")
            name = str((node.get("name") or {}).get("value") or "").strip()
            if node.get("ignored") or role not in WIDGET_ROLES or name:
                continue
            html = "?"
            if "backendDOMNodeId" in node:
                html = cdp.send("DOM.getOuterHTML", {"backendNodeId": node["backendDOMNodeId"]})["outerHTML"]
            found.append({"check": "chromium", "where": f"role={role}", "html": html[:240]})
        return found
    finally:
        cdp.detach()


def _offenders(page: Any, where: str) -> list[str]:
    """Every unnamed control on the page, as ``where: check at selector: html`` lines."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(_CHECK_JS, [AXE_RULES, INTERACTIVE]) + _chromium_unnamed(page)
    return [f"{where}: {o['check']} at {o['where']}: {o['html']}" for o in found]


def _settle(page: Any) -> None:
    """Wait until the page has loaded its data (no 'Loading…' left, the network idle)."""
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0)


def _visit(page: Any, path: str, ready: Any = None) -> list[str]:
    page.goto(path)
    if ready is not None:
        ready(page)
    _settle(page)
    return _offenders(page, path)


def _dialog(page: Any, button: str, where: str) -> list[str]:
    """Open a dialog with its button, check it, close it with Escape."""
    page.get_by_role("button", name=button, exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    _settle(page)
    found = _offenders(page, f"{where} ({button} dialog)")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    return found


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "fixtures" / "workflows" / name).read_text())


def test_every_control_node_and_port_has_an_accessible_name(open_page) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm ci` in frontend/"
    problems: list[str] = []
    builder = open_page("builder")
    reviewer = open_page("reviewer")
    admin = open_page("admin")

    # The workflow list, then the demo workflow in the editor: a node selected, the palette open.
    problems += _visit(
        builder,
        "/",
        lambda p: expect(p.get_by_role("link", name="Reply to a customer email").first).to_be_visible(),
    )
    # The check itself finds an unnamed control (or this test would pass on anything).
    builder.evaluate(
        "() => { const b = document.createElement('button'); b.id = 'a11y-probe'; document.body.append(b); }"
    )
    probe = _offenders(builder, "probe")
    builder.evaluate("() => document.getElementById('a11y-probe').remove()")
    assert any("axe:button-name" in p and "a11y-probe" in p for p in probe), probe
    assert any(": name at button#a11y-probe" in p for p in probe), probe
    assert any(': chromium at role=button: <button id="a11y-probe">' in p for p in probe), probe
    builder.get_by_role("link", name="Reply to a customer email").first.click()
    expect(builder.locator(".react-flow__node").first).to_be_visible()
    _settle(builder)
    builder.locator('.react-flow__node[data-id="draft"]').click()
    expect(builder.get_by_role("textbox", name="Node label")).to_be_visible()
    palette = builder.get_by_role("complementary", name="Node palette")
    if not palette.is_visible():
        builder.get_by_role("button", name=re.compile("palette", re.I)).first.click()
    expect(palette).to_be_visible()
    problems += _offenders(builder, "editor")
    # Names that say what a node and a port are, not only that they exist.
    node_name = builder.locator('.react-flow__node[data-id="draft"]').get_attribute("aria-label") or ""
    if not re.fullmatch(r"llm\.\w+ node: Draft reply", node_name):
        problems.append(f"editor: the draft node is named {node_name!r}")
    port_name = (
        builder.locator(
            '.react-flow__handle[data-nodeid="draft"][data-handlepos="right"]'
        ).first.get_attribute("aria-label")
        or ""
    )
    if not re.fullmatch(r"Output port \w+ of Draft reply", port_name):
        problems.append(f"editor: the draft node's output port is named {port_name!r}")

    for button in ("Shortcuts", "Versions", "Share", "Publish"):
        problems += _dialog(builder, button, "editor")

    # A run that waits for review: the reviewer's inbox and the review item.
    builder.get_by_role("button", name="Run", exact=True).click()
    dialog = builder.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Start run")).to_be_visible()
    problems += _offenders(builder, "editor (run dialog)")
    for label, value in CUSTOMER.items():
        dialog.get_by_role("textbox", name=label).fill(value)
    dialog.get_by_role("button", name="Start run").click()
    expect(builder.get_by_test_id("node-status-review")).to_have_text("waiting")
    run_link = builder.get_by_role("link", name="Open run page")
    run_id = int(run_link.get_attribute("href").rstrip("/").split("/")[-1])

    problems += _visit(
        reviewer,
        "/inbox",
        lambda p: expect(p.get_by_role("link", name=re.compile("Where is order 77")).first).to_be_visible(),
    )
    reviewer.get_by_role("link", name=re.compile("Where is order 77")).first.click()
    expect(reviewer.get_by_role("button", name="Approve")).to_be_visible()
    _settle(reviewer)
    problems += _offenders(reviewer, "review item")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_test_id("review-outcome")).to_contain_text(re.compile("approved", re.I))

    # The finished run's page.
    deadline = time.monotonic() + 90
    while call(builder, "GET", f"/api/runs/{run_id}/")["status"] != "succeeded":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
    problems += _visit(
        builder,
        f"/runs/{run_id}",
        lambda p: expect(p.get_by_test_id("run-status").first).to_have_text("succeeded"),
    )

    problems += _visit(builder, "/outbox")
    problems += _visit(builder, "/usage")
    problems += _visit(builder, "/templates")
    problems += _visit(builder, "/account/tokens")
    problems += _visit(reviewer, "/inbox/stats")
    admin.get_by_role("button", name="Admin", exact=True).click()
    expect(admin.get_by_role("link", name="Audit log")).to_be_visible()
    problems += _offenders(admin, "admin menu (open)")
    admin.keyboard.press("Escape")
    for path in (
        "/admin/users",
        "/admin/queues",
        "/admin/connectors",
        "/admin/models",
        "/admin/policies",
        "/admin/audit",
    ):
        problems += _visit(admin, path)
    # The admin pages' forms, open.
    for path, button in (
        ("/admin/users", "Invite user"),
        ("/admin/queues", "New queue"),
        ("/admin/connectors", "New connector"),
    ):
        admin.goto(path)
        _settle(admin)
        admin.get_by_role("button", name=button, exact=True).click()
        _settle(admin)
        problems += _offenders(admin, f"{path} ({button})")

    # A loop node's configuration (its `version` field: "latest" or a pinned number).
    body = call(
        builder,
        "POST",
        "/api/workflows/",
        {"name": "Greet one (a11y)", "document": _fixture("subworkflow_body_greet.json")},
    )
    call(builder, "POST", f"/api/workflows/{body['id']}/publish/", {"note": "v1"})
    document = _fixture("loop_greet_each.json")
    document["nodes"][1]["config"]["workflow"] = str(body["id"])
    loop = call(builder, "POST", "/api/workflows/", {"name": "Greet everyone (a11y)", "document": document})
    loop_node = document["nodes"][1]["id"]
    builder.goto(f"/workflows/{loop['id']}")
    builder.locator(f'.react-flow__node[data-id="{loop_node}"]').click()
    version = builder.get_by_role("combobox", name=re.compile("^Version", re.I))
    expect(version).to_have_value("latest")
    _settle(builder)
    problems += _offenders(builder, "editor (loop node)")
    # Pinning a number shows the number field; it is saved as an integer.
    version.select_option("pinned")
    pinned = builder.get_by_role("spinbutton", name=re.compile("^Pinned version", re.I))
    pinned.fill("1")
    builder.get_by_role("button", name="Save", exact=True).click()
    expect(builder.get_by_test_id("save-state")).to_have_text("Saved")
    shots = os.environ.get("BATON_A11Y_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        pinned.scroll_into_view_if_needed()
        pinned.blur()
        builder.screenshot(path=str(Path(shots) / "editor-loop-node.png"))
    saved = call(builder, "GET", f"/api/workflows/{loop['id']}/")
    assert next(n for n in saved["document"]["nodes"] if n["id"] == loop_node)["config"]["version"] == 1
    problems += _offenders(builder, "editor (loop node, pinned)")

    if problems:
        pytest.fail("Controls without an accessible name:\n" + "\n".join(problems), pytrace=False)
    for page in (builder, reviewer, admin):
        assert page.console_errors == []

import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Markdown } from "./Markdown";

afterEach(cleanup);

function renderMd(text: string): HTMLElement {
  const { container } = render(<Markdown>{text}</Markdown>);
  return container;
}

function assertInert(root: HTMLElement) {
  expect(root.querySelector("script, img, iframe, object, embed, style")).toBeNull();
  for (const el of root.querySelectorAll("*")) {
    for (const attr of el.getAttributeNames()) expect(attr.startsWith("on")).toBe(false);
  }
}

describe("Markdown (review instructions)", () => {
  it("renders basic markdown", () => {
    const root = renderMd("Check **the tone** and *facts*.\n\n- one\n- two\n\nSee `code`.");
    expect(root.querySelector("strong")?.textContent).toBe("the tone");
    expect(root.querySelector("em")?.textContent).toBe("facts");
    expect([...root.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["one", "two"]);
    expect(root.querySelector("code")?.textContent).toBe("code");
  });

  it("keeps a <script> block as inert text", () => {
    const root = renderMd('Before\n\n<script>window.pwned = 1</script>\n\nAfter <script>alert("x")</script> inline');
    assertInert(root);
    expect(root.textContent).toContain("<script>window.pwned = 1</script>");
    expect(root.textContent).toContain('<script>alert("x")</script>');
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("never renders raw or markdown images", () => {
    const root = renderMd('<img src=x onerror="window.pwned=2">\n\n![tracker](https://evil.example/p.png)\n\nok <img src=y onerror=alert(1)>');
    assertInert(root);
    expect(root.textContent).toContain('<img src=x onerror="window.pwned=2">');
    expect(root.textContent).not.toContain("evil.example");
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("allows only http(s) and mailto links, opened safely", () => {
    const root = renderMd(
      "[ok](https://example.com/a) [mail](mailto:a@example.com) [bad](javascript:alert(1)) [data](data:text/html,x) [rel](/runs/1)",
    );
    assertInert(root);
    const links = [...root.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://example.com/a", "mailto:a@example.com"]);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
    expect(root.textContent).toContain("bad");
    expect(root.innerHTML).not.toContain("javascript:");
  });
});

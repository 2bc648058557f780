import { describe, expect, it } from "vitest";
import { inboxSocketUrl } from "./useInboxSocket";

describe("inboxSocketUrl", () => {
  it("follows the page's scheme and host", () => {
    expect(inboxSocketUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/ws/inbox/");
    expect(inboxSocketUrl({ protocol: "https:", host: "baton.example.com" })).toBe("wss://baton.example.com/ws/inbox/");
  });
});

import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { configForEdit, connectorBody, detailMessages, errorText, expiryFromDays, splitList, validExpiryDays } from "./helpers";

describe("splitList", () => {
  it("splits on commas and lines, trims, drops empties and duplicates", () => {
    expect(splitList(" rey, otto\nrey\n\n ,vic ")).toEqual(["rey", "otto", "vic"]);
    expect(splitList("")).toEqual([]);
  });
});

describe("errorText", () => {
  it("adds field details of PASSWORD_INVALID", () => {
    const e = new ApiError(400, "PASSWORD_INVALID", "Password refused", [
      { field: "password", message: "This password is too short." },
    ]);
    expect(errorText(e)).toBe("Password refused — password: This password is too short.");
  });
  it("shows a plain message (CANNOT_CHANGE_SELF)", () => {
    expect(errorText(new ApiError(400, "CANNOT_CHANGE_SELF", "You cannot demote yourself"))).toBe(
      "You cannot demote yourself",
    );
  });
  it("reads a DRF field map", () => {
    expect(detailMessages({ name: ["This field is required."] })).toEqual(["name: This field is required."]);
  });
});

describe("token expiry", () => {
  it("accepts 1..365 whole days", () => {
    expect(validExpiryDays("1")).toBe(1);
    expect(validExpiryDays("365")).toBe(365);
    expect(validExpiryDays("0")).toBeNull();
    expect(validExpiryDays("366")).toBeNull();
    expect(validExpiryDays("2.5")).toBeNull();
    expect(validExpiryDays("")).toBeNull();
  });
  it("adds days to now", () => {
    expect(expiryFromDays(2, new Date("2026-01-01T00:00:00Z"))).toBe("2026-01-03T00:00:00.000Z");
  });
});

describe("connectorBody", () => {
  it("creates an http connector with a bearer secret and hosts", () => {
    const body = connectorBody({
      name: " api ",
      kind: "http",
      config: { ...configForEdit("http"), base_url: "https://x.example.com", auth_type: "bearer", username: "ignored" },
      secret: { token: "s3cret", password: "hidden-field" },
      allowedHosts: "x.example.com, y.example.com",
      editing: false,
    });
    expect(body).toEqual({
      name: "api",
      kind: "http",
      config: { base_url: "https://x.example.com", auth_type: "bearer", username: "", header_name: "" },
      secret: { token: "s3cret" },
      allowed_hosts: ["x.example.com", "y.example.com"],
    });
  });
  it("keeps the stored secret and hosts on an untouched edit", () => {
    const stored = { config: { base_url: "https://x.example.com", auth_type: "bearer" }, allowed_hosts: ["x.example.com"] };
    const body = connectorBody({
      name: "api",
      kind: "http",
      config: configForEdit("http", stored.config),
      secret: {},
      allowedHosts: "x.example.com",
      editing: true,
      stored,
    });
    expect(body.secret).toBeUndefined();
    expect(body.allowed_hosts).toBeUndefined();
  });
  it("parses model lines, numbers, and keeps stored model entries when unchanged", () => {
    const entries = [{ name: "gpt-x", tier: 2 }, "mini"];
    const body = connectorBody({
      name: "m",
      kind: "model",
      config: configForEdit("model", { provider: "openai", models: entries }),
      secret: {},
      allowedHosts: "",
      editing: true,
      stored: { config: { provider: "openai", models: entries }, allowed_hosts: [] },
    });
    expect(body.config?.models).toEqual(entries);
    const smtp = connectorBody({
      name: "mail",
      kind: "smtp",
      config: { ...configForEdit("smtp"), host: "smtp.example.com", port: "2525" },
      secret: {},
      allowedHosts: "",
      editing: false,
    });
    expect(smtp.config?.port).toBe(2525);
    expect(smtp.secret).toEqual({});
    const changed = connectorBody({
      name: "m",
      kind: "model",
      config: { ...configForEdit("model"), models: "a, b\nc" },
      secret: { api_key: "k" },
      allowedHosts: "",
      editing: false,
    });
    expect(changed.config?.models).toEqual(["a", "b", "c"]);
  });
});

import { describe, expect, it } from "vitest";
import type { ConnectorKindInfo } from "../api/types";
import { configFromSchema, connectorFormBody, visibleSecretFields } from "./ConnectorForm";
import KINDS from "./ConnectorKinds.fixture.json";

const kind = (k: string) => (KINDS as unknown as ConnectorKindInfo[]).find((i) => i.kind === k)!;

describe("connectorFormBody", () => {
  it("creates an http connector: hidden fields go back to defaults, only visible secrets are sent", () => {
    const info = kind("http");
    const body = connectorFormBody({
      info,
      name: " api ",
      config: { ...configFromSchema(info), base_url: " https://x.example.com ", auth_type: "bearer", username: "ignored" },
      secret: { token: "s3cret", password: "hidden-field" },
      allowedHosts: "x.example.com, y.example.com",
      editing: false,
    });
    expect(body.name).toBe("api");
    expect(body.config?.base_url).toBe("https://x.example.com");
    expect(body.config?.username ?? "").toBe("");
    expect(body.secret).toEqual({ token: "s3cret" });
    expect(body.allowed_hosts).toEqual(["x.example.com", "y.example.com"]);
  });

  it("keeps the stored secret and hosts on an untouched edit", () => {
    const info = kind("http");
    const stored = { config: { base_url: "https://x.example.com", auth_type: "bearer" }, allowed_hosts: ["x.example.com"] };
    const body = connectorFormBody({
      info,
      name: "api",
      config: configFromSchema(info, stored.config),
      secret: {},
      allowedHosts: "x.example.com",
      editing: true,
      stored,
    });
    expect(body.secret).toBeUndefined();
    expect(body.allowed_hosts).toBeUndefined();
  });

  it("keeps stored model entries (with routing facts) when the list of names is unchanged", () => {
    const info = kind("model");
    const entries = [{ name: "gpt-x", tier: 2 }, "mini"];
    const body = connectorFormBody({
      info,
      name: "m",
      config: configFromSchema(info, { provider: "openai", models: entries }),
      secret: {},
      allowedHosts: "",
      editing: true,
      stored: { config: { provider: "openai", models: entries }, allowed_hosts: [] },
    });
    expect(body.config?.models).toEqual(entries);
  });

  it("shows the OAuth2 client secret only for OAuth2 auth", () => {
    const info = kind("http");
    const names = (auth: string) => visibleSecretFields(info, { auth_type: auth }).map((f) => f.name);
    expect(names("oauth2_client_credentials")).toContain("client_secret");
    expect(names("bearer")).not.toContain("client_secret");
  });
});

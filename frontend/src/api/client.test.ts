import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, parseError, setUnauthorizedHandler } from "./client";

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("api client", () => {
  it("parses the error envelope", () => {
    const e = parseError(400, JSON.stringify({ error: { code: "WORKFLOW_INVALID", message: "bad graph", details: [{ code: "GRAPH_CYCLE", message: "cycle", node_id: "n2", edge_id: null }] } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.code).toBe("WORKFLOW_INVALID");
    expect(e.message).toBe("bad graph");
    expect(e.details).toEqual([{ code: "GRAPH_CYCLE", message: "cycle", node_id: "n2", edge_id: null }]);
  });

  it("falls back for bodies that are not the envelope", () => {
    const e = parseError(502, "<html>Bad gateway</html>", "Bad Gateway");
    expect(e).toMatchObject({ status: 502, code: "HTTP_502", message: "Bad Gateway" });
  });

  it("throws ApiError from requests and calls the 401 handler", async () => {
    const fetchMock = vi.fn(async () => jsonResponse(401, { error: { code: "NOT_AUTHENTICATED", message: "Sign in" } }));
    vi.stubGlobal("fetch", fetchMock);
    const on401 = vi.fn();
    setUnauthorizedHandler(on401);
    await expect(api.workflows()).rejects.toMatchObject({ status: 401, code: "NOT_AUTHENTICATED", message: "Sign in" });
    expect(on401).toHaveBeenCalledTimes(1);
  });

  it("sends the CSRF token on unsafe requests", async () => {
    document.cookie = "csrftoken=tok123";
    const fetchMock = vi.fn(async (url: string) =>
      url.endsWith("/auth/csrf/") ? jsonResponse(200, { csrf_token: "tok123" }) : jsonResponse(409, { error: { code: "STALE_REVISION", message: "stale", details: { current_revision: 8, updated_by: "bob", updated_at: "2026-11-23T10:00:00Z" } } }),
    );
    vi.stubGlobal("fetch", fetchMock);
    const err = await api.updateWorkflow(3, { revision: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("STALE_REVISION");
    const [url, init] = fetchMock.mock.calls.at(-1)! as unknown as [string, RequestInit];
    expect(url).toBe("/api/workflows/3/");
    expect(init.method).toBe("PATCH");
    expect(init.credentials).toBe("same-origin");
    expect((init.headers as Record<string, string>)["X-CSRFToken"]).toBe("tok123");
  });
});

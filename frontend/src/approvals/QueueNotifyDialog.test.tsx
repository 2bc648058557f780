import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { notifySummary, QueueNotifyDialog } from "./QueueNotifyDialog";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("QueueNotifyDialog", () => {
  it("summarizes the settings", () => {
    expect(notifySummary({ notify_email_connector: "mail", notify_webhook_connector: null, notify_events: ["created"] })).toBe(
      "E-mail",
    );
    expect(notifySummary({ notify_email_connector: "mail", notify_webhook_connector: "hook", notify_events: ["created"] })).toBe(
      "E-mail, webhook",
    );
    expect(notifySummary({ notify_email_connector: "mail", notify_events: [] })).toBe("Off");
    expect(notifySummary({})).toBe("Off");
  });

  it("offers smtp connectors for e-mail, http and slack ones for the webhook, and saves", async () => {
    const sent: unknown[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url === "/api/auth/csrf/") return new Response(JSON.stringify({ csrf_token: "t" }));
        if (url.startsWith("/api/connectors/"))
          return new Response(
            JSON.stringify({
              count: 3,
              next: null,
              previous: null,
              results: [
                { id: 1, name: "mail", kind: "smtp" },
                { id: 2, name: "pager", kind: "http" },
                { id: 3, name: "team", kind: "slack" },
                { id: 4, name: "openai", kind: "model" },
              ],
            }),
          );
        if (url === "/api/queues/7/" && init?.method === "PATCH") {
          sent.push(JSON.parse(String(init.body)));
          return new Response(JSON.stringify({ id: 7, name: "Support", ...JSON.parse(String(init.body)) }));
        }
        return new Response("{}", { status: 404 });
      }),
    );
    const saved = vi.fn();
    render(
      <QueueNotifyDialog
        queue={{ id: 7, name: "Support", notify_email_connector: null, notify_webhook_connector: null, notify_events: ["created", "escalated"] }}
        onClose={() => {}}
        onSaved={saved}
      />,
    );
    const email = (await screen.findByLabelText("E-mail the members through")) as HTMLSelectElement;
    await waitFor(() => expect([...email.options].map((o) => o.value)).toEqual(["", "mail"]));
    const hook = screen.getByLabelText("Post to a webhook") as HTMLSelectElement;
    expect([...hook.options].map((o) => o.value)).toEqual(["", "pager", "team"]);
    fireEvent.change(email, { target: { value: "mail" } });
    fireEvent.change(hook, { target: { value: "team" } });
    fireEvent.click(screen.getByLabelText("An item is escalated to this queue"));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(saved).toHaveBeenCalled());
    expect(sent).toEqual([{ notify_email_connector: "mail", notify_webhook_connector: "team", notify_events: ["created"] }]);
  });
});

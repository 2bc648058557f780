import { useEffect, useState, type FormEvent } from "react";
import { featureApi, inboxApi, type NotifyEvent, type QueueNotifySettings } from "../api/client";
import type { ConnectorRef } from "../api/types";
import { Dialog } from "../components/Dialog";
import { ErrorBox } from "../components/States";

type QueueWithNotify = { id: number; name: string } & QueueNotifySettings;

const EVENTS: [NotifyEvent, string][] = [
  ["created", "A new item arrives"],
  ["escalated", "An item is escalated to this queue"],
];

/** "E-mail, webhook" / "Off": what a queue's notification settings do, in two words. */
export function notifySummary(q: QueueNotifySettings): string {
  const parts = [q.notify_email_connector ? "e-mail" : "", q.notify_webhook_connector ? "webhook" : ""].filter(Boolean);
  if (parts.length === 0 || (q.notify_events ?? []).length === 0) return "Off";
  const text = parts.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Admins: how a queue tells its reviewers about new and escalated items (e-mail, webhook). */
export function QueueNotifyDialog({
  queue,
  onClose,
  onSaved,
}: {
  queue: QueueWithNotify;
  onClose: () => void;
  onSaved: (q: QueueWithNotify) => void;
}) {
  const [connectors, setConnectors] = useState<ConnectorRef[] | null>(null);
  const [email, setEmail] = useState(queue.notify_email_connector ?? "");
  const [webhook, setWebhook] = useState(queue.notify_webhook_connector ?? "");
  const [events, setEvents] = useState<NotifyEvent[]>(queue.notify_events ?? ["created", "escalated"]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    featureApi
      .connectorChoices()
      .then(setConnectors)
      .catch((e) => {
        setConnectors([]);
        setError(e);
      });
  }, []);

  const smtp = (connectors ?? []).filter((c) => c.kind === "smtp");
  const hooks = (connectors ?? []).filter((c) => c.kind === "http" || c.kind === "slack");

  function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    inboxApi
      .updateQueueNotify(queue.id, {
        notify_email_connector: email || null,
        notify_webhook_connector: webhook || null,
        notify_events: events,
      })
      .then((saved) => {
        onSaved(saved);
        onClose();
      })
      .catch((err) => {
        setError(err);
        setBusy(false);
      });
  }

  return (
    <Dialog title={`Notifications of ${queue.name}`} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} aria-label={`Notifications of ${queue.name}`}>
        <div className="field">
          <label htmlFor="notify-email">E-mail the members through</label>
          <select id="notify-email" value={email} onChange={(e) => setEmail(e.target.value)}>
            <option value="">No e-mail</option>
            {smtp.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
            {email && !smtp.some((c) => c.name === email) && <option value={email}>{email}</option>}
          </select>
          <span className="help">An SMTP connector; members without an e-mail address get nothing.</span>
        </div>
        <div className="field">
          <label htmlFor="notify-webhook">Post to a webhook</label>
          <select id="notify-webhook" value={webhook} onChange={(e) => setWebhook(e.target.value)}>
            <option value="">No webhook</option>
            {hooks.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name} ({c.kind})
              </option>
            ))}
            {webhook && !hooks.some((c) => c.name === webhook) && <option value={webhook}>{webhook}</option>}
          </select>
          <span className="help">An HTTP connector gets JSON at its base URL; a Slack connector a message.</span>
        </div>
        <fieldset className="field">
          <legend>When</legend>
          {EVENTS.map(([value, label]) => (
            <label key={value} className="check">
              <input
                type="checkbox"
                checked={events.includes(value)}
                onChange={(e) =>
                  setEvents((now) =>
                    e.target.checked ? EVENTS.map(([v]) => v).filter((v) => v === value || now.includes(v)) : now.filter((v) => v !== value),
                  )
                }
              />{" "}
              {label}
            </label>
          ))}
        </fieldset>
        <p className="muted">
          Messages carry the item's title and a link to it; opening the link needs a sign-in and never decides
          anything.
        </p>
        {error ? <ErrorBox error={error} /> : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={busy || connectors === null}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** A table-cell-sized entry point: the current setting, and a button to change it. */
export function QueueNotifyButton({ queue, onSaved }: { queue: QueueWithNotify; onSaved: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="btn small"
        aria-label={`Notifications of ${queue.name}: ${notifySummary(queue)}`}
        onClick={() => setOpen(true)}
      >
        {notifySummary(queue)}
      </button>
      {open && <QueueNotifyDialog queue={queue} onClose={() => setOpen(false)} onSaved={() => onSaved()} />}
    </>
  );
}

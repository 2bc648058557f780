import { useEffect, useState } from "react";
import { featureApi } from "../api/client";
import type { WebhookEndpoint } from "../api/types";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { ErrorBox, Loading } from "../components/States";

/** The workflow's secret webhook URL: copy it, or rotate it (the old URL stops working). */
export function WebhookDialog({ workflowId, onClose }: { workflowId: number; onClose: () => void }) {
  const [hook, setHook] = useState<WebhookEndpoint | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let live = true;
    featureApi.webhook(workflowId).then(
      (h) => live && setHook(h),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [workflowId]);

  const url = hook ? `${window.location.origin}${hook.path}` : "";

  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      const input = document.getElementById("webhook-url") as HTMLInputElement | null;
      input?.select();
    }
  }

  async function rotate() {
    setBusy(true);
    setError(null);
    try {
      setHook(await featureApi.rotateWebhook(workflowId));
      setConfirming(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="Webhook" onClose={onClose}>
      <p className="muted">
        POST JSON to this URL to start a run of the <strong>published</strong> version. Keep it secret: anyone with
        the URL can start runs.
      </p>
      {error ? <ErrorBox error={error} /> : null}
      {!hook && !error ? <Loading label="Loading the webhook…" /> : null}
      {hook && (
        <>
          <div className="field">
            <label htmlFor="webhook-url">Webhook URL</label>
            <div className="copy-row">
              <input id="webhook-url" className="mono" readOnly value={url} onFocus={(e) => e.target.select()} />
              <button type="button" className="btn" onClick={() => void copy()}>
                {copied ? "Copied" : "Copy"}
              </button>
            </div>
          </div>
          <p className="muted small-note">
            Created {fmtTime(hook.created_at)}
            {hook.rotated_at ? ` · rotated ${fmtTime(hook.rotated_at)}` : ""}
            {hook.enabled ? "" : " · disabled"}
          </p>
          {confirming ? (
            <div className="banner banner-warn" role="alert">
              The current URL will stop working at once. Rotate?
              <button type="button" className="btn danger small" disabled={busy} onClick={() => void rotate()}>
                Yes, rotate
              </button>
              <button type="button" className="btn small" disabled={busy} onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <div className="actions">
              <button type="button" className="btn" onClick={() => setConfirming(true)}>
                Rotate URL
              </button>
            </div>
          )}
        </>
      )}
    </Dialog>
  );
}

import { useEffect } from "react";
import { notifyInboxChanged } from "./inboxEvents";

/** A change in the user's review queues, pushed by `ws /ws/inbox/`. */
export interface InboxSocketEvent {
  type: "approval.created" | "approval.claimed" | "approval.decided" | "approval.cancelled";
  approval: { id: number; queue: string; title: string; status: string };
}

export function inboxSocketUrl(loc: Pick<Location, "protocol" | "host"> = window.location): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/ws/inbox/`;
}

/**
 * Listens to the live inbox while the app is open and tells every interested view (the
 * pending badge, the inbox list) through `notifyInboxChanged`. Reconnects with backoff;
 * a 4401 close (signed out) stops it.
 */
export function useInboxSocket(enabled: boolean): void {
  useEffect(() => {
    if (!enabled || typeof WebSocket === "undefined") return;
    let socket: WebSocket | null = null;
    let stopped = false;
    let delay = 1000;
    let timer: number | undefined;

    const connect = () => {
      socket = new WebSocket(inboxSocketUrl());
      socket.onopen = () => {
        delay = 1000;
      };
      socket.onmessage = (message) => {
        try {
          const event = JSON.parse(String(message.data)) as { type?: string };
          if (event.type && event.type.startsWith("approval.")) notifyInboxChanged();
        } catch {
          // not for us
        }
      };
      socket.onclose = (close) => {
        if (stopped || close.code === 4401) return;
        timer = window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) window.clearTimeout(timer);
      socket?.close();
    };
  }, [enabled]);
}

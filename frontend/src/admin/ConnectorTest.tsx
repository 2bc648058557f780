import { useState } from "react";
import { governanceApi, type ConnectorTestResult } from "../api/client";
import type { Connector } from "../api/types";
import { errorParts } from "../components/States";

type State =
  | { phase: "idle" }
  | { phase: "running" }
  | { phase: "done"; result: ConnectorTestResult }
  | { phase: "failed"; code: string; message: string };

/** The error code a failed check reports (details.code), else a generic one. */
export function testErrorCode(result: ConnectorTestResult): string {
  const code = result.details?.code;
  return typeof code === "string" && code ? code : "CHECK_FAILED";
}

/** "Test" for one connector row: runs the server-side check, then shows ok + latency or the error. */
export function ConnectorTestCell({ connector }: { connector: Connector }) {
  const [state, setState] = useState<State>({ phase: "idle" });
  const running = state.phase === "running";

  async function test() {
    setState({ phase: "running" });
    try {
      const result = await governanceApi.testConnector(connector.id);
      setState({ phase: "done", result });
    } catch (err) {
      const { code, message } = errorParts(err);
      setState({ phase: "failed", code, message });
    }
  }

  return (
    <td className="connector-test">
      <button
        type="button"
        className="btn small"
        onClick={() => void test()}
        disabled={running}
        aria-label={`Test connector ${connector.name}`}
      >
        {running ? "Testing…" : "Test"}
      </button>
      <div role="status" aria-live="polite" className="connector-test-result small-text">
        {state.phase === "running" ? (
          <span className="muted">Testing {connector.kind} connection…</span>
        ) : state.phase === "done" && state.result.ok ? (
          <span className="check-ok" title={state.result.message}>
            ✓ OK · {state.result.duration_ms} ms
          </span>
        ) : state.phase === "done" ? (
          <span className="check-bad">
            ✗ <code>{testErrorCode(state.result)}</code> {state.result.message}
          </span>
        ) : state.phase === "failed" ? (
          <span className="check-bad">
            ✗ <code>{state.code}</code> {state.message}
          </span>
        ) : null}
      </div>
    </td>
  );
}

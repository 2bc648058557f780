// The one node component: every node type renders through it (ports come from the type).
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useContext } from "react";
import type { Port } from "../../api/types";
import { fmtCost, fmtDuration } from "../../components/format";
import { RunStepsContext } from "../context";
import { displayName, ERROR_PORT, inputsOf, outputsOf, portAriaLabel, type BatonNode } from "../serialize";

const CATEGORY_COLORS: Record<string, string> = {
  trigger: "#0f766e",
  triggers: "#0f766e",
  ai: "#7c3aed",
  logic: "#b45309",
  flow: "#b45309",
  data: "#0369a1",
  human: "#be185d",
  integrations: "#15803d",
  actions: "#15803d",
  output: "#15803d",
};
const FALLBACK = ["#475569", "#0e7490", "#9333ea", "#c2410c", "#4d7c0f", "#be123c"];

export function categoryColor(category: string | undefined): string {
  if (!category) return "#64748b";
  const known = CATEGORY_COLORS[category.toLowerCase()];
  if (known) return known;
  let h = 0;
  for (const ch of category) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return FALLBACK[h % FALLBACK.length];
}

function Ports({ ports, side, name, connectable }: { ports: Port[]; side: "in" | "out"; name: string; connectable: boolean }) {
  const showLabels = ports.length > 1;
  return (
    <>
      {ports.map((p, i) => {
        const top = `${((i + 1) * 100) / (ports.length + 1)}%`;
        return (
          <Handle
            key={p.name}
            id={p.name}
            type={side === "in" ? "target" : "source"}
            position={side === "in" ? Position.Left : Position.Right}
            style={{ top }}
            aria-label={portAriaLabel(side, p.name, name)}
            // A port is clicked (or dragged) to connect it; on a read-only canvas it is a picture.
            role={connectable ? "button" : "img"}
            // Connections are drawn from an output to an input only.
            isConnectableStart={side === "out"}
            title={p.label || p.name}
            className={`port port-${side}${p === ERROR_PORT ? " port-error" : ""}`}
          >
            {showLabels && (
              <span className={`port-label port-label-${side}`} aria-hidden="true">
                {p.label || p.name}
              </span>
            )}
          </Handle>
        );
      })}
    </>
  );
}

function GenericNodeImpl({ id, data, selected, isConnectable }: NodeProps<BatonNode>) {
  const name = displayName(data, id);
  const inputs = inputsOf(data);
  const outputs = outputsOf(data);
  const color = categoryColor(data.nodeType?.category);
  const rows = Math.max(inputs.length, outputs.length, 1);
  // Labelled ports (more than one on a side) sit inside the node: keep the text clear of them.
  const labelRoom = (ports: typeof inputs) =>
    ports.length > 1 ? 18 + Math.max(...ports.map((p) => (p.label || p.name).length)) * 6.5 : 14;
  const cls = ["baton-node", selected ? "selected" : "", data.hasIssue ? "has-issue" : "", data.status ? `run-${data.status}` : ""]
    .filter(Boolean)
    .join(" ");
  const problems = data.issueMessages ?? [];
  const step = useContext(RunStepsContext)[id];
  const metrics = [
    step?.duration_ms != null ? fmtDuration(step.duration_ms) : "",
    step?.cost_usd != null ? fmtCost(step.cost_usd) : "",
  ].filter(Boolean);
  return (
    <div className={cls} title={problems.length ? problems.join("\n") : undefined} style={{
        borderTopColor: color,
        minHeight: 44 + rows * 14,
        paddingLeft: labelRoom(inputs),
        paddingRight: labelRoom(outputs),
      }}>
      <Ports ports={inputs} side="in" name={name} connectable={isConnectable} />
      <div className="baton-node-body">
        <div className="baton-node-title" style={{ color }}>
          {name}
        </div>
        <div className="baton-node-type">{data.typeKey}</div>
        {!data.nodeType && <div className="baton-node-warn">unknown node type</div>}
        {problems.length > 0 && (
          <span
            className="baton-node-issue"
            role="img"
            data-testid={`node-issue-${id}`}
            aria-label={`${problems.length} problem${problems.length > 1 ? "s" : ""}: ${problems.join("; ")}`}
            title={problems.join("\n")}
          >
            !
          </span>
        )}
        {data.status && (
          <span className={`badge status-${data.status}`} data-testid={`node-status-${id}`}>
            {data.status}
          </span>
        )}
        {metrics.length > 0 && (
          <div className="baton-node-metrics" data-testid={`node-metrics-${id}`} title="Last run: duration · cost">
            {metrics.join(" · ")}
          </div>
        )}
      </div>
      <Ports ports={outputs} side="out" name={name} connectable={isConnectable} />
    </div>
  );
}

export const GenericNode = memo(GenericNodeImpl);

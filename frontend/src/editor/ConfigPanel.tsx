import { useState, type ReactNode } from "react";
import type { Issue, JsonSchema, Step } from "../api/types";
import { ExamplesButton } from "../approvals/ExamplesDialog";
import { fmtCost, fmtDuration, fmtJson } from "../components/format";
import { StatusBadge } from "../components/StatusBadge";
import { SchemaForm } from "./config-form/SchemaForm";
import { TestNodeButton } from "./TestNodeDialog";
import type { BatonNode } from "./serialize";

export function IssueList({ issues, onSelect }: { issues: Issue[] | null; onSelect?: (nodeId: string) => void }) {
  if (issues === null) return <p className="muted">Not validated yet — click “Validate”.</p>;
  if (issues.length === 0)
    return (
      <p className="check-ok" data-testid="validation-ok">
        ✓ No problems found
      </p>
    );
  return (
    <ul className="issues" data-testid="issues">
      {issues.map((i, k) => (
        <li key={k}>
          <span className="issue-mark" aria-hidden="true">
            ✗
          </span>{" "}
          <code>{i.code}</code> {i.message}
          {i.node_id && onSelect && (
            <>
              {" "}
              <button type="button" className="link-btn" onClick={() => onSelect(i.node_id!)}>
                Show node {i.node_id}
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

interface NodePanelProps {
  node: BatonNode;
  /** A field lost focus: ends the current undo step. */
  onCommit?: () => void;
  readOnly: boolean;
  onLabel: (label: string) => void;
  onConfig: (config: Record<string, unknown>) => void;
  onDelete: () => void;
  /** JSON Schema of the node `settings` (retry, timeout, on_error); no section without it. */
  settingsSchema?: JsonSchema;
  onSettings?: (settings: Record<string, unknown>) => void;
  /** Set when the editor has a run result: this node's step in it (null: the node did not run). */
  lastRun?: Partial<Step> | null;
}

/** A collapsible panel section whose body is mounted only while open. */
function Section({ title, testId, children }: { title: string; testId?: string; children: () => ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="panel-section" data-testid={testId} open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{title}</summary>
      {open && <div className="panel-section-body">{children()}</div>}
    </details>
  );
}

function LastRun({ step }: { step: Partial<Step> | null }) {
  if (!step) return <p className="muted">This node did not run.</p>;
  const blocks: [string, unknown][] = [
    ["Inputs", step.inputs],
    ["Output", step.output],
    ["Error", step.error],
  ];
  return (
    <>
      <p className="last-run-meta">
        <StatusBadge status={step.status} /> {fmtDuration(step.duration_ms)} · {fmtCost(step.cost_usd)}
        {step.attempts && step.attempts > 1 ? ` · ${step.attempts} attempts` : ""}
      </p>
      {blocks.map(([label, v]) =>
        v === undefined || (label === "Error" && v === null) ? null : (
          <div key={label} className="last-run-block">
            <h4>{label}</h4>
            <pre className="json">{fmtJson(v)}</pre>
          </div>
        ),
      )}
    </>
  );
}

export function NodePanel({
  node,
  readOnly,
  onLabel,
  onConfig,
  onDelete,
  onCommit,
  settingsSchema,
  onSettings,
  lastRun,
}: NodePanelProps) {
  const t = node.data.nodeType;
  const problems = node.data.issueMessages ?? [];
  return (
    <aside className="side-panel" aria-label="Node settings" onBlur={onCommit}>
      <h2>{node.data.label || t?.title || node.id}</h2>
      {t?.description && <p className="muted">{t.description}</p>}
      {problems.length > 0 && (
        <ul className="issues node-issues" aria-label="Problems with this node" data-testid="node-issues">
          {problems.map((m, k) => (
            <li key={k}>
              <span className="issue-mark" aria-hidden="true">
                ✗
              </span>{" "}
              {m}
            </li>
          ))}
        </ul>
      )}
      <div className="field">
        <label htmlFor="node-id">Node id</label>
        <input id="node-id" value={node.id} readOnly />
      </div>
      <div className="field">
        <label htmlFor="node-label">Label</label>
        <input
          id="node-label"
          aria-label="Node label"
          placeholder={t?.title ?? ""}
          value={node.data.label ?? ""}
          disabled={readOnly}
          onChange={(e) => onLabel(e.target.value)}
        />
      </div>
      <div className="field">
        <span className="field-static">
          Type <code>{node.data.typeKey}</code> v{node.data.typeVersion}
        </span>
      </div>
      {t ? (
        <SchemaForm schema={t.config_schema} value={node.data.config} onChange={onConfig} disabled={readOnly} />
      ) : (
        <p className="state state-error">Unknown node type “{node.data.typeKey}”: its settings cannot be edited.</p>
      )}
      {settingsSchema && onSettings && (
        <Section title="Reliability" testId={`reliability-${node.id}`}>
          {() => (
            <SchemaForm
              schema={settingsSchema}
              value={node.data.settings ?? {}}
              onChange={onSettings}
              disabled={readOnly}
            />
          )}
        </Section>
      )}
      {lastRun !== undefined && (
        <Section title="Last run" testId={`last-run-${node.id}`}>
          {() => <LastRun step={lastRun} />}
        </Section>
      )}
      <ExamplesButton nodeId={node.id} typeKey={node.data.typeKey} hidden={readOnly} />
      <TestNodeButton nodeId={node.id} label={node.data.label || t?.title || node.id} config={node.data.config} hidden={readOnly} />
      {!readOnly && (
        <button type="button" className="btn danger" onClick={onDelete}>
          Delete node
        </button>
      )}
    </aside>
  );
}

interface WorkflowPanelProps {
  name: string;
  description: string;
  readOnly: boolean;
  issues: Issue[] | null;
  onName: (v: string) => void;
  onDescription: (v: string) => void;
  onSelect: (nodeId: string) => void;
}

export function WorkflowPanel({ name, description, readOnly, issues, onName, onDescription, onSelect }: WorkflowPanelProps) {
  return (
    <aside className="side-panel" aria-label="Workflow settings">
      <h2>Workflow</h2>
      <div className="field">
        <label htmlFor="wf-name">Workflow name</label>
        <input id="wf-name" value={name} disabled={readOnly} onChange={(e) => onName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="wf-description">Description</label>
        <textarea
          id="wf-description"
          rows={3}
          value={description}
          disabled={readOnly}
          onChange={(e) => onDescription(e.target.value)}
        />
      </div>
      <h3>Checklist</h3>
      <IssueList issues={issues} onSelect={onSelect} />
      <p className="muted hint">Select a node to edit its settings.</p>
    </aside>
  );
}

interface SelectionPanelProps {
  nodes: number;
  notes: number;
  readOnly: boolean;
  issues: Issue[] | null;
  onDelete: () => void;
  onSelect: (nodeId: string) => void;
}

/** Shown when several nodes / notes are selected. */
export function SelectionPanel({ nodes, notes, readOnly, issues, onDelete, onSelect }: SelectionPanelProps) {
  const parts = [nodes ? `${nodes} node${nodes > 1 ? "s" : ""}` : "", notes ? `${notes} note${notes > 1 ? "s" : ""}` : ""];
  return (
    <aside className="side-panel" aria-label="Selection">
      <h2 data-testid="selection-count">{parts.filter(Boolean).join(" and ")} selected</h2>
      <p className="muted">Copy with Ctrl+C, cut with Ctrl+X, paste with Ctrl+V (also into another workflow).</p>
      {!readOnly && (
        <button type="button" className="btn danger" onClick={onDelete}>
          Delete selected
        </button>
      )}
      <h3>Checklist</h3>
      <IssueList issues={issues} onSelect={onSelect} />
    </aside>
  );
}

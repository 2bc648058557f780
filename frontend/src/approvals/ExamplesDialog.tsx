import { useState } from "react";
import { useParams } from "react-router-dom";
import { inboxApi, type ReviewExample } from "../api/client";
import { Dialog } from "../components/Dialog";
import { fmtTime } from "../components/format";
import { Pager } from "../components/Pager";
import { Empty, ErrorBox, Loading } from "../components/States";
import { useApi } from "../components/useApi";

export interface DiffPart {
  kind: "same" | "added" | "removed";
  text: string;
}

const MAX_TOKENS = 2000;

/** A word-level diff (LCS) of ``before`` → ``after``; each word keeps its trailing whitespace
 * (shown as in ``after``), so whitespace-only changes do not count.
 * Very long texts fall back to "all removed, all added". */
export function diffWords(before: string, after: string): DiffPart[] {
  if (before === after) return before ? [{ kind: "same", text: before }] : [];
  const a = before.match(/\S+\s*|\s+/g) ?? [];
  const b = after.match(/\S+\s*|\s+/g) ?? [];
  if (a.length > MAX_TOKENS || b.length > MAX_TOKENS) {
    return [
      ...(before ? [{ kind: "removed" as const, text: before }] : []),
      ...(after ? [{ kind: "added" as const, text: after }] : []),
    ];
  }
  // Words compare without their trailing whitespace ("end." matches "end.\n\n").
  const ka = a.map((t) => t.trimEnd() || t);
  const kb = b.map((t) => t.trimEnd() || t);
  // lcs[i][j] = length of the common subsequence of a[i:] and b[j:]
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1)
    for (let j = b.length - 1; j >= 0; j -= 1)
      lcs[i][j] = ka[i] === kb[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffPart[] = [];
  const push = (kind: DiffPart["kind"], text: string) => {
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (ka[i] === kb[j]) {
      push("same", b[j]);
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      push("removed", a[i]);
      i += 1;
    } else {
      push("added", b[j]);
      j += 1;
    }
  }
  for (; i < a.length; i += 1) push("removed", a[i]);
  for (; j < b.length; j += 1) push("added", b[j]);
  return out;
}

export function Diff({ before, after, testId = "example-diff" }: { before: string; after: string; testId?: string }) {
  return (
    <div className="diff prewrap" data-testid={testId}>
      {diffWords(before, after).map((p, i) =>
        p.kind === "same" ? (
          <span key={i}>{p.text}</span>
        ) : p.kind === "added" ? (
          <ins key={i} className="diff-added">
            {p.text}
          </ins>
        ) : (
          <del key={i} className="diff-removed">
            {p.text}
          </del>
        ),
      )}
    </div>
  );
}

const DECISIONS: Record<string, string> = {
  approved: "approved",
  rejected: "rejected",
  changes_requested: "changes requested",
};

function Example({ example }: { example: ReviewExample }) {
  const edited = example.edited ?? {};
  const names = Object.keys(example.draft);
  return (
    <li className="example" data-testid={`example-${example.id}`}>
      <div className="example-head">
        <span className={`badge status-${example.decision}`}>{DECISIONS[example.decision] ?? example.decision}</span>
        <span className="muted">
          {" "}
          by {example.reviewer ?? "someone"} · {fmtTime(example.decided_at)} · run #{example.run_id}
          {Object.keys(edited).length > 0 ? " · edited" : " · unchanged"}
        </span>
      </div>
      {names.map((name) => (
        <div key={name} className="example-field">
          <div className="example-field-name">{name}</div>
          {name in edited ? (
            <Diff before={example.draft[name] ?? ""} after={edited[name] ?? ""} />
          ) : (
            <div className="prewrap">{example.draft[name]}</div>
          )}
        </div>
      ))}
      {example.comment ? <p className="example-comment prewrap">“{example.comment}”</p> : null}
    </li>
  );
}

/** What reviewers did with the drafts an LLM node wrote: the draft, their edits (as a diff), the
 * decision and comment. Opened from the node's settings panel in the editor. */
export function ExamplesDialog({
  workflowId,
  nodeId,
  onClose,
}: {
  workflowId: number | string;
  nodeId: string;
  onClose: () => void;
}) {
  const [page, setPage] = useState(1);
  const { data, error, loading, reload } = useApi(
    () => inboxApi.examples(workflowId, nodeId, { page }),
    [workflowId, nodeId, page],
  );
  return (
    <Dialog title={`Reviewed drafts of “${nodeId}”`} onClose={onClose} wide>
      <div className="dialog-form examples-dialog">
        <p className="muted">
          Every review of a draft this node wrote: <del className="diff-removed">removed</del> and{" "}
          <ins className="diff-added">added</ins> words show what the reviewer changed. Use them to improve the
          prompt.
        </p>
        {loading && !data ? (
          <Loading />
        ) : error ? (
          <ErrorBox error={error} onRetry={() => void reload()} />
        ) : !data || data.results.length === 0 ? (
          <Empty>No reviewed drafts yet. They appear here once reviewers decide items this node drafted.</Empty>
        ) : (
          <>
            <ul className="examples">
              {data.results.map((e) => (
                <Example key={e.id} example={e} />
              ))}
            </ul>
            <Pager page={page} hasPrev={!!data.previous} hasNext={!!data.next} onPage={setPage} />
          </>
        )}
      </div>
    </Dialog>
  );
}

/** The editor's entry point: a button for ``llm.*`` nodes of a saved workflow (hidden otherwise). */
export function ExamplesButton({
  nodeId,
  typeKey,
  hidden = false,
}: {
  nodeId: string;
  typeKey: string | undefined;
  hidden?: boolean;
}) {
  const { id } = useParams();
  const [open, setOpen] = useState(false);
  if (hidden || !id || !typeKey?.startsWith("llm.")) return null;
  return (
    <>
      <button type="button" className="btn small" data-testid="open-examples" onClick={() => setOpen(true)}>
        Reviewed examples…
      </button>
      {open && <ExamplesDialog workflowId={id} nodeId={nodeId} onClose={() => setOpen(false)} />}
    </>
  );
}

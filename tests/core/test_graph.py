from __future__ import annotations

import pytest

from orchestrator_core import ErrorCode, WorkflowInvalid, parse_workflow


def test_round_trip(support_doc: dict) -> None:
    wf = parse_workflow(support_doc)
    assert wf.node_ids == ("trigger", "classify", "draft", "review", "send")
    assert parse_workflow(wf.to_document()) == wf
    assert [e.target for e in wf.outgoing("draft")] == ["review"]
    assert [e.source for e in wf.incoming("send")] == ["review"]


def test_malformed_documents() -> None:
    with pytest.raises(WorkflowInvalid):
        parse_workflow([])
    with pytest.raises(WorkflowInvalid) as info:
        parse_workflow({"nodes": [{"id": "1bad", "type": "x"}, {"type": ""}], "edges": [{}]})
    assert len(info.value.details or []) >= 4
    with pytest.raises(WorkflowInvalid) as info:
        parse_workflow({"nodes": [{"id": f"n{i}", "type": "x"} for i in range(501)], "edges": []})
    assert info.value.code == ErrorCode.WORKFLOW_TOO_LARGE

"""How an ``llm.agent`` asks a person about a high-impact tool call, and reads the answer.

The request is an ordinary approval (what ``backend/approvals`` shows in the inbox): the call's
arguments are the editable fields, the task and the agent's progress are read-only context.
``approval_key`` names the park, so the backend opens one approval per call of the same step;
``agent`` carries the agent's whole state, read back on resume (``ctx.previous_request``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from orchestrator_core.nodes.builtin.llm_agent_tools import AgentTool


def approval_request(
    state: dict[str, Any], tool: AgentTool, arguments: Mapping[str, Any], *, queue: str, max_steps: int
) -> dict[str, Any]:
    """The interrupt request for one call; notes in ``state["pending_json"]`` which fields are JSON."""
    fields: dict[str, str] = {}
    json_fields: list[str] = []
    for key, value in arguments.items():
        if isinstance(value, str):
            fields[key] = value
        else:
            fields[key] = json.dumps(value, ensure_ascii=False, indent=2)
            json_fields.append(key)
    state["pending_json"] = json_fields
    task = next((str(m.get("content")) for m in state["messages"] if m.get("role") == "user"), "")
    context = {
        "Tool": f"{tool.name} ({tool.node_type or 'workflow ' + str(tool.workflow)})",
        "Task": task[:2000],
        "Step": f"{state['steps']} of {max_steps}",
    }
    if tool.fixed:
        context["Fixed settings"] = json.dumps(tool.fixed, ensure_ascii=False)
    if state.get("thought"):
        context["The agent says"] = str(state["thought"])[:2000]
    context["Earlier tool calls"] = (
        "; ".join(f"{t['tool']}: {t['status']}" for t in state["transcript"]) or "none"
    )
    return {
        "queue": queue,
        "title": f"Agent wants to run {tool.name}",
        "instructions": (
            f"The agent asks to run **{tool.name}** with the arguments below. Approve to run it "
            "(you may edit the arguments first), reject to refuse: the agent is told and goes on."
        ),
        "context": context,
        "fields": fields,
        # Unique per park: a step that starts over (a retry) must not meet its old, decided approval.
        # A re-park of the same call reuses the stored request as it is, key included.
        "approval_key": f"agent-call-{len(state['transcript']) + 1}-{secrets.token_hex(4)}",
        "agent": json.loads(json.dumps(state)),
    }


def refusal(decision: str, comment: str) -> str:
    """What the model is told when the call was not approved."""
    said = f' They said: "{comment}"' if comment else ""
    if decision == "changes_requested":
        return f"A reviewer asked for changes instead of running this call.{said} Adjust it if needed."
    if decision == "timeout":
        return (
            "Nobody approved this call in time, so it was not run. Do not call it again; finish without it."
        )
    return f"A person refused this call, so it was not run.{said} Do not call it again; finish without it."


def apply_edits(arguments: dict[str, Any], edited: Any, json_fields: Any) -> tuple[dict[str, Any], bool]:
    """The arguments with a reviewer's edits (text fields as typed, JSON fields parsed) and
    whether anything changed."""
    if not isinstance(edited, Mapping) or not edited:
        return arguments, False
    as_json = set(json_fields) if isinstance(json_fields, list) else set()
    merged = dict(arguments)
    for key, value in edited.items():
        if key not in arguments:
            continue
        if key in as_json and isinstance(value, str):
            try:
                merged[key] = json.loads(value)
            except ValueError:
                merged[key] = value  # the tool's config validation reports it to the model
        else:
            merged[key] = value
    return merged, merged != arguments

"""Baton's built-in demo model: deterministic, offline, clearly labelled.

It lets a fresh install run the sample workflows with no API key. It is not a language model:
``classify`` scores keywords, ``complete`` fills a polite e-mail reply template from the last
user message. Every completion ends with `DEMO_SIGNATURE`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator_core.ports import LLMRequest

DEMO_SIGNATURE = "(Drafted by Baton's offline demo model.)"

_CONCEPTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    # (words in a category name, keywords in the text that point to it)
    (
        ("refund", "billing", "payment", "money"),
        (
            "refund",
            "money back",
            "charge",
            "charged",
            "reimburse",
            "invoice",
            "paid twice",
            "billing",
            "payment",
        ),
    ),
    (
        ("bug", "technical", "problem", "issue", "support"),
        (
            "broken",
            "error",
            "bug",
            "not work",
            "doesn't work",
            "does not work",
            "crash",
            "fail",
            "can't log",
            "cannot",
            "won't",
            "problem",
            "issue",
        ),
    ),
    (
        ("question", "inquiry", "enquiry", "info", "how"),
        ("?", "how do", "how can", "what is", "when", "where", "could you", "question", "wondering"),
    ),
    (
        ("complaint", "angry", "unhappy"),
        ("unacceptable", "disappointed", "terrible", "worst", "complain", "angry"),
    ),
)
_FALLBACK_NAMES = ("other", "general", "misc", "unknown", "none")


def _user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    return users[-1] if users else (str(messages[-1].get("content") or "") if messages else "")


def classify(text: str, categories: Sequence[str]) -> str:
    """The category the text most likely belongs to (keyword scoring; ties go to the first)."""
    if not categories:
        return "other"
    lowered = text.lower()
    best, best_score = "", 0
    for category in categories:
        name = category.lower()
        score = 3 * len(re.findall(r"(?<!\w)" + re.escape(name) + r"(?!\w)", lowered))
        for name_words, keywords in _CONCEPTS:
            if any(w in name for w in name_words):
                score += sum(lowered.count(k) for k in keywords)
        if score > best_score:
            best, best_score = category, score
    if best:
        return best
    for category in categories:
        if category.lower() in _FALLBACK_NAMES:
            return category
    return categories[-1]


def _field(text: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else ""


def _greeting_name(sender: str) -> str:
    match = re.search(r"([A-Za-z][A-Za-z.\-_]*)@", sender)
    if not match:
        return sender.split()[0] if sender.strip() else ""
    first = re.split(r"[.\-_]", match.group(1))[0]
    return first.capitalize()


def _customer_words(text: str) -> str:
    match = re.search(
        r"^\s*(?:message|body|e-?mail)\s*:\s*\n?(.+)", text, re.IGNORECASE | re.MULTILINE | re.DOTALL
    )
    body = match.group(1) if match else text
    sentence = re.split(r"(?<=[.!?])\s+", " ".join(body.split()), maxsplit=1)[0]
    return sentence if len(sentence) <= 160 else sentence[:157].rstrip() + "..."


_INTENT_LINES = {
    "refund": (
        "I have passed your refund request to our billing team; "
        "you will hear from us within two business days."
    ),
    "technical": (
        "Our technical team is looking into the problem and will update you as soon as we know more."
    ),
    "question": "Here is a short answer, and we will follow up with more details shortly.",
}


def _intent_line(intent: str, text: str) -> str:
    lowered = f"{intent} {text}".lower()
    if "refund" in lowered or "billing" in lowered:
        return _INTENT_LINES["refund"]
    if any(w in lowered for w in ("technical", "bug", "problem", "error", "broken")):
        return _INTENT_LINES["technical"]
    if "question" in lowered or "?" in text:
        return _INTENT_LINES["question"]
    return "We are looking into it and will follow up with you shortly."


def draft_reply(text: str) -> str:
    """A short, polite e-mail reply built from the user's message."""
    name = _greeting_name(_field(text, "from"))
    subject = _field(text, "subject")
    intent = _field(text, "intent") or _field(text, "category")
    words = _customer_words(text)
    lines = [f"Hello {name}," if name else "Hello,", ""]
    about = f' about "{subject}"' if subject else ""
    lines.append(f"Thank you for your message{about}.")
    if words:
        lines.append(f'You wrote: "{words}" We understand, and we are on it.')
    lines.append(_intent_line(intent, words))
    lines += ["", "Best regards,", "The Support Team", "", DEMO_SIGNATURE]
    return "\n".join(lines)


def demo_completion(request: LLMRequest) -> str:
    """The demo model's answer to a request (deterministic, offline)."""
    text = _user_text(request.messages)
    if request.purpose == "classify":
        categories = [str(c) for c in request.options.get("categories", ())]
        return classify(text, categories)
    results = _tool_results(request.messages)
    if request.tools and results:
        return _tools_summary(results)
    return draft_reply(text)


# --------------------------------------------------------------------------- tool calls


def _since_last_user(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    last = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return list(messages[last + 1 :])


def _tool_results(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``(tool name, result text)`` of the tool messages after the last user message."""
    names: dict[str, str] = {}
    results: list[tuple[str, str]] = []
    for message in _since_last_user(messages):
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and isinstance(call.get("function"), Mapping):
                names[str(call.get("id"))] = str(call["function"].get("name", ""))
        if message.get("role") == "tool":
            name = names.get(str(message.get("tool_call_id")), "tool")
            results.append((name, str(message.get("content") or "")))
    return results


def _tools_summary(results: Sequence[tuple[str, str]]) -> str:
    lines = ["Here is what I did:"]
    for name, result in results:
        flat = " ".join(result.split())
        lines.append(f"- {name}: {flat[:197] + '...' if len(flat) > 200 else flat}")
    lines += ["", DEMO_SIGNATURE]
    return "\n".join(lines)


def _tool_name(tool: Mapping[str, Any]) -> str:
    function = tool.get("function")
    return str(function.get("name", "")) if isinstance(function, Mapping) else ""


def _mention(name: str, lowered: str) -> int:
    """Where the tool's name (``send_email`` or ``send email``) first appears in the text, or -1."""
    spots = [lowered.find(form) for form in {name.lower(), name.lower().replace("_", " ").replace("-", " ")}]
    found = [s for s in spots if s >= 0]
    return min(found) if found else -1


def _demo_value(name: str, schema: Mapping[str, Any], text: str) -> Any:
    """A plausible value for one argument, from its name, its schema and the user's text."""
    if "default" in schema:
        return schema["default"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    lowered = name.lower()
    if lowered in ("to", "email", "recipient", "address"):
        match = re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
        return match.group(0) if match else "customer@example.com"
    if "url" in lowered:
        match = re.search(r"https?://[^\s\"'<>]+", text)
        return match.group(0) if match else "https://example.com/"
    if lowered == "subject":
        subject = _field(text, "subject") or " ".join(text.split())[:60]
        return f"Re: {subject}" if subject else "Your request"
    if lowered == "expression":
        return "trigger"
    if lowered in ("body", "message", "template", "text", "content", "prompt", "reply"):
        return draft_reply(text)
    return " ".join(text.split())[:200]


def _demo_arguments(tool: Mapping[str, Any], text: str) -> dict[str, Any]:
    function = tool.get("function")
    params = function.get("parameters") if isinstance(function, Mapping) else None
    if not isinstance(params, Mapping):
        return {}
    properties = params.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = [str(r) for r in params.get("required", ()) or () if str(r) in properties]
    return {
        name: _demo_value(name, spec if isinstance(spec, Mapping) else {}, text)
        for name, spec in properties.items()
        if name in required
    }


def demo_tool_calls(request: LLMRequest) -> list[dict[str, Any]]:
    """The tool calls the demo model makes for a request that offers tools (else ``[]``).

    It calls, one per answer, each offered tool that the last user message names (``send_email``
    or "send email"), in the order they are named; when none is named, the first tool, once.
    Once those are done it answers with a summary of the results (`demo_completion`). The
    arguments are filled from each tool's JSON Schema: required properties only, with values
    taken from the user's text (an e-mail address, a URL...) or a drafted reply.
    """
    if not request.tools:
        return []
    text = _user_text(request.messages)
    lowered = text.lower()
    called = [name for name, _ in _tool_results(request.messages)]
    named = sorted(
        (spot, index, tool)
        for index, tool in enumerate(request.tools)
        if (spot := _mention(_tool_name(tool), lowered)) >= 0 and _tool_name(tool)
    )
    wanted = [tool for _, _, tool in named] or ([request.tools[0]] if _tool_name(request.tools[0]) else [])
    for tool in wanted:
        name = _tool_name(tool)
        if name in called:
            continue
        arguments = json.dumps(_demo_arguments(tool, text), sort_keys=True)
        return [
            {
                "id": f"call_demo_{len(called) + 1}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ]
    return []

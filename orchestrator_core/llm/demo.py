"""Baton's built-in demo model: deterministic, offline, clearly labelled.

It lets a fresh install run the sample workflows with no API key. It is not a language model:
``classify`` scores keywords, ``complete`` fills a polite e-mail reply template from the last
user message. Every completion ends with `DEMO_SIGNATURE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

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


def _user_text(messages: Sequence[Mapping[str, str]]) -> str:
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    return users[-1] if users else (messages[-1].get("content", "") if messages else "")


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
    return draft_reply(text)

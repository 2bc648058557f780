"""PII redaction before a prompt leaves the machine: e-mail addresses, phone numbers, card numbers.

`redact` replaces them by ``[EMAIL]``, ``[PHONE]`` and ``[CARD]`` and counts what it replaced.
It is a regex heuristic, tuned for precision on ordinary business text (dates, IP addresses,
version numbers, amounts and short order numbers are left alone); see ``docs/llm.md`` for its
measured recall and precision. It is not a guarantee: names and postal addresses are not touched.
"""

from __future__ import annotations

import re

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})\.)+[A-Za-z]{2,24}(?![\w-])"
)
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD_RE = re.compile(r"(?<![\w+.,/-])\d(?:[ -]?\d){12,18}(?![\w.,/-]?\d)")
# An optional +country code, an optional (area code), then up to 6 groups of digits.
_PHONE_RE = re.compile(
    r"(?<![\w+#$€£.,/:-])"
    r"(?:\+\d{1,3}[ .-]?)?"
    r"(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,12}(?:[ .-]\d{1,12}){0,5}"
    r"(?![\w.,/:-]?\d)(?!\w)"
)
_DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_IP_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _phone(match: re.Match[str]) -> bool:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        return False
    if _DATE_RE.fullmatch(raw) or _IP_RE.fullmatch(raw):
        return False
    if raw.startswith("+") or raw.startswith("("):
        return True
    if re.fullmatch(r"\d+", raw):
        # A bare run of digits is a phone number only at 10-11 digits (5551234567, 01712345678);
        # shorter or longer runs are ids, order numbers, amounts.
        return len(digits) in (10, 11)
    groups = re.split(r"[ .-]", raw)
    if "." in raw and not all(len(g) >= 2 for g in groups):
        return False
    if len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return False  # thousands separators: 1 200 000
    # Grouped digits: the last group has 3+ digits (555-0134, 7946 0958, 030 1234567).
    return len(groups[-1]) >= 3 and len(groups) >= 2


def redact(text: str) -> tuple[str, dict[str, int]]:
    """Replace e-mail addresses, payment card numbers and phone numbers by placeholders.

    Returns:
        ``(redacted_text, {"email": n, "card": n, "phone": n})``.
    """
    counts = {"email": 0, "card": 0, "phone": 0}

    def sub_email(match: re.Match[str]) -> str:
        counts["email"] += 1
        return EMAIL

    def sub_card(match: re.Match[str]) -> str:
        if not _card(match):
            return match.group(0)
        counts["card"] += 1
        return CARD

    def sub_phone(match: re.Match[str]) -> str:
        if not _phone(match):
            return match.group(0)
        counts["phone"] += 1
        return PHONE

    out = _EMAIL_RE.sub(sub_email, text)
    out = _CARD_RE.sub(sub_card, out)
    out = _PHONE_RE.sub(sub_phone, out)
    return out, counts

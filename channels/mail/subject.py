"""Subjects: normalization across languages and the stable ticket token ``[#<number>]``.

Mail clients prefix replies and forwards in the user's language ("AW:", "回复：", "Re[2]:"),
sometimes stacked ("RE: AW: Fwd:"). ``normalize`` strips them so two subjects of one thread
compare equal. The ticket token is *stable* (docs/threading.md): ``[#12]``, or ``[ACME#12]`` when a
workspace configures the prefix ``ACME``.
"""
from __future__ import annotations

import re

# Reply and forward prefixes, by language; matched only when followed by a colon.
REPLY_PREFIXES = (
    "re", "aw", "antw", "sv", "vs", "r", "rv", "res", "odp", "ynt", "vá", "ha", "atb", "bls",
    "σχετ", "απ", "ответ", "отв", "回复", "回覆", "答复", "答覆", "返信", "회신", "תשובה",
    "رد", "réf", "ref", "rif", "svar",
)
FORWARD_PREFIXES = (
    "fwd", "fw", "wg", "tr", "enc", "pd", "doorst", "i", "vb", "vl", "fs", "rv", "ilt",
    "továbbítás", "转发", "轉寄", "轉發", "転送", "전달", "πρθ", "пересл", "הועבר", "trs", "pers",
)
_WORDS = sorted(set(REPLY_PREFIXES + FORWARD_PREFIXES), key=len, reverse=True)
# One prefix: word, optional counter ("Re[2]", "Re(2)", "Re^2"), colon (ASCII or full-width).
# Blanks are possessive: none of the pieces starts with one, and "re" + 100,000 blanks would
# otherwise try every split of the run between the two \s* (quadratic).
_PREFIX = re.compile(
    r"^\s*+(?:%s)\.?\s*+(?:\[\d+\]|\(\d+\)|\^\d+)?\s*+[:：]\s*+" % "|".join(map(re.escape, _WORDS)),
    re.IGNORECASE,
)
# Old clients wrap forwards as "[Fwd: subject]".
_BRACKETED_FORWARD = re.compile(r"^\s*\[(?:fwd|fw):\s*(.*)\]\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
MAX_TICKET_DIGITS = 18  # fits a signed 64-bit column; longer digit runs are not our tokens


def normalize(subject: str) -> str:
    """``subject`` without reply/forward prefixes and with whitespace collapsed."""
    text = _SPACES.sub(" ", subject or "").strip()
    while True:
        bracketed = _BRACKETED_FORWARD.match(text)
        stripped = bracketed.group(1) if bracketed else _PREFIX.sub("", text, count=1)
        if stripped == text:
            return text.strip()
        text = stripped.strip()


def find_ticket_number(subject: str, prefix: str = "") -> int | None:
    """The N of the first ``[<prefix>#N]`` token in ``subject``, or None."""
    pattern = r"\[%s#(\d{1,%d})\]" % (re.escape(prefix), MAX_TICKET_DIGITS)
    match = re.search(pattern, subject or "", re.IGNORECASE)
    return int(match.group(1)) if match else None


def ticket_token(number: int, prefix: str = "") -> str:
    """The token to put into outbound subjects: ``[#12]`` or ``[ACME#12]``."""
    return f"[{prefix}#{number}]"

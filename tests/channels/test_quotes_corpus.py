"""Reply trimming scored against the shared reply_trimming corpus: the score must not regress."""
from __future__ import annotations

import pytest

from channels.mail.quotes import extract_reply
from tests.channels.mailfactory import CORPORA

CORPUS = CORPORA / "reply_trimming"
CORPUS_SIZE = 64
# The score reached with the current rules: a floor, so a regression fails the suite.
CORPUS_FLOOR = 64


def _normalized(text: str) -> str:
    return " ".join(text.split())


# --- corpus ---------------------------------------------------------------------------------------

# Cases of the corpus that look contradictory, and the general rule that reconciles them:
# * embedded_email_quote_text vs embedded_email_7 / embedded_email_17: all three have
#   "attribution, > quote, then text"; the quote is dropped in the first and kept in the
#   others. Rule: an attribution at the very top (nothing written above it) is bottom-posting,
#   so its quote is history; after the customer's own text it is an inline reply, so the quote
#   stays and only the attribution line goes.
# * embedded_email_1 vs embedded_email_7: a "Name> ..." line under an attribution is history in
#   the first ("Richard>", cut) and a kept inline quote in the second ("C>"). Rule: only
#   Supercite *initials* (1-3 capitals) mark a quote; "Richard>" is text, and an attribution
#   followed by text (not by a quote) starts the history.
# * spam_1 vs quote_only: both consist only of "> " lines; spam_1 expects "" and quote_only
#   keeps its line. Rule: spam_1's quote starts with an attribution at the top (quoted history
#   with no reply), quote_only's does not.
# * forwarded_message vs forwarded_gmail: the forwarded body is kept in the first and dropped in
#   the second. Rule: when nothing precedes the forward banner and header block, the forwarded
#   body is the content; when the customer wrote a comment above it, the comment is.


def _corpus_cases() -> list[tuple[str, str, str]]:
    if not (CORPUS / "emails").is_dir():
        pytest.skip(f"reply-trimming corpus not found at {CORPUS}")
    cases = []
    for email in sorted((CORPUS / "emails").glob("*.txt")):
        trimmed = CORPUS / "trimmed" / email.name
        cases.append((email.name, email.read_text(encoding="utf-8"),
                      trimmed.read_text(encoding="utf-8")))
    return cases


def test_corpus_score_does_not_regress():
    cases = _corpus_cases()
    assert len(cases) == CORPUS_SIZE
    failed = [name for name, body, expected in cases
              if _normalized(extract_reply(body)) != _normalized(expected)]
    score = len(cases) - len(failed)
    print(f"reply-trimming corpus: {score} of {len(cases)} match; failing: {failed}")
    assert score >= CORPUS_FLOOR, f"score {score} < floor {CORPUS_FLOOR}; failing: {failed}"

"""channels.mail.classify on the shared real-world corpora (skipped when /work/shared is absent)."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from channels.event import CLASSIFICATIONS, Classification
from channels.mail.classify import classify
from tests.channels.mailfactory import CORPORA, parse

BOUNCES = CORPORA / "bounces" / "maildir"
AUTOMATIC = ("bounce", "complaint", "auto_reply", "out_of_office")

# Corpus files whose label we deliberately do not follow, with the reason.
BSD_EXCEPTIONS = {
    # A person forwarding a bounce ("Fwd: Returned mail") with a note: a customer message.
    "lhost-sendmail-14.eml": "normal",
}
NOT_EXCEPTIONS = {
    # From postmaster@, Return-Path: <>, Auto-Submitted: auto-replied, "automatic bounce
    # notification ... target mail address: ...": a bounce by every rule we have.
    "rb-issue-368-bug.eml": "bounce",
}
# bsd files classified as bounce that name the bounced recipient; raise when it improves.
BOUNCE_RECIPIENT_FLOOR = 596


# --- corpora -----------------------------------------------------------------------------------

def corpus(folder: Path, pattern: str) -> list:
    """One pytest param per corpus file (named by its path), or one skipped param if absent."""
    files = sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {folder}"))]
    return [pytest.param(p, id=str(p.relative_to(CORPORA))) for p in files]


@lru_cache(maxsize=None)
def classified(path: Path) -> Classification:
    return classify(parse(path.read_bytes()))


@pytest.mark.parametrize("path", corpus(BOUNCES / "bsd", "*.eml"))
def test_bounce_corpus_file_is_automatic(path):
    expected = BSD_EXCEPTIONS.get(path.name)
    kind = classified(path).kind
    assert kind == expected if expected else kind in AUTOMATIC, classified(path)


@pytest.mark.parametrize("path", corpus(BOUNCES / "not", "*.eml"))
def test_not_bounce_corpus_file_is_normal(path):
    assert classified(path).kind == NOT_EXCEPTIONS.get(path.name, "normal"), classified(path)


def test_bounce_corpus_recipient_floor():
    files = sorted((BOUNCES / "bsd").glob("*.eml")) if BOUNCES.is_dir() else []
    if not files:
        pytest.skip(f"no corpus at {BOUNCES}")
    counts = Counter(classified(p).kind for p in files)
    with_recipient = sum(1 for p in files
                         if classified(p).kind == "bounce" and classified(p).bounced_recipient)
    assert with_recipient >= BOUNCE_RECIPIENT_FLOOR, (with_recipient, counts)


@pytest.mark.parametrize("path", corpus(CORPORA / "odd_mime", "**/*"))
def test_odd_mime_file_classifies_without_raising(path):
    assert classified(path).kind in CLASSIFICATIONS


@pytest.mark.parametrize("path", corpus(CORPORA / "odd_mime" / "dsn", "**/*.raw"))
def test_odd_mime_delivery_report_is_bounce_with_recipient(path):
    found = classified(path)
    assert (found.kind, bool(found.bounced_recipient)) == ("bounce", True), found

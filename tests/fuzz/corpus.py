"""The shared corpora as raw mails to mutate (``../shared/corpora``; tests skip without it)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tests.channels.mailfactory import CORPORA

SKIPPED_NAMES = ("LICENSE", "SOURCE_COMMIT", "README")
# reply_trimming holds bodies only: they are given the headers of a customer's reply
REPLY_HEADERS = (b"From: Ann <ann@example.com>\r\nTo: support@demo.test\r\nSubject: Re: help\r\n"
                 b"Content-Type: text/plain; charset=utf-8\r\n\r\n")


@lru_cache(maxsize=1)
def corpus_mails() -> tuple[bytes, ...]:
    """Every mail of the corpora, in a stable order; empty when the corpora are absent."""
    mails = []
    for folder in ("odd_mime", "bounces"):
        mails += [p.read_bytes() for p in _files(CORPORA / folder)]
    mails += [REPLY_HEADERS + p.read_bytes() for p in _files(CORPORA / "reply_trimming" / "emails")]
    return tuple(mails)


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.name.startswith(SKIPPED_NAMES))

"""Downloading attachments a channel only names by URL (chat webhook attachments).

``download(url, allow=..., until=...)`` fetches the file through the guarded client
(``workers.fetch.guarded``: public addresses only unless the workspace's ``fetch_allow_hosts``
names the host, every redirect checked, a deadline, a size cap) and tells the two kinds of
failure apart, because they need opposite handling:

* ``DownloadFailed``: it will never work (4xx, too big, not http/https, a refused address, too
  many redirects, a host that does not exist, slower than the deadline). The caller keeps the
  message and notes the missing attachment, with the reason, in its text.
* ``DownloadRetry``: it may work later (connection refused or broken, 5xx, 408, 429). The caller
  lets it propagate so the RQ job is retried with backoff.

A slow server counts as permanent on purpose: retrying a server that drips would hold a worker
for the whole deadline on every retry, and the message is kept either way.
"""
from __future__ import annotations

import time

from workers.fetch import guarded as guarded_fetch
from workers.fetch.guarded import AllowList

MAX_BYTES = 25 * 1024 * 1024      # larger files are refused (noted in the message)
MESSAGE_BUDGET_S = 30.0           # seconds for all URL attachments of one message together
MAX_REDIRECTS = 3
RETRYABLE_STATUS = {408, 425, 429}  # client errors that mean "later", like a 5xx


class DownloadFailed(Exception):
    """Permanent: retrying will not help; ``reason`` is short and human readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DownloadRetry(Exception):
    """Transient: the job should be retried later."""


def budget_end(seconds: float = MESSAGE_BUDGET_S) -> float:
    """The ``until`` shared by the downloads of one message (a ``time.monotonic()`` value)."""
    return time.monotonic() + seconds


def download(url: str, allow: AllowList = AllowList(), max_bytes: int = MAX_BYTES,
             until: float | None = None, **fetch_options) -> tuple[bytes, str]:
    """The file's bytes and the server's media type ('' when it gave none)."""
    limits = guarded_fetch.Limits(deadline_s=MESSAGE_BUDGET_S, max_bytes=max_bytes,
                                  max_redirects=MAX_REDIRECTS)
    try:
        response = guarded_fetch.fetch(url, allow=allow, limits=limits, until=until,
                                       **fetch_options)
    except guarded_fetch.Unreachable as exc:
        raise DownloadRetry(exc.reason) from exc
    except guarded_fetch.FetchError as exc:  # refused, too big, too slow
        raise DownloadFailed(exc.reason) from None
    _check_status(response)
    return response.body, response.media_type()


def _check_status(response: guarded_fetch.Response) -> None:
    status = response.status
    if status >= 500 or status in RETRYABLE_STATUS:
        raise DownloadRetry(f"HTTP {status}")
    if status >= 400:
        raise DownloadFailed(f"HTTP {status} {response.reason}".strip())
    if status != 200:
        raise DownloadFailed(f"unexpected HTTP {status}")

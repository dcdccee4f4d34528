"""Downloading attachments a channel only names by URL (chat webhook attachments).

``download(url)`` streams the file with timeouts and a size cap and tells the two kinds of
failure apart, because they need opposite handling:

* ``DownloadFailed``: it will never work (4xx, too big, not http/https, bad URL). The caller
  keeps the message and notes the missing attachment in its text.
* ``DownloadRetry``: it may work later (timeout, connection refused, 5xx, 408, 429). The caller
  lets it propagate so the RQ job is retried with backoff.

The URLs come from a signed webhook, i.e. from the workspace's own systems; they may point at
private addresses (a local file server), so no address filtering is done here.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import requests

MAX_BYTES = 25 * 1024 * 1024      # larger files are refused (noted in the message)
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30               # between two bytes, not for the whole file
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
RETRYABLE_STATUS = {408, 425, 429}  # client errors that mean "later", like a 5xx
USER_AGENT = "ticketgate-attachment-fetcher/1"


class DownloadFailed(Exception):
    """Permanent: retrying will not help; ``reason`` is short and human readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DownloadRetry(Exception):
    """Transient: the job should be retried later."""


def download(url: str, max_bytes: int = MAX_BYTES, session: requests.Session | None = None,
             ) -> tuple[bytes, str]:
    """The file's bytes and the server's content type ('' when it gave none)."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise DownloadFailed("only http and https URLs are fetched")
    session = session or _session()
    try:
        with session.get(url, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                         allow_redirects=True) as response:
            _check_status(response)
            _check_announced_size(response, max_bytes)
            return _read_capped(response, max_bytes), _media_type(response)
    except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError) as exc:
        raise DownloadRetry(f"{url}: {exc.__class__.__name__}: {exc}") from exc
    except requests.TooManyRedirects:
        raise DownloadFailed(f"more than {MAX_REDIRECTS} redirects") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise DownloadFailed(f"invalid URL ({exc.__class__.__name__})") from None


def _session() -> requests.Session:
    session = requests.Session()
    session.max_redirects = MAX_REDIRECTS
    session.headers["User-Agent"] = USER_AGENT
    return session


def _check_status(response: requests.Response) -> None:
    status = response.status_code
    if status >= 500 or status in RETRYABLE_STATUS:
        raise DownloadRetry(f"{response.url}: HTTP {status}")
    if status >= 400:
        raise DownloadFailed(f"HTTP {status} {response.reason or ''}".strip())
    if status != 200:
        raise DownloadFailed(f"unexpected HTTP {status}")


def _check_announced_size(response: requests.Response, max_bytes: int) -> None:
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise DownloadFailed(f"too big ({_mib(int(announced))} > {_mib(max_bytes)})")


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """Read at most ``max_bytes``: a server that lies about (or omits) its length is cut off."""
    data = bytearray()
    for chunk in response.iter_content(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise DownloadFailed(f"too big (more than {_mib(max_bytes)})")
    return bytes(data)


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"

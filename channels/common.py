"""What every channel adapter returns and raises.

An adapter is a pure function: raw input bytes in, ``Parsed`` out (the event, the bytes of
attachments it carried inline keyed by sha256, and the remote files a worker still has to fetch,
such as Telegram file ids or chat attachment URLs). Input that can never become a message raises
``Unparseable``; its reason goes to the quarantine.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from channels.event import Attachment, TicketEvent


class Unparseable(ValueError):
    """The input cannot become a message at all; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RemoteFile:
    """An attachment the adapter could only name; a worker downloads it into the blob store."""
    ref: str                  # a URL or a channel's file id
    filename: str = ""
    content_type: str = "application/octet-stream"
    size: int = 0             # as announced by the sender; 0 when unknown


@dataclass
class Parsed:
    event: TicketEvent | None  # None: nothing to store (a bot command, an ignorable update)
    blobs: dict[str, bytes] = field(default_factory=dict)  # sha256 hex -> bytes
    remote_files: list[RemoteFile] = field(default_factory=list)


def inline_attachment(parsed: Parsed, data: bytes, filename: str, content_type: str) -> None:
    """Add bytes the input carried (base64 in JSON, a form upload) as a stored attachment."""
    sha = hashlib.sha256(data).hexdigest()
    parsed.blobs[sha] = data
    parsed.event.attachments.append(Attachment(filename=filename, content_type=content_type,
                                               size=len(data), sha256=sha))


def content_hash(*parts: str) -> str:
    """A stable hash of what the sender wrote, to tell a retry from a reused id."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()

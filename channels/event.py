"""The canonical ticket event: what every channel adapter produces and every worker consumes.

The JSON form (``to_dict``) is stable and versioned by ``EVENT_VERSION``; ``from_dict`` accepts
any older version it knows and ignores unknown keys, so a queued event survives an upgrade.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

EVENT_VERSION = 1  # bump when a field changes meaning; from_dict must keep reading older ones

CLASSIFICATIONS = (
    "normal", "auto_reply", "out_of_office", "bounce", "complaint", "list", "own_loop", "spam",
)


@dataclass
class Address:
    """A mailbox-like identity: display name plus address (email, telegram:<id>, chat:<id>)."""
    name: str = ""
    address: str = ""


@dataclass
class Attachment:
    """An attachment stored by reference in the blob store."""
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str = ""


@dataclass
class ThreadHints:
    """Everything that can tie a message to an existing ticket, in threading order."""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    reply_token: str = ""        # from a signed reply address support+<token>@
    body_marker: str = ""        # signed hidden marker found in the body
    subject_number: int | None = None  # the N of a [#N] subject token
    conversation_id: str = ""    # chat conversation / Telegram chat id


@dataclass
class Classification:
    """What kind of message this is; only ``normal`` may open a ticket or trigger an answer."""
    kind: str = "normal"
    reason: str = ""
    bounced_recipient: str = ""
    bounce_status: str = ""
    original_message_id: str = ""


@dataclass
class TicketEvent:
    """One inbound message, normalized. Workers add what they learn (e.g. ``language``)."""
    workspace: str
    channel: str
    account: str
    native_id: str
    dedupe_key: str
    received_at: str
    sender: Address
    sent_at: str = ""
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str = ""
    reply_text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    thread: ThreadHints = field(default_factory=ThreadHints)
    language: str = ""
    classification: Classification = field(default_factory=Classification)
    raw_ref: str = ""
    content_hash: str = ""
    # Other identities the channel proves belong to the sender ("email:a@b.c", "phone:+420..."),
    # so one customer writing on two channels is one customer.
    links: list[str] = field(default_factory=list)
    # Ways to reach the sender that nobody proved (the email a chat widget visitor typed), same
    # form as ``links``: stored as unverified contacts of the sender, never used to link.
    contacts: list[str] = field(default_factory=list)
    # Set on an edit of an earlier message (same dedupe key): a newer revision replaces the
    # stored text instead of adding a message (Telegram edited_message: its edit_date).
    revision: str = ""
    version: int = EVENT_VERSION

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TicketEvent":
        if data.get("version", 1) > EVENT_VERSION:
            raise ValueError(f"event version {data['version']} is newer than {EVENT_VERSION}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["sender"] = Address(**values.get("sender", {}))
        for key in ("reply_to", "to", "cc"):
            values[key] = [Address(**a) for a in values.get(key, [])]
        values["attachments"] = [Attachment(**a) for a in values.get("attachments", [])]
        values["thread"] = ThreadHints(**values.get("thread", {}))
        values["classification"] = Classification(**values.get("classification", {}))
        return cls(**values)

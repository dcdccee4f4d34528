"""``Mail``: the lazy, never-raising view of a message that the classification checks share.

The sender, subject, addresses and report text are read once, on first use, through the
guarded readers of ``safe_headers`` and ``report_parts``; checks share them instead of
re-reading the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cached_property

from channels.mail import safe_headers
from channels.mail.report_parts import readable_text


@dataclass
class Mail:
    """Lazy, never-raising view of a message for the checks."""
    message: EmailMessage
    own_domains: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def remembered(self, read):
        """``read(self)``, computed on the first ask and remembered: for what several checks
        ask about and that is no property of the message itself."""
        if read not in self._memo:
            self._memo[read] = read(self)
        return self._memo[read]

    def header(self, name: str) -> str:
        if name.lower() not in self.present:  # most asked-for headers are absent: no scan
            return ""
        return safe_headers.header_text(self.message, name)

    def has(self, name: str) -> bool:
        return name.lower() in self.present

    def owns(self, domain: str) -> bool:
        """Is ``domain`` one of ours or a subdomain of one?"""
        domain = domain.lower().strip(".")
        return bool(domain) and any(domain == d or domain.endswith("." + d)
                                    for d in self.own_domains)

    @cached_property
    def header_names(self) -> list[str]:
        return safe_headers.header_names(self.message)

    @cached_property
    def present(self) -> frozenset[str]:
        """The names of the headers present, lower-cased."""
        return frozenset(self.header_names)

    @cached_property
    def subject(self) -> str:
        return self.header("Subject")

    @cached_property
    def sender(self) -> str:
        return self.header("From")

    @cached_property
    def sender_addresses(self) -> list[str]:
        return safe_headers.addresses(self.sender)

    @cached_property
    def recipients(self) -> list[str]:
        return [a for name in ("To", "Cc", "Delivered-To")
                for a in safe_headers.addresses(self.header(name))]

    @cached_property
    def own_addresses(self) -> tuple[str, ...]:
        """The report's own From/To: the MTA and the original sender, never the recipient."""
        return tuple(self.sender_addresses + self.recipients)

    @cached_property
    def null_return_path(self) -> bool:
        """An empty envelope sender (<>), used only for notifications (RFC 5321 4.5.5)."""
        return self.has("Return-Path") and self.header("Return-Path").strip() in ("<>", "")

    @cached_property
    def auto_submitted(self) -> str:
        """The Auto-Submitted value when it says the mail is automatic, else ''."""
        value = self.header("Auto-Submitted").strip().lower()
        return value if value and not value.startswith("no") else ""

    @cached_property
    def text(self) -> str:
        return readable_text(self.message)

"""Classification checks for mail about mail we sent: our own mail coming back (``own_loop``),
delivery failures (``bounce``) and abuse reports (``complaint``).

Each check takes a ``Mail`` and returns a ``Classification`` or None; ``classify.RULES`` orders
them. A bounce is never recognized by wording alone: a customer may quote or forward one
(``bounce_evidence`` says what else it takes).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from channels.event import Classification
from channels.mail import dsn
from channels.mail.bounce_evidence import bounce_evidence, from_list
from channels.mail.classify_patterns import (JMRP_RECIPIENT_HEADER, LIST_HEADERS, LOOP_HEADER,
                                             OWN_MESSAGE_ID_PREFIX, SES_NOTIFICATION_RE,
                                             SES_RECIPIENT_RE, SES_STATUS_RE)
from channels.mail.linear_regex import first_found, matched_text
from channels.mail.mail_view import Mail
from channels.mail.ndr_patterns import (BOUNCE_BODY_RE, FORWARDED_NDR_SUBJECT_RE,
                                        ORIGINAL_SENDER_HEADERS)
from channels.mail.returned_message import original_message, original_message_id
from channels.mail.safe_headers import addresses, header_text


# --- own_loop --------------------------------------------------------------------------------

def loop_header(mail: Mail) -> Classification | None:
    if mail.has(LOOP_HEADER):
        value = mail.header(LOOP_HEADER)
        return Classification("own_loop", f"loop_header: {LOOP_HEADER}: {value}")
    return None


def own_message_id(mail: Mail) -> Classification | None:
    message_id = mail.header("Message-ID").strip().strip("<>")
    local, _, domain = message_id.rpartition("@")
    if local.startswith(OWN_MESSAGE_ID_PREFIX) and mail.owns(domain):
        return Classification("own_loop", f"own_message_id: Message-ID <{message_id}>")
    return None


# --- bounce and complaint --------------------------------------------------------------------

def delivery_report(mail: Mail) -> Classification | None:
    """RFC 3464: a message/delivery-status part (normally in multipart/report)."""
    if not dsn.has_delivery_status(mail.message):  # most mail: no need to read its addresses
        return None
    facts = dsn.read_delivery_status(mail.message, exclude=mail.own_addresses)
    return _bounce("delivery_report", facts) if facts else None


def feedback_report(mail: Mail) -> Classification | None:
    """RFC 5965 ARF: a message/feedback-report part (an abuse/spam complaint)."""
    facts = dsn.read_feedback_report(mail.message)
    if facts is None:
        return None
    return Classification("complaint", f"feedback_report: {facts.detail}",
                          bounced_recipient=facts.recipient,
                          original_message_id=facts.original_message_id)


def junk_mail_report(mail: Mail) -> Classification | None:
    """Microsoft JMRP: the reported message attached with the complainer in a header."""
    original = original_message(mail.message)
    recipient = header_text(original, JMRP_RECIPIENT_HEADER) if original is not None else ""
    if not recipient:
        return None
    address = (addresses(recipient) or [""])[0]
    return Classification("complaint", f"junk_mail_report: {JMRP_RECIPIENT_HEADER} {address}",
                          bounced_recipient=address,
                          original_message_id=original_message_id(mail.message))


def ses_notification(mail: Mail) -> Classification | None:
    """Amazon SES bounce/complaint/delivery notifications delivered as JSON by SNS."""
    if not any(a.endswith("@sns.amazonaws.com") for a in mail.sender_addresses):
        return None
    kind = first_found(SES_NOTIFICATION_RE, mail.text)
    recipient = first_found(SES_RECIPIENT_RE, mail.text).lower()
    if kind == "Bounce":
        return Classification("bounce", f"ses_notification: Bounce {recipient}",
                              bounced_recipient=recipient,
                              bounce_status=first_found(SES_STATUS_RE, mail.text) or "5.0.0")
    if kind == "Complaint":
        return Classification("complaint", f"ses_notification: Complaint {recipient}",
                              bounced_recipient=recipient)
    if kind:
        return Classification("auto_reply", f"ses_notification: {kind}")
    return None


def daemon_bounce(mail: Mail) -> Classification | None:
    """Non-standard bounces: vendor NDR prose with a sign that a machine sent it
    (``bounce_evidence``)."""
    evidence = bounce_evidence(mail)
    if not evidence:
        return None
    facts = dsn.read_text_bounce(mail.message, mail.text, exclude=mail.own_addresses)
    return _bounce("daemon_bounce", facts, evidence)


def relayed_bounce(mail: Mail) -> Classification | None:
    """A bounce that a list relayed with its From rewritten to the list's address (Google
    Groups, Mailman's DMARC mitigation): the bounce rules again, with the original sender the
    list kept in X-Original-From, X-Original-Sender or Reply-To."""
    if not any(mail.has(name) for name in LIST_HEADERS):
        return None
    for name in ORIGINAL_SENDER_HEADERS:
        original = mail.header(name)
        if not original or original == mail.sender:
            continue
        relayed = RelayedMail(mail.message, mail.own_domains, original_sender=original)
        found = ses_notification(relayed) or daemon_bounce(relayed)
        if found is not None:
            return replace(found, reason=f"relayed_bounce: {name} {original}, {found.reason}")
    return None


def forwarded_bounce(mail: Mail) -> Classification | None:
    """A bounce passed on by list software or a list owner (Mailman's "Uncaught bounce
    notification", an owner's "Fwd: Undeliverable: ..."): the bounce is attached, or its
    subject follows the forward prefix. A customer forwarding a bounce stays ``normal``."""
    if not from_list(mail):
        return None
    inner = original_message(mail.message)
    if inner is not None:
        inner_mail = Mail(inner, mail.own_domains)
        found = delivery_report(inner_mail) or daemon_bounce(inner_mail)
        if found is not None:
            return replace(found, reason=f"forwarded_bounce: From {mail.sender}, {found.reason}")
    hit = matched_text(FORWARDED_NDR_SUBJECT_RE, mail.subject)
    if not hit or not BOUNCE_BODY_RE.search(mail.text):
        return None
    facts = dsn.read_text_bounce(mail.message, mail.text, exclude=mail.own_addresses)
    return _bounce("forwarded_bounce", facts, f"From {mail.sender}, subject {hit!r}")


# --- helpers ---------------------------------------------------------------------------------

@dataclass
class RelayedMail(Mail):
    """The view of a list-relayed mail with the sender it had before the list rewrote From."""
    original_sender: str = ""

    @cached_property
    def sender(self) -> str:
        return self.original_sender


def _bounce(rule: str, facts: dsn.ReportFacts, evidence: str = "") -> Classification:
    seen = "; ".join(s for s in (evidence, facts.detail) if s)
    return Classification("bounce", f"{rule}: {seen}" if seen else rule,
                          bounced_recipient=facts.recipient, bounce_status=facts.status,
                          original_message_id=facts.original_message_id)

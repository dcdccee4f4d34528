"""Classification checks for mail about mail we sent: our own mail coming back (``own_loop``),
delivery failures (``bounce``) and abuse reports (``complaint``).

Each check takes a ``Mail`` and returns a ``Classification`` or None; ``classify.RULES`` orders
them. A bounce is never recognized by wording alone: a customer may quote or forward one.
"""
from __future__ import annotations

from channels.event import Classification
from channels.mail import dsn
from channels.mail.bounce_text import find_smtp_status, first_found
from channels.mail.classify_patterns import (BOUNCE_BODY_RE, BOUNCE_SUBJECT_RE, DAEMON_FROM_RE,
                                             DAEMON_LOCAL_PARTS, JMRP_RECIPIENT_HEADER, LOOP_HEADER,
                                             MAILER_DAEMON_RE, NO_REPLY_RE, OWN_MESSAGE_ID_PREFIX,
                                             SES_NOTIFICATION_RE, SES_RECIPIENT_RE, SES_STATUS_RE,
                                             matched_text)
from channels.mail.mail_view import Mail
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
    """Non-standard bounces: an MTA (or no-reply) sender or a null sender, plus bounce wording."""
    evidence = _bounce_evidence(mail)
    if not evidence:
        return None
    facts = dsn.read_text_bounce(mail.message, mail.text, exclude=mail.own_addresses)
    return _bounce("daemon_bounce", facts, evidence)


# --- helpers ---------------------------------------------------------------------------------

def _bounce(rule: str, facts: dsn.ReportFacts, evidence: str = "") -> Classification:
    seen = "; ".join(s for s in (evidence, facts.detail) if s)
    return Classification("bounce", f"{rule}: {seen}" if seen else rule,
                          bounced_recipient=facts.recipient, bounce_status=facts.status,
                          original_message_id=facts.original_message_id)


def _bounce_evidence(mail: Mail) -> str:
    """Why the mail looks like a bounce ('' when it does not): never wording alone, since a
    customer may quote or forward a bounce."""
    if MAILER_DAEMON_RE.search(mail.sender):
        return f"From {mail.sender}"
    subject_hit = matched_text(BOUNCE_SUBJECT_RE, mail.subject)
    if _daemon_sender(mail) and subject_hit:
        return f"From {mail.sender}, subject {subject_hit!r}"
    if _daemon_sender(mail) and _automatic_marker(mail):
        hit = matched_text(BOUNCE_BODY_RE, mail.text)
        return f"From {mail.sender}, {_automatic_marker(mail)}, {hit!r}" if hit else ""
    if subject_hit and (mail.null_return_path or mail.auto_submitted):
        return f"null sender or Auto-Submitted, subject {subject_hit!r}"
    if _no_reply_sender(mail) and original_message(mail.message) is not None:
        hit = subject_hit or matched_text(BOUNCE_BODY_RE, mail.text)
        return f"From {mail.sender} with the returned message, {hit!r}" if hit else ""
    return ""


def _automatic_marker(mail: Mail) -> str:
    """A sign that a postmaster's mail was machine-made (a person there may write to us)."""
    if mail.null_return_path:
        return "Return-Path <>"
    if mail.auto_submitted:
        return f"Auto-Submitted {mail.auto_submitted}"
    if original_message(mail.message) is not None:
        return "returned message attached"
    status = find_smtp_status(mail.text)
    return f"SMTP status {status}" if status else ""


def _daemon_sender(mail: Mail) -> bool:
    local_parts = [a.split("@")[0] for a in mail.sender_addresses]
    return any(p in DAEMON_LOCAL_PARTS for p in local_parts) or bool(
        DAEMON_FROM_RE.search(mail.sender))


def _no_reply_sender(mail: Mail) -> bool:
    return any(NO_REPLY_RE.match(a.split("@")[0]) for a in mail.sender_addresses)

"""Why a mail without an RFC 3464 report is a bounce: never its wording alone.

A customer may quote, forward or describe a bounce ("my mail could not be delivered to your
support address"), so every piece of evidence pairs what a bounce *says* (its subject, its
wording) with a sign that a machine *made* it: an MTA sender, a null envelope sender, an
Auto-Submitted or NDR header, list headers, or our own message returned inside it. Each check
returns the reason it found ('' when it found none); ``bounce_evidence`` tries them in order.
"""
from __future__ import annotations

from channels.mail.auto_reply_checks import own_list
from channels.mail.bounce_text import find_smtp_status
from channels.mail.classify_patterns import LIST_ADMIN_RE, LIST_HEADERS, LIST_PRECEDENCE
from channels.mail.linear_regex import first_found, matched_text
from channels.mail.mail_view import Mail
from channels.mail.ndr_patterns import (BOUNCE_BODY_RE, BOUNCE_SUBJECT_RE, COPY_FROM_RE,
                                        COPY_LOOKAHEAD, DAEMON_FROM_RE,
                                        DAEMON_LOCAL_PARTS, GATEWAY_FROM_RE, MAILER_DAEMON_RE,
                                        NDR_HEADERS, NDR_SUBJECT_RE, NO_REPLY_RE,
                                        RETURNED_COPY_RE)
from channels.mail.returned_message import original_message, returned_headers
from channels.mail.safe_headers import addresses, header_text


def bounce_evidence(mail: Mail) -> str:
    """Why ``mail`` looks like a bounce, or '' when it does not."""
    for check in (mailer_daemon, vendor_subject, daemon_with_subject, daemon_machine_made,
                  automatic_with_subject, no_reply_with_returned_message):
        found = check(mail)
        if found:
            return found
    return ""


def mailer_daemon(mail: Mail) -> str:
    """MAILER-DAEMON (or a null From) is proof enough."""
    return f"From {mail.sender}" if MAILER_DAEMON_RE.search(mail.sender) else ""


def vendor_subject(mail: Mail) -> str:
    """A vendor's NDR subject ("Undeliverable:", "Unzustellbar:", "Message status -
    undeliverable", ...) at the start, plus one sign that a machine wrote the mail."""
    hit = matched_text(NDR_SUBJECT_RE, mail.subject)
    sign = machine_sign(mail) if hit else ""
    return f"subject {hit!r}, {sign}" if sign else ""


def daemon_with_subject(mail: Mail) -> str:
    hit = matched_text(BOUNCE_SUBJECT_RE, mail.subject)
    return f"From {mail.sender}, subject {hit!r}" if hit and daemon_sender(mail) else ""


def daemon_machine_made(mail: Mail) -> str:
    """A postmaster (who may be a person) whose mail was machine-made and says a delivery
    failed."""
    marker = automatic_marker(mail) if daemon_sender(mail) else ""
    hit = matched_text(BOUNCE_BODY_RE, mail.text) if marker else ""
    return f"From {mail.sender}, {marker}, {hit!r}" if hit else ""


def automatic_with_subject(mail: Mail) -> str:
    hit = matched_text(BOUNCE_SUBJECT_RE, mail.subject)
    if hit and (mail.null_return_path or mail.auto_submitted):
        return f"null sender or Auto-Submitted, subject {hit!r}"
    return ""


def no_reply_with_returned_message(mail: Mail) -> str:
    if not no_reply_sender(mail) or original_message(mail.message) is None:
        return ""
    hit = matched_text(BOUNCE_SUBJECT_RE, mail.subject) or matched_text(BOUNCE_BODY_RE, mail.text)
    return f"From {mail.sender} with the returned message, {hit!r}" if hit else ""


# --- signs that a machine wrote the mail ---------------------------------------------------------

def machine_sign(mail: Mail) -> str:
    """A sign that the mail was machine-made ('' when none): an MTA or gateway sender, a
    header only automatic mail carries (list headers too: a bounce wins over list), or our
    message returned in it."""
    if daemon_sender(mail) or GATEWAY_FROM_RE.search(mail.sender):
        return f"From {mail.sender}"
    return header_sign(mail) or returns_our_message(mail)


def header_sign(mail: Mail) -> str:
    if mail.null_return_path:
        return "Return-Path <>"
    if mail.auto_submitted:
        return f"Auto-Submitted {mail.auto_submitted}"
    found = next((f"{name} header" for name in NDR_HEADERS if mail.has(name)), "")
    if found or own_list(mail):  # our own Google Group puts list headers on customer mail
        return found
    precedence = mail.header("Precedence").strip().lower()
    if precedence in LIST_PRECEDENCE:
        return f"Precedence {precedence}"
    return "list headers" if from_list(mail) else ""


def automatic_marker(mail: Mail) -> str:
    """A sign that a postmaster's mail was machine-made (a person there may write to us)."""
    if mail.null_return_path:
        return "Return-Path <>"
    if mail.auto_submitted:
        return f"Auto-Submitted {mail.auto_submitted}"
    if original_message(mail.message) is not None:
        return "returned message attached"
    status = find_smtp_status(mail.text)
    return f"SMTP status {status}" if status else ""


def returns_our_message(mail: Mail) -> str:
    """The mail returns a message that its recipient (or our domain) sent: attached, as
    headers, or pasted below an NDR's "copy of the message" line. A customer who attaches
    some other mail (or a bounce they received) does not return one of ours."""
    headers = returned_headers(mail.message)
    senders = addresses(header_text(headers, "From")) if headers is not None else []
    ours = set(mail.recipients)
    if any(a in ours or mail.owns(a.rpartition("@")[2]) for a in senders):
        return f"returns a message from {senders[0]}"
    return returns_pasted_copy(mail, ours)


def returns_pasted_copy(mail: Mail, ours: set[str]) -> str:
    """An NDR's "copy of the message" line followed by the copy's From: naming our recipient
    (a customer quoting someone else's mail under such a line does not return one of ours)."""
    marker = RETURNED_COPY_RE.search(mail.text)
    if marker is None:
        return ""
    following = mail.text[marker.end():marker.end() + COPY_LOOKAHEAD]
    sender = first_found(COPY_FROM_RE, following).strip(".").lower()
    if sender and (sender in ours or mail.owns(sender.rpartition("@")[2])):
        return f"returned copy {marker.group(0).strip()!r} from {sender}"
    return ""


def daemon_sender(mail: Mail) -> bool:
    local_parts = [a.split("@")[0] for a in mail.sender_addresses]
    return any(p in DAEMON_LOCAL_PARTS for p in local_parts) or bool(
        DAEMON_FROM_RE.search(mail.sender))


def no_reply_sender(mail: Mail) -> bool:
    return any(NO_REPLY_RE.search(a.split("@")[0]) for a in mail.sender_addresses)


def from_list(mail: Mail) -> bool:
    """The mail came through someone else's list software: its headers, or a list owner's
    address (our own list, a support Google Group, carries customer mail)."""
    if own_list(mail):
        return False
    return any(mail.has(h) for h in LIST_HEADERS) or any(
        LIST_ADMIN_RE.search(a.split("@")[0]) for a in mail.sender_addresses)

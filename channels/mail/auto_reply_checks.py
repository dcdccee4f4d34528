"""Classification checks for mail no person wrote to us: out-of-office notices
(``out_of_office``), other automatic replies and list-manager notices (``auto_reply``),
mailing-list and bulk mail (``list``) and flagged spam (``spam``).

Each check takes a ``Mail`` and returns a ``Classification`` or None; ``classify.RULES`` orders
them. A bare X-Auto-Response-Suppress (Outlook puts it on ordinary mail), or vacation wording
in mail that nothing marks as automatic, never decides alone.
"""
from __future__ import annotations

from channels.event import Classification
from channels.mail.classify_patterns import (AUTO_HEADER_VALUES, AUTO_SUBJECT_RE,
                                             BULK_SENDER_HEADER_PREFIXES, HINT_TEXT_LIMIT,
                                             LIST_ADMIN_RE, LIST_PRECEDENCE, LIST_SERVER_HEADERS,
                                             OOO_SUBJECT_RE, RESPONDER_MAILER_RE, SPAM_STATUS_RE,
                                             VACATION_RE)
from channels.mail.linear_regex import matched_text
from channels.mail.mail_view import Mail


# --- out_of_office and auto_reply ------------------------------------------------------------

def vacation_subject(mail: Mail) -> Classification | None:
    hit = matched_text(OOO_SUBJECT_RE, mail.subject)
    return Classification("out_of_office", f"vacation_subject: {hit!r}") if hit else None


def vacation_reply(mail: Mail) -> Classification | None:
    """An automatic reply (by its headers) whose wording is about being away."""
    signal = _auto_signal(mail) or ("Return-Path <>" if mail.null_return_path else "")
    if not signal:
        return None
    hint = matched_text(VACATION_RE, f"{mail.subject}\n{mail.auto_submitted}\n"
                                     f"{mail.text[:HINT_TEXT_LIMIT]}")
    return Classification("out_of_office", f"vacation_reply: {signal}, {hint!r}") if hint else None


def auto_reply_header(mail: Mail) -> Classification | None:
    signal = _auto_signal(mail)
    return Classification("auto_reply", f"auto_reply_header: {signal}") if signal else None


def auto_reply_subject(mail: Mail) -> Classification | None:
    hit = matched_text(AUTO_SUBJECT_RE, mail.subject)
    return Classification("auto_reply", f"auto_reply_subject: {hit!r}") if hit else None


def null_sender_auto_hint(mail: Mail) -> Classification | None:
    """Return-Path <> (never on a person's mail) with Outlook's auto-response marker."""
    if mail.null_return_path and mail.has("X-Auto-Response-Suppress"):
        return Classification("auto_reply", "null_sender_auto_hint: Return-Path <> and "
                              "X-Auto-Response-Suppress")
    return None


def list_manager_notice(mail: Mail) -> Classification | None:
    """A mailing-list manager's own notice (not member, loop alert, awaiting moderation)."""
    list_header = next((h for h in LIST_SERVER_HEADERS if mail.has(h)), "")
    admin = next((a for a in mail.sender_addresses
                  if LIST_ADMIN_RE.search(a.split("@")[0])), "")
    if list_header and admin:
        return Classification("auto_reply",
                              f"list_manager_notice: From {admin} with {list_header}")
    return None


# --- list and spam ---------------------------------------------------------------------------

def mailing_list(mail: Mail) -> Classification | None:
    """List headers, unless the list is our own (a support address that is a Google Group)."""
    list_id = mail.header("List-Id")
    if own_list(mail):
        return None
    if list_id:
        return Classification("list", f"mailing_list: List-Id {list_id}")
    if mail.has("List-Unsubscribe"):
        return Classification("list", "mailing_list: List-Unsubscribe")
    precedence = mail.header("Precedence").strip().lower()
    if precedence in LIST_PRECEDENCE:
        return Classification("list", f"mailing_list: Precedence {precedence}")
    return None


def bulk_sender(mail: Mail) -> Classification | None:
    marker = next((n for n in mail.header_names if n.startswith("x-mailchimp")), "")
    if not marker and mail.has("Feedback-ID"):
        marker = next((n for n in mail.header_names
                       if n.startswith(BULK_SENDER_HEADER_PREFIXES)), "")
        marker = f"Feedback-ID with {marker}" if marker else ""
    return Classification("list", f"bulk_sender: {marker}") if marker else None


def spam_flag(mail: Mail) -> Classification | None:
    if mail.header("X-Spam-Flag").strip().lower() == "yes":
        return Classification("spam", "spam_flag: X-Spam-Flag YES")
    if SPAM_STATUS_RE.match(mail.header("X-Spam-Status")):
        return Classification("spam", "spam_flag: X-Spam-Status Yes")
    return None


# --- helpers ---------------------------------------------------------------------------------

def _auto_signal(mail: Mail) -> str:
    """The header that marks the mail as an automatic reply ('' when none does); read once
    per mail (two checks ask)."""
    return mail.remembered(_read_auto_signal)


def _read_auto_signal(mail: Mail) -> str:
    if mail.auto_submitted:
        return f"Auto-Submitted {mail.auto_submitted}"
    for name, wanted in AUTO_HEADER_VALUES.items():
        value = mail.header(name).strip().lower() if mail.has(name) else None
        if value is not None and (value == wanted or (not wanted and value != "no")):
            return f"{name} {value}".strip()
    mailer = mail.header("X-Mailer")
    if RESPONDER_MAILER_RE.search(mailer):
        return f"X-Mailer {mailer}"
    return ""


def own_list(mail: Mail) -> bool:
    """The mail came through our own list (a support address that is a Google Group): its
    List-Id <support.example.com> belongs to our example.com (the id is in angle brackets, or
    the last word when a list writes it bare)."""
    list_id = mail.header("List-Id")
    inside = list_id.partition("<")[2].partition(">")[0]
    ident = inside if ">" in list_id.partition("<")[2] else (list_id.split() or [""])[-1]
    return mail.owns(ident.strip())

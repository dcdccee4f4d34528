"""What kind of mail is this? Only ``normal`` mail may open a ticket or trigger an answer.

``classify`` runs the ordered table ``RULES`` of small named checks (``bounce_checks``,
``auto_reply_checks``; the patterns they match are in ``ndr_patterns`` and
``classify_patterns``); the first that recognizes the message wins and its ``reason`` says which
rule fired and what it saw. The order is the precedence: our own mail coming back beats
everything, then bounce > auto-reply > list > normal. Delivery and feedback reports beat
auto-replies (a bounce often carries Auto-Submitted too) and list headers (a bounce that a list
relays or its owner forwards is still a bounce); auto-replies beat list headers (vacation
responders copy Precedence: bulk), and list detection beats the spam flag.

The checks are deliberately conservative: a customer's mail must stay ``normal``. A bare
``X-Auto-Response-Suppress`` (Outlook puts it on ordinary mail), a bounce quoted in a forward,
bounce wording from an ordinary sender (``bounce_evidence``), or a word like "absence" inside a
subject (only a responder's "Absence:" or "Absence RE:" prefix counts) never decides alone.

``out_of_office`` is an automatic reply about being away: a responder's subject (with or
without a colon, in many languages), or an auto-reply header (Auto-Submitted, X-Autoreply, ...)
together with vacation wording. The same headers without such wording give ``auto_reply``.

Pure, total and linear: no I/O, no input makes it raise (every header and body access is
guarded, and a check that fails anyway is skipped and named in the final reason), and every
pattern is RE2 (``linear_regex``), so its time grows linearly with the message.
"""
from __future__ import annotations

from email.message import EmailMessage
from typing import Callable

from channels.event import Classification
from channels.mail.auto_reply_checks import (auto_reply_header, auto_reply_subject, bulk_sender,
                                             list_manager_notice, mailing_list,
                                             null_sender_auto_hint, spam_flag, vacation_reply,
                                             vacation_subject)
from channels.mail.bounce_checks import (daemon_bounce, delivery_report, feedback_report,
                                         forwarded_bounce, junk_mail_report, loop_header,
                                         own_message_id, relayed_bounce, ses_notification)
from channels.mail.mail_view import Mail

Rule = Callable[[Mail], "Classification | None"]

RULES: tuple[tuple[str, Rule], ...] = (
    ("loop_header", loop_header),                  # own_loop
    ("own_message_id", own_message_id),            # own_loop
    ("delivery_report", delivery_report),          # bounce (RFC 3464)
    ("feedback_report", feedback_report),          # complaint (ARF)
    ("junk_mail_report", junk_mail_report),        # complaint (Microsoft JMRP)
    ("ses_notification", ses_notification),        # bounce / complaint (Amazon SES via SNS)
    ("daemon_bounce", daemon_bounce),              # bounce (prose from an MTA or gateway)
    ("relayed_bounce", relayed_bounce),            # bounce (relayed by a list, From rewritten)
    ("forwarded_bounce", forwarded_bounce),        # bounce (passed on by a list or its owner)
    ("vacation_subject", vacation_subject),        # out_of_office
    ("vacation_reply", vacation_reply),            # out_of_office
    ("auto_reply_header", auto_reply_header),      # auto_reply
    ("auto_reply_subject", auto_reply_subject),    # auto_reply
    ("null_sender_auto_hint", null_sender_auto_hint),  # auto_reply
    ("list_manager_notice", list_manager_notice),  # auto_reply
    ("mailing_list", mailing_list),                # list
    ("bulk_sender", bulk_sender),                  # list
    ("spam_flag", spam_flag),                      # spam
)


def classify(message: EmailMessage, own_domains: tuple[str, ...] = ()) -> Classification:
    """Classify a message parsed with ``policy.default``; ``own_domains`` are the domains we
    send from (our outbound Message-IDs are ``<tg.…@domain>``). Never raises."""
    try:
        mail = Mail(message, tuple(d.lower().strip(".") for d in own_domains))
    except Exception as error:  # only if own_domains is not a sequence of strings
        return Classification(reason=f"normal: unreadable input ({type(error).__name__})")
    for name, rule in RULES:
        try:
            found = rule(mail)
        except Exception as error:  # a guard, not a path: the rules guard their own access
            mail.errors.append(f"{name} ({type(error).__name__})")
            continue
        if found is not None:
            return found
    skipped = f"; failed checks: {', '.join(mail.errors)}" if mail.errors else ""
    return Classification(reason=f"normal: no rule matched{skipped}")

"""The patterns and word tables the classification checks match, across MTAs and languages.

Kept apart from the checks so that adding a locale's wording touches data, not logic.
``matched_text`` reads a hit the way the checks quote it in their reasons.
"""
from __future__ import annotations

import re

LOOP_HEADER = "X-Ticketgate-Loop"       # stamped on every mail we send
OWN_MESSAGE_ID_PREFIX = "tg."           # our outbound Message-IDs look like <tg.…@our-domain>
HINT_TEXT_LIMIT = 3000                  # vacation wording sits at the top of an auto-reply

# Senders that are MTAs, never people: local parts and display names of bounce senders.
DAEMON_LOCAL_PARTS = ("mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
                      "post_master", "mail.delivery.system", "mdaemon")
DAEMON_FROM_RE = re.compile(r"mailer[-_ ]?daemon|mail delivery (?:sub)?system|"
                            r"^\s*<>\s*$|microsoftexchange[0-9a-f]{32}@", re.I)
# mailer-daemon alone is proof enough; a postmaster may be a person and needs more evidence.
MAILER_DAEMON_RE = re.compile(r"mailer[-_ ]?daemon|^\s*<>\s*$", re.I)

# Notification senders; with a returned message attached and failure wording, a bounce.
NO_REPLY_RE = re.compile(r"no-?reply|do-?not-?reply", re.I)
# Subjects of delivery failures and delays, across MTAs and Exchange locales.
BOUNCE_SUBJECT_RE = re.compile("|".join((
    r"undeliver(?:ed|able)", r"delivery status notification", r"delivery (?:status )?notif",
    r"failure notice", r"(?:mail |message )?delivery (?:has )?fail", r"fail(?:ed|ure) delivery",
    r"delivery failure", r"returned (?:mail|to sender)", r"mail returned", r"could not be deliv",
    r"not (?:be )?delivered", r"delayed mail", r"delivery delayed", r"could not send",
    r"message .{0,40} delayed", r"mail system error", r"non-?delivery", r"mail failure",
    r"bounce notification", r"error sending your mail", r"returning message to sender",
    r"unzustellbar", r"non remis", r"no se puede entregar", r"non recapitabile",
    r"onbestelbaar", r"olevererbart", r"nie można dostarczyć",
    r"não (?:é possível|pode ser) entreg",
    r"не доставлено", r"недоставл", r"配信できません", r"メールエラー", r"不達", r"无法投递",
)), re.I)
# Phrases in a bounce's own text (not a quoted one) that say a delivery failed.
BOUNCE_BODY_RE = re.compile("|".join((
    r"^[ \t]*final-recipient:", r"^[ \t]*action:\s*(?:failed|delayed)", r"^[ \t]*status:\s*[45]\.",
    r"could ?n[o']t be delivered", r"undeliverable", r"delivery to the following recipient",
    r"permanent (?:fatal )?error", r"this is the mail system at host",
    r"this is the qmail-send program", r"delivery has failed", r"did not reach",
    r"failed to deliver", r"delivery (?:to .{1,80} )?failed", r"mail delivery software",
    r"user unknown", r"unknown user", r"no such (?:user|recipient|mailbox)",
    r"mailbox (?:unavailable|full|not found)", r"recipient address rejected",
    r"unable to deliver", r"not delivered", r"couldn'?t deliver", r"was not able to deliver",
    r"wasn't able to deliver", r"message could not be sent", r"rejected your message",
    r"address(?:es)? failed", r"returned to (?:the )?sender", r"delivery attempts",
)), re.I | re.M)

# Subject prefixes that only out-of-office responders write (a colon must follow, so a
# customer's "Absence of invoice" stays normal).
OOO_SUBJECT_RE = re.compile(r"^\s*(?:" + "|".join((
    r"out of (?:the )?office(?: autoreply)?", r"ooo", r"automatic reply", r"autosvar",
    r"abwesenheitsnotiz", r"automatische antwort", r"absence", r"abwesend",
    r"réponse automatique", r"risposta automatica", r"respuesta automática",
    r"resposta automática", r"automatisch antwoord", r"automaattinen vastaus",
    r"odpowiedź automatyczna", r"automatická odpověď", r"automatikus válasz",
    r"автоматический ответ", r"otomatik yanıt", r"自动回复", r"自動回覆", r"自動応答",
    r"自動返信", r"자동 회신",
)) + r")\s*[:：]", re.I)
# Generic auto-responder subject prefixes (not necessarily about being away).
AUTO_SUBJECT_RE = re.compile(r"^\s*(?:auto[- ]?(?:reply|respons\w*|antwort)|"
                             r"automated (?:reply|response)|automatic response)\s*[:：]", re.I)
# Words of a vacation notice, checked only when a header already says the mail is automatic.
VACATION_RE = re.compile("|".join((
    r"out of (?:the )?office", r"\booo\b", r"vacation", r"holiday", r"on leave",
    r"annual leave", r"away (?:from|until|till)", r"\bi am away\b", r"i'm away",
    r"abwesen", r"urlaub", r"absence", r"absent", r"congés?", r"vacances",
    r"fuera de la oficina", r"vacaciones", r"ausente", r"fuori ufficio", r"ferie",
    r"afwezig", r"vakantie", r"frånvar", r"semester", r"poza biurem", r"urlop", r"отпуск",
    r"休假", r"不在", r"外出", r"休暇",
)), re.I)
# X-Mailer values of known auto-responders.
RESPONDER_MAILER_RE = re.compile(r"vacation|auto-?respon|auto-?reply|out of office", re.I)
AUTO_HEADER_VALUES = {          # header: values meaning "automatic" ("" means any value)
    "x-autoreply": "",
    "x-autorespond": "",
    "x-autoresponder": "",
    "precedence": "auto_reply",
    "x-autogenerated": "reply",
}
# List software headers and the addresses its own notices come from.
LIST_SERVER_HEADERS = ("X-MLServer", "X-ML-Server", "Mailing-List", "X-Mailman-Version",
                       "List-Id", "List-Subscribe")
LIST_ADMIN_RE = re.compile(r"-(?:admin|owner|request|bounces?)$|^owner-", re.I)
LIST_PRECEDENCE = ("bulk", "list", "junk")
# Headers that only bulk-mail providers add (with Feedback-ID they mark a campaign).
BULK_SENDER_HEADER_PREFIXES = ("x-mailchimp", "x-mc-", "x-campaign", "x-sg-", "x-mailgun",
                               "x-ses-outgoing", "x-csa-complaints", "x-sfmc", "x-mailjet",
                               "x-rpcampaign", "x-feedback-id")
SPAM_STATUS_RE = re.compile(r"\s*yes\b", re.I)  # SpamAssassin: "Yes, score=7.1 required=5.0 ..."
# Amazon SES forwards its own bounce/complaint notifications as JSON through SNS, either
# plain or as an escaped string inside the SNS envelope (hence the optional backslashes).
SES_NOTIFICATION_RE = re.compile(r'\\?"notificationType\\?"\s*:\s*\\?"(\w+)')
SES_RECIPIENT_RE = re.compile(r'\\?"emailAddress\\?"\s*:\s*\\?"([^"\\]+)')
SES_STATUS_RE = re.compile(r'\\?"status\\?"\s*:\s*\\?"([245]\.\d+\.\d+)')
# Hotmail/Outlook.com junk-mail reports (JMRP) are complaints without the ARF structure.
JMRP_RECIPIENT_HEADER = "X-HmXmrOriginalRecipient"


def matched_text(pattern: re.Pattern, text: str) -> str:
    """The text of the first match of ``pattern``, stripped ('' when none)."""
    match = pattern.search(text)
    return match.group(0).strip() if match else ""

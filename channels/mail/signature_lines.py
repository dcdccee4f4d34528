"""Signature and separator lines: where a customer's reply ends even without quoted history.

The "-- " delimiter, underscore separator lines, and one-line mobile signatures ("Sent from my
iPhone" in many languages and client variants). ``quotes`` recognizes them only outside ``>``
quotes, and drops trailing decoration lines ("*****", "=====") with them.
"""
from __future__ import annotations

import re

# A mobile signature is one short line (measured after removing links).
MAX_SIGNATURE_CHARS = 100
MAX_SIGNATURE_WORDS = 8  # after "Sent from"

# The standard signature delimiter is "-- " (dash dash space); the space is often lost.
SIGNATURE_DELIMITER = re.compile(r"^--[ \t]*$")
# Outlook and many webmails separate the reply from the history (or a corporate footer) with a
# line of underscores. At least five, so a Markdown "___" rule in the reply is left alone.
UNDERSCORE_SEPARATOR = re.compile(r"^[ \t]*_{5,}[ \t]*$")
# Lines of repeated punctuation ("-------", "*****", "=====", "+++", "###", "~~~") left at the
# end once the history is gone. Only removed at the end: in the middle they are layout.
DECORATION_LINE = re.compile(r"^[ \t]*[-_=~*#+]{3,}[ \t]*$")

# Mobile and client signatures. Links are removed first ("Sent from [Mail](https://...)",
# "Sent from Outlook Mobile<https://...>", "Get Outlook for iOShttps://aka.ms/...").
SIGNATURE_LINKS = re.compile(  # linear: no alternative can run past the next "<", "(" or blank
    r"<(?:https?|mailto):[^<>]*>|\((?:https?|mailto):[^()\s]*\)|(?:https?|mailto):\S*|[\[\]]"
)
# "Sent from my iPhone" and its translations: a "sent" verb, then a preposition ("from",
# "with", "via", "depuis", "desde", "fra", "från", "z", "с", ...), then the device or app.
SENT_FROM = re.compile(
    r"^[^\w]*(?:sent|sendt|skickat|envoy[ée]|enviado|enviada|inviato|verzonden|verstuurd|"
    r"gesendet|wys[łl]ane|wys[łl]ano|odesl[áa]no|отправлено|poslano|lähetetty)"
    r"\s+(?:from|with|via|using|by|on|fra|från|med|depuis|de|desde|do|dal|dalla|da|met|"
    r"vanaf|van|von|mit|z|ze|с|со)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
# "From my iPhone" (no verb): accepted only when at most three words follow.
FROM_MY = re.compile(r"^[^\w]*from\s+my(?P<rest>(?:\s+\S+){1,3})\W*$", re.IGNORECASE)
# German puts the verb last: "Von meinem iPhone gesendet", "Diese Nachricht wurde von meinem
# Android-Mobiltelefon mit K-9 Mail gesendet."
VON_MEINEM_GESENDET = re.compile(
    r"^[^\w]*(?:diese\s+nachricht\s+wurde\s+)?von\s+meine[mnr]?\s+.{1,60}?\s+gesendet\W*$",
    re.IGNORECASE,
)
# Outlook mobile footers: "Get Outlook for iOS", "Get [Outlook for Android](https://...)".
GET_OUTLOOK = re.compile(r"^[^\w]*get\s+outlook\b", re.IGNORECASE)
# East Asian forms: "发自我的iPhone", "從我的 iPhone 傳送", "iPhoneから送信", "iPhone에서 보냄".
CJK_SENT_FROM = re.compile(
    r"^\W*(?:(?:发自|寄自|来自|來自|從|从)我的(?P<rest>.{1,40})|.{1,40}(?:から送信|에서\s*보냄))\W*$"
)
# What a "sent from" signature names: a device, a phone/tablet word, or a mail app; required, so
# "Sent from the warehouse" or "从我的角度" ("from my point of view") stay text. Substrings on
# purpose: "mail" covers Gmail, Airmail, Mailbox, K-9 Mail; "iphon" the inflected "iPhonu",
# "iPhonesta".
DEVICE_OR_APP = re.compile(
    r"iphon|ipad|ipod|android|mobil|phone|\bcell\b|handy|tablet|blackberry|galaxy|samsung|"
    r"outlook|mail|yahoo|windows|device|huawei|xiaomi|nokia|pixel|\bhtc\b|\bios\b|"
    r"telefon|t[ée]l[ée]phone|tel[ée]fono|telefoon|telefone|телефон|手机|手機|携帯",
    re.IGNORECASE,
)
# "Sent from my TI-85": a possessive followed by a short (unknown) device name also counts.
POSSESSIVE = re.compile(
    r"^\s*(?:my|mon|ma|mi|mein|meinem|min|mitt|mijn|mio|il\s+mio|meu|moje|mojego|моего|mého)\b",
    re.IGNORECASE,
)


def is_signature_or_separator(line: str) -> bool:
    return bool(SIGNATURE_DELIMITER.match(line) or UNDERSCORE_SEPARATOR.match(line)
                or is_mobile_signature(line))


def is_mobile_signature(line: str) -> bool:
    """"Sent from my iPhone" and friends: one short line naming a device or mail app."""
    stripped = line.strip()
    if not stripped or len(stripped) > 4 * MAX_SIGNATURE_CHARS:
        return False
    clean = " ".join(SIGNATURE_LINKS.sub(" ", stripped).split())
    if len(clean) > MAX_SIGNATURE_CHARS:
        return False
    if GET_OUTLOOK.match(clean):
        return True
    shape = (SENT_FROM.match(clean) or FROM_MY.match(clean) or VON_MEINEM_GESENDET.match(clean)
             or CJK_SENT_FROM.match(clean))
    if not shape:
        return False
    rest = (shape.groupdict().get("rest") or "").split()
    if shape.re is SENT_FROM and len(rest) > MAX_SIGNATURE_WORDS:
        return False  # "Sent from my phone but the app crashes whenever I open it" is prose
    if DEVICE_OR_APP.search(clean):
        return True
    return shape.re is SENT_FROM and bool(POSSESSIVE.match(" ".join(rest))) and len(rest) <= 3

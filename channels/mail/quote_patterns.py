"""The patterns and language tables that recognize quoted history in a reply (see ``quotes``).

Quote lines, and the markers that introduce an embedded earlier message: forward/original-message
banners, attribution lines ("On <date>, <name> wrote:") and Outlook-style header blocks, in the
languages our customers write in. ``history_markers`` applies them line by line.
"""
from __future__ import annotations

import re

from channels.mail.linear_regex import linear

# ---------------------------------------------------------------------------------------------
# Limits (they also keep the work per line bounded on hostile input)

# An attribution that a client wrapped spans at most this many lines (one was seen wrapped over
# five: name, blank line, "<", "mailto:...", "> wrote:").
MAX_ATTRIBUTION_LINES = 6
# Longer "lines" are prose (or garbage), never an attribution.
MAX_ATTRIBUTION_CHARS = 400
# No marker of any kind is longer than this (quote markers included): longer lines are content
# and are not even looked at, which keeps megabyte-long lines cheap.
MAX_MARKER_LINE_CHARS = 1000
# Outlook header blocks are a handful of fields; we look no further than this.
MAX_HEADER_BLOCK_LINES = 15

# ---------------------------------------------------------------------------------------------
# Quotes and blank lines

# A quoted line: "> text", ">text", nested "> > text", and Supercite-style initials ("JD> text",
# "C> text"). Initials only: a longer word before ">" ("Richard>") is too ambiguous to be a
# quote marker, so such a line is plain text.
QUOTE_LINE = re.compile(r"^[ \t]*(?:[A-Z]{1,3})?>")
# The quote markers themselves, stripped to look at what a quoted line says.
QUOTE_PREFIX = re.compile(r"^(?:[ \t]*(?:[A-Z]{1,3})?>)+[ \t]?")
# Characters that render as nothing: zero-width spaces and joiners, the BOM, and the "ᐧ"
# (U+1427) that mail-tracking browser extensions append to Gmail messages as a pixel anchor.
# A line made only of them (and whitespace) is blank.
INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u1427"
# Fenced code (Markdown): lines between two fences are never markers.
CODE_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")

# ---------------------------------------------------------------------------------------------
# History markers (recognized in quotes too)

# Banners that introduce an embedded message: "-----Original Message-----", "---------- Forwarded
# message ---------", "*-------- Original Message --------*", "Begin forwarded message:" and
# their translations. The whole line is the phrase, optionally framed by dashes or asterisks.
# Possessive frames: the phrases start with a letter, so giving back a frame character never
# helps, and a line of 400 dashes is not tried 400 times.
BANNER = re.compile(
    r"^[\s*-]*+(?:"
    r"original message|forwarded message|begin forwarded message|"
    r"urspr[üu]ngliche nachricht|original-nachricht|weitergeleitete nachricht|"
    r"anfang der weitergeleiteten nachricht|"
    r"message d'origine|message original|message transf[ée]r[ée]|"
    r"d[ée]but du message r[ée]exp[ée]di[ée]|"
    r"mensaje original|mensaje reenviado|inicio del mensaje reenviado|"
    r"oorspronkelijk bericht|origineel bericht|doorgestuurd bericht|"
    r"messaggio originale|messaggio inoltrato|inizio messaggio inoltrato|"
    r"mensagem original|mensagem encaminhada|in[íi]cio da mensagem reencaminhada|"
    r"ursprungligt meddelande|vidarebefordrat meddelande|"
    r"opprinnelig melding|videresendt melding|oprindelig meddelelse|videresendt meddelelse|"
    r"wiadomo[śs][ćc] oryginalna|oryginalna wiadomo[śs][ćc]|przekazana wiadomo[śs][ćc]|"
    r"p[ůu]vodn[íi] zpr[áa]va|p[řr]eposlan[áa] zpr[áa]va|"
    r"исходное сообщение|пересылаемое сообщение|пересланное сообщение|"
    r"alkuper[äa]inen viesti|välitetty viesti|eredeti üzenet|orijinal mesaj|"
    r"原始邮件|原始郵件|转发的邮件|轉寄的郵件|元のメッセージ|転送されたメッセージ"
    r")[\s:：*-]*+$",
    re.IGNORECASE,
)

# The verb of an attribution line, in many languages. Latin and Cyrillic words must stand alone
# (no letter on either side); CJK verbs follow the name without a space.
WROTE = re.compile(
    r"(?<![^\W\d_])(?:wrote|writes|schrieb|schreef|geschreven|a\s+[ée]crit|ha\s+scritto|"
    r"scrisse|escribi[óo]|ha\s+escrito|escreveu|skrev|napisa[łl]a?|pisze|napsala?|"
    r"написала?|написав|пише|kirjoitti|[íi]rta|yazd[ıi]|έγραψε|a\s+scris)(?![^\W\d_])"
    r"|写道|寫道|書きました|님이\s*작성",
    re.IGNORECASE,
)
# An attribution ends with a colon (ASCII or full-width; French puts a space before it) or, in
# Zoho's style ("---- On ... wrote ----"), with a run of dashes (see ``history_markers``).
ATTRIBUTION_COLONS = (":", "：")
# Gmail's date-first form needs no verb: "2016-10-24 15:36 GMT+02:00 Name <a@b>:",
# "2013/7/20 Name <a@b>", Japanese "2016年12月12日(月) 20:45 Name <a@b>:".
DATE_FIRST = re.compile(r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)")
TIMEZONE = re.compile(r"\b(?:GMT|UTC)\b|[+-]\d{2}:?\d{2}\b")
# "... Name <a@b>:" -- prose never ends with an address and a colon (newer Gmail locales drop
# the verb, e.g. Russian "пн, 6 окт. 2014 г. в 20:00, Name <a@b>:").
ENDS_WITH_ADDRESS = linear(r"<\s*[^<>\s]+@[^<>]+>\s*[:：]\s*$",  # RE2: quadratic with re
                           ignore_case=False)
# An attribution names a date or an address; "My colleague wrote:" or "(ticket 123) wrote:"
# does not. Evidence: an address, a time of day ("19:04", "20.42", "8h30"), or a year. Wrapped
# attributions need an address or a time (a year alone is too weak to glue lines together).
TIME_OF_DAY = re.compile(r"(?<!\d)\d{1,2}[:.h]\d{2}(?!\d)")
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# How an attribution that a client wrapped over several lines can begin: an opening word
# ("On", "Am", "Le", "El", "Op", "Il", "Em", "Den", "Dnia", "W dniu", "Dne", "В", "在", "At") or a
# date. A line containing an address ("Name <a@b> schrieb am Fr., 28.") can also begin one.
ATTRIBUTION_OPENER = re.compile(
    r"^\s*(?:(?:on|am|le|el|op|il|em|den|dnia|w\s+dniu|dne|в|у|at)\b|在|\d)", re.IGNORECASE
)

# One "Field: value" line of a header block; bold in rich-text clients ("*From:* ..."). The key
# is one or two words, looked up in the tables below.
HEADER_FIELD = re.compile(
    r"^[\s*]*(?P<key>[^\W\d_][^\W\d_\s-]{0,30}(?:[\s-][^\W\d_]{1,30})?)[\s*]*[:：]"
)
# "From" in the languages our customers write in.
FROM_FIELDS = frozenset({
    "from", "von", "de", "da", "van", "från", "fra", "od", "от", "lähettäjä", "feladó",
    "kimden", "発信者", "差出人", "发件人", "寄件者", "보낸 사람", "afzender", "expéditeur",
    "remitente", "mittente", "remetente", "avsändare", "nadawca", "odesílatel",
})
# The other fields of such a block (date, recipients, subject, reply-to), same languages.
OTHER_FIELDS = frozenset({
    "sent", "date", "to", "cc", "bcc", "subject", "reply-to", "reply to",
    "gesendet", "datum", "an", "kopie", "betreff", "antwort an",
    "envoyé", "envoye", "à", "a", "objet", "copie à", "répondre à",
    "enviado", "enviado el", "fecha", "para", "asunto", "cc para",
    "inviato", "data", "oggetto", "risposta", "rispondi a",
    "verzonden", "aan", "onderwerp", "beantwoorden",
    "skickat", "till", "ämne", "kopia", "svara till",
    "sendt", "til", "emne", "kopi", "svar til",
    "wysłane", "wysłano", "do", "temat", "dw", "odpowiedź do",
    "odesláno", "komu", "předmět",
    "enviada", "assunto", "responder a",
    "отправлено", "дата", "кому", "тема", "копия",
    "lähetetty", "vastaanottaja", "aihe", "elküldve", "címzett", "tárgy",
    "gönderildi", "kime", "konu", "tarih",
    "发送时间", "日期", "收件人", "主题", "抄送", "寄件日期", "收件者", "主旨", "副本",
    "送信日時", "宛先", "件名", "보낸 날짜", "받는 사람", "제목",
})
# A header block needs "From" and at least this many fields in all.
MIN_HEADER_FIELDS = 3

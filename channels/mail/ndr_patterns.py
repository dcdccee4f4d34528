"""What non-delivery reports look like: their senders, subjects and wording, across the major
MTAs, gateways and the languages their vendors localize them into.

Many NDRs are not RFC 3464 reports: Exchange/Outlook "Undeliverable:" (localized "Unzustellbar:",
"Non remis :", ...), GroupWise "Message status - undeliverable", Domino "DELIVERY FAILURE:",
antivirus and mail-gateway "Delivery failure notification", Exim "Mail delivery failed",
qmail and Yahoo "failure notice", Sendmail "Returned mail:", Gmail "Delivery Status
Notification (Failure)" and its localized wording. Adding a vendor's or a locale's wording
touches these tables, not the checks (``bounce_checks``), which never decide on wording alone.

All patterns are RE2 (``linear_regex``): senders, subjects and bodies are customer-controlled.
"""
from __future__ import annotations

from channels.mail.linear_regex import linear

# --- senders ------------------------------------------------------------------------------------

# Local parts of MTA senders (never people).
DAEMON_LOCAL_PARTS = ("mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster",
                      "post_master", "mail.delivery.system", "mdaemon")
# MTAs' own From lines: mailer-daemon alone is proof enough (below), the others may front a
# person's mailbox and need a second sign.
DAEMON_FROM_RE = linear(r"mailer[-_ ]?daemon|mail delivery (?:sub)?system|mail delivery service|"
                        r"^\s*<>\s*$|microsoftexchange[0-9a-f]{32}@")
# Gateways, antivirus scanners and the administrators' names NDRs come from: with a vendor's
# NDR subject, a bounce.
GATEWAY_FROM_RE = linear("|".join((
    r"system administrator", r"mail administrator", r"groupwise", r"\bgwia\b",
    r"notes mail router", r"\bndr\b", r"\b(?:anti-?virus|virus-?alert|amavis|mailscanner|mailsweeper|"
    r"mailmarshal|interscan|imss|smtp-?gateway|security gateway|quarantine)\b",
    r"\b(?:e-?)?mail[- ]?(?:gateway|security|scanner|filter)\b",
)))
MAILER_DAEMON_RE = linear(r"mailer[-_ ]?daemon|^\s*<>\s*$")
# Notification senders; with a returned message attached and failure wording, a bounce.
NO_REPLY_RE = linear(r"^(?:no-?reply|do-?not-?reply)")
# Headers a mailing list or Google Group keeps the original (rewritten) sender in.
ORIGINAL_SENDER_HEADERS = ("X-Original-From", "X-Original-Sender", "Reply-To")

# --- headers ------------------------------------------------------------------------------------

# Headers that only MTAs put on their own reports: Exim names the failed recipients, Exchange
# marks its NDRs.
NDR_HEADERS = ("X-Failed-Recipients", "X-MS-Exchange-Message-Is-Ndr")

# --- subjects -----------------------------------------------------------------------------------

# Vendors' NDR subjects as they begin (after a list tag such as "[support] "): strong enough,
# with one more sign that a machine wrote the mail, to call it a bounce.
_NDR_SUBJECTS = (
    # English: Exchange/Office 365, Postfix, Gmail/Exchange DSN, qmail/Yahoo, Exim, Domino,
    # GroupWise, Sendmail, gateways and antivirus, MDaemon, Courier, ...
    r"undeliver(?:able|ed)\b", r"non[- ]?deliver(?:able|y)\b", r"delivery status notification",
    r"delivery (?:status )?notification\s*:\s*(?:delivery has )?failed",
    r"failure notice", r"(?:e-?mail |mail |message )?delivery (?:has )?failed",
    r"(?:e-?mail |mail |message |permanent )?delivery failure", r"failure delivery",
    r"failed delivery", r"returned mail\b", r"mail returned", r"returning message to sender",
    r"(?:your |the )?(?:e-?mail|mail|message) could not be delivered",
    r"sorry,? your message could not be delivered", r"message status\s*-\s*undeliverable",
    r"message (?:was )?not delivered", r"mail system error", r"delayed mail",
    r"delivery delayed", r"warning:? could not send", r"warning--could not send",
    r"there was an error sending your mail", r"could not deliver", r"unable to deliver",
    r"mail failed,? returning to sender", r"postmaster notify", r"notice: mail delivery status",
    r"\*+\s*message you sent (?:was )?blocked", r"delivery unsuccessful", r"mail delivery problem",
    r"(?:e-?mail|mail) delivery error", r"error delivering (?:e-?mail|mail|message)",
    r"(?:e-?mail|mail) not delivered", r"expired delivery retry notification",
    r"delivery_failure",
    # German (Exchange "Unzustellbar:", Gmail, GMX/Web.de, gateways)
    r"unzustellbar", r"nicht zustellbar", r"zustellung fehlgeschlagen",
    r"fehlgeschlagene zustellung", r"zustellungsfehler", r"übermittlungsstatusbenachrichtigung",
    r"(?:ihre )?(?:e-?mail|nachricht) konnte nicht zugestellt werden",
    r"fehler bei der (?:zustellung|übermittlung)",
    # French
    r"non remis", r"message non (?:remis|délivré|distribué)", r"non distribuable",
    r"échec de (?:la )?(?:remise|livraison|distribution)", r"impossible de remettre",
    r"notification d'état de (?:la )?remise", r"courrier (?:non (?:délivré|distribué)|retourné)",
    # Spanish
    r"no se puede entregar", r"imposible entregar", r"(?:mensaje|correo) no entregado",
    r"error (?:en la|de) entrega", r"(?:falla|fallo) (?:en la|de) entrega", r"entrega fallida",
    r"notificación de estado de (?:la )?entrega", r"no se pudo entregar",
    # Italian
    r"non recapitabile", r"impossibile recapitare", r"mancato recapito",
    r"recapito non riuscito", r"messaggio non (?:recapitato|consegnato)",
    r"notifica (?:sullo )?stato (?:di |della )?(?:consegna|recapito)",
    r"errore (?:di|nella) consegna", r"consegna non riuscita",
    # Dutch
    r"onbestelbaar", r"niet (?:bezorgd|afgeleverd)\b", r"bezorging mislukt", r"bezorgingsfout",
    r"bericht (?:kan niet worden bezorgd|niet bezorgd|niet afgeleverd)",
    r"melding (?:over de )?(?:bezorgingsstatus|status van de bezorging)",
    # Portuguese
    r"não (?:é possível|pode ser) entreg", r"impossível entregar",
    r"(?:mensagem|e-?mail) não entregue", r"falha (?:na|de) entrega",
    r"notificação de (?:status|estado) (?:de|da) entrega",
    # Nordic, Polish, Czech, Russian, Japanese, Chinese (Exchange and local providers)
    r"olevererbar", r"kan (?:inte|ikke) levere", r"ikke leveret", r"ei voitu toimittaa",
    r"niedostarczalne", r"nie można dostarczyć", r"nedoručitelné", r"не доставлено",
    r"недоставл", r"配信できません", r"メールエラー", r"不達", r"无法投递", r"退信",
)
NDR_SUBJECT_RE = linear(r"^\s*(?:\[[^\]\n]{0,80}\]\s*)?(?:" + "|".join(_NDR_SUBJECTS) + ")")
# A list owner's forward of an NDR: "Fwd: Undeliverable: ...", "[list] WG: Unzustellbar: ...".
FORWARDED_NDR_SUBJECT_RE = linear(
    r"^\s*(?:\[[^\]\n]{0,80}\]\s*)?(?:(?:fwd?|wg|tr|enc|rv|doorst|vs|i|pd|转发)\s*[:：]\s*){1,3}"
    r"(?:\[[^\]\n]{0,80}\]\s*)?(?:" + "|".join(_NDR_SUBJECTS) + ")")

# Failure wording anywhere in a subject: with an MTA sender or a null sender, a bounce.
BOUNCE_SUBJECT_RE = linear("|".join(_NDR_SUBJECTS + (
    r"delivery (?:status )?notif", r"returned to sender", r"could not be deliv",
    r"not (?:be )?delivered", r"could not send", r"message .{0,40} delayed",
    r"mail failure", r"bounce notification", r"error sending your mail",
)))

# --- bodies -------------------------------------------------------------------------------------

# Phrases in a bounce's own text (not a quoted one) that say a delivery failed.
BOUNCE_BODY_RE = linear("|".join((
    r"^[ \t]*final-recipient:", r"^[ \t]*action:[ \t]*(?:failed|delayed)",
    r"^[ \t]*status:[ \t]*[45]\.",
    # English: Postfix, qmail, Exim, Sendmail, Exchange/Office 365, Gmail, Yahoo, GroupWise,
    # Domino, gateways
    r"could ?n[o']t be delivered", r"undeliverable", r"delivery to the following recipient",
    r"permanent (?:fatal )?error", r"this is the mail system at host",
    r"this is the qmail-send program", r"delivery has failed", r"did not reach",
    r"failed to deliver", r"delivery (?:to .{1,80} )?failed", r"mail delivery software",
    r"user unknown", r"unknown user", r"no such (?:user|recipient|mailbox)",
    r"mailbox (?:unavailable|full|not found)", r"recipient address rejected",
    r"unable to deliver", r"not delivered", r"couldn'?t deliver", r"was not able to deliver",
    r"wasn'?t able to deliver", r"message could not be sent", r"rejected your message",
    r"address(?:es)? failed", r"returned to (?:the )?sender", r"delivery attempts",
    r"wasn'?t delivered to", r"address (?:not found|couldn'?t be found)",
    r"not listed in (?:the )?(?:domino|public) directory", r"was undeliverable",
    r"message (?:was|has been) (?:blocked|rejected|quarantined)",
    # German
    r"konnte nicht zugestellt werden", r"nicht zugestellt", r"unzustellbar",
    r"zustellung an folgende empfänger (?:oder gruppen )?ist fehlgeschlagen",
    r"adresse nicht gefunden",
    # French
    r"n'a pas pu être (?:remis|distribué|livré)", r"n'a pas été (?:remis|distribué|livré)",
    r"la remise à ces destinataires (?:ou groupes )?a échoué", r"échec de (?:la )?remise",
    r"adresse introuvable",
    # Spanish
    r"no se (?:ha )?(?:pudo|puede|podido) entregar", r"no se ha entregado",
    r"error en la entrega", r"no se ha encontrado la dirección",
    # Italian
    r"non (?:è stato|può essere|è stato possibile) (?:recapitat|consegnat)",
    r"recapito non riuscito", r"indirizzo non trovato",
    # Dutch
    r"kan niet worden bezorgd", r"bezorging is mislukt", r"is niet (?:afgeleverd|bezorgd)",
    r"adres niet gevonden",
    # Portuguese
    r"não (?:pôde|pode|foi) (?:ser )?entregue", r"falha na entrega",
    r"endereço não encontrado",
)), multiline=True)
# Where an NDR pastes the message it returns (a customer's text never has these lines).
# Its From line within the next lines names the sender of the returned message.
RETURNED_COPY_RE = linear("|".join((
    r"^-* ?below this line is a copy of the message", r"^-* ?original message follows",
    r"^possibly truncated original message follows", r"^-* ?this is a copy of the message",
    r"^-* ?the header of the original message is following", r"^-* ?returned message",
    r"^original message:",
)), multiline=True)
COPY_LOOKAHEAD = 3000     # characters after the copy line where its From line must be
COPY_FROM_RE = linear(r"^from:[ \t]*(?:[^<>\n]*<)?([^<>\s]{1,64}@[^<>\s]{1,255})",
                      multiline=True)

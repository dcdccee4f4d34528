"""Realistic generated customer mail for the pipeline benchmark.

A third of the messages are replies (In-Reply-To, References, quoted text, "Re:"/"AW:"
subjects) to earlier ones of the same customer; some carry attachments or an HTML part; the
bodies are in several languages and charsets, as real support mailboxes receive them.
"""
from __future__ import annotations

import random
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone

SAMPLES = [  # (charset, subject, body)
    ("utf-8", "Order not delivered", "Hello,\nmy order #{n} has not arrived yet. Can you check?\n"),
    ("iso-8859-1", "Problème de facturation", "Bonjour,\nla facture {n} est erronée. Merci.\n"),
    ("windows-1252", "Rückerstattung", "Guten Tag,\nich möchte eine Rückerstattung für {n}.\n"),
    ("utf-8", "Nefunguje přihlášení", "Dobrý den,\nnemohu se přihlásit k účtu {n}.\n"),
    ("iso-2022-jp", "注文について", "こんにちは。\n注文番号{n}の配送状況を教えてください。\n"),
    ("gb2312", "退款问题", "您好，\n我的订单{n}需要退款。谢谢。\n"),
    ("koi8-r", "Вопрос по заказу", "Здравствуйте,\nгде мой заказ {n}?\n"),
]
# Central European mail in ISO-8859-2 (Polish, Czech, Hungarian), for corpora that ask for it.
LATIN2_SAMPLES = [
    ("iso-8859-2", "Reklamacja zamówienia", "Dzień dobry,\nzamówienie {n} dotarło uszkodzone.\n"),
    ("iso-8859-2", "Chybná faktura", "Dobrý den,\nfaktura {n} je chybná, prosím o opravu.\n"),
    ("iso-8859-2", "Szállítási kérdés", "Jó napot,\nhol tart a {n}. számú rendelésem?\n"),
]
REPLY_PREFIXES = ("Re: ", "RE: ", "AW: ", "Re: Re: ")
ATTACHMENT = bytes(range(256)) * 80  # 20 KiB of binary "document"


def generate(count: int, seed: int = 7, customers: int = 3000,
             samples: list[tuple[str, str, str]] = SAMPLES) -> list[bytes]:
    """``count`` mails in date order; fewer ``customers`` make more of them replies."""
    rng = random.Random(seed)
    sent: dict[str, list[EmailMessage]] = {}
    out = []
    for n in range(count):
        sender = f"customer{rng.randrange(customers)}@example.net"
        earlier = sent.get(sender)
        msg = (reply(earlier[-1], n, rng) if earlier and rng.random() < 0.5
               else fresh(sender, n, rng, samples))
        sent.setdefault(sender, []).append(msg)
        out.append(msg.as_bytes(policy=SMTP))  # CRLF line ends, as MTAs send
    return out


def fresh(sender: str, n: int, rng: random.Random,
          samples: list[tuple[str, str, str]] = SAMPLES) -> EmailMessage:
    charset, subject, body = rng.choice(samples)
    msg = base(sender, subject, n)
    msg.set_content(body.format(n=n), charset=charset)
    if rng.random() < 0.2:
        msg.add_alternative(f"<p>{body.format(n=n)}</p>", subtype="html", charset="utf-8")
    if rng.random() < 0.1:
        msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf",
                           filename=f"invoice-{n}.pdf")
    return msg


def reply(parent: EmailMessage, n: int, rng: random.Random) -> EmailMessage:
    subject = str(parent["Subject"]).split(": ")[-1]
    msg = base(str(parent["From"]), rng.choice(REPLY_PREFIXES) + subject, n)
    msg["In-Reply-To"] = parent["Message-ID"]
    msg["References"] = " ".join(filter(None, [parent.get("References"), parent["Message-ID"]]))
    quoted = "\n".join("> " + line for line in body_text(parent).splitlines())
    msg.set_content(f"Any news on this? ({n})\n\nOn {parent['Date']}, you wrote:\n{quoted}\n")
    return msg


def base(sender: str, subject: str, n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@demo.test", subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(idstring=str(n), domain="example.net")
    return msg


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    return part.get_content() if part else ""

"""Mail as customers' clients write it: a first message, and answers to the mail we sent."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

ALICE = "Alice Example <alice@customer.test>"


def first_mail(subject: str = "Printer on fire", sender: str = ALICE,
               body: str = "Hello,\nmy printer is on fire.\n\nAlice") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@demo.test", subject
    msg["Message-ID"] = make_msgid(domain="customer.test")
    msg.set_content(body)
    return msg


def client_reply(ours: EmailMessage, *, headers: bool = True, reply_address: bool = True,
                 subject: bool = True, quote: bool = True, sender: str = ALICE,
                 body: str = "Thanks, it works again.") -> EmailMessage:
    """An answer to ``ours``; each thread hint a client keeps can be left out on its own:
    In-Reply-To/References, the Reply-To address, the subject, the quoted original."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(ours["Reply-To"]) if reply_address else "support@demo.test"
    msg["Subject"] = f"Re: {ours['Subject']}" if subject else "Another question"
    msg["Message-ID"] = make_msgid(domain="customer.test")
    if headers:
        msg["In-Reply-To"] = ours["Message-ID"]
        msg["References"] = f"{ours.get('References', '')} {ours['Message-ID']}".strip()
    text = body
    if quote:
        original = ours.get_body(("plain",)).get_content()
        quoted = "\n".join("> " + line for line in original.splitlines())
        text += f"\n\nOn Tue, 24 Nov 2026 at 10:00, Demo Inc. wrote:\n{quoted}\n"
    msg.set_content(text)
    return msg


def recipients_of(msg: EmailMessage) -> list[str]:
    return [str(msg["To"])]

"""Realistic mails as ordinary clients write them, for the end-to-end tests."""
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone


def customer_mail(subject="Printer on fire", body="Hello,\nmy printer is on fire.\n\nAlice",
                  sender="Alice Example <alice@customer.test>", to="support@demo.test",
                  message_id=None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="customer.test")
    msg.set_content(body)
    return msg


def reply_to(original: EmailMessage, body: str, subject=None, with_headers=True,
             sender=None) -> EmailMessage:
    """A reply as Thunderbird writes it: quoted original below an attribution line."""
    quoted = "\n".join("> " + line for line in original.get_content().splitlines())
    text = f"{body}\n\nOn Mon, 23 Nov 2026 at 10:00, {original['To']} wrote:\n{quoted}\n"
    msg = customer_mail(subject=subject or f"Re: {original['Subject']}", body=text,
                        sender=sender or str(original["From"]))
    if with_headers:
        msg["In-Reply-To"] = original["Message-ID"]
        msg["References"] = original["Message-ID"]
    return msg

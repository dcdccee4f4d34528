"""Send one sample customer mail to the SMTP edge, with nothing but what ``make run`` installs:

    .venv/bin/python -m gateway.ops.sample_mail --subject "My printer is on fire"

It talks to ``SMTP_HOST:SMTP_PORT`` (the edge ``make run`` starts) and prints the edge's answer.
"""
from __future__ import annotations

import argparse
import smtplib
import sys
from email.message import EmailMessage
from email.utils import make_msgid

from config.settings import load_settings

DEFAULT_TEXT = "Hello,\n\nsince this morning my printer smells of smoke. Can you help?\n\nAlice\n"


def sample(sender: str, recipient: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, recipient, subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example.com")
    message.set_content(text)
    return message


def main(argv=None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="support@demo.test")
    parser.add_argument("--from", dest="sender", default="alice@example.com")
    parser.add_argument("--subject", default="My printer is on fire")
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--host", default=settings.smtp_host)
    parser.add_argument("--port", type=int, default=settings.smtp_port)
    args = parser.parse_args(argv)
    message = sample(args.sender, args.to, args.subject, args.text)
    try:
        with smtplib.SMTP(args.host, args.port, timeout=30) as client:
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        print(f"not sent to {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"sent {message['Message-ID']} to {args.to} via {args.host}:{args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

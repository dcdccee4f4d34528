"""Converters of mail providers' inbound-parse payloads (Mailgun, SendGrid, Postmark) to MIME.

Each provider module reads its payload (a form or JSON, as the provider posts it) and rebuilds
the RFC 5322 message, so the email adapter (``channels.email.parse``) applies every email rule
to it exactly as to mail received by SMTP. All pure: bytes in, bytes out, no I/O.
"""

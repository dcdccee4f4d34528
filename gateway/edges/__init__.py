"""The inbound edges: SMTP, IMAP, the HTTP intake shared by the contact form, the chat, Telegram and the inbound-parse webhooks."""

"""The Telegram bot edge: webhook blueprint, polling process and set-up commands."""

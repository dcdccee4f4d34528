"""Clients of outside services used by both the edges and the workers (the Telegram Bot API)."""

"""One logging setup for every process: a line format naming the process, quiet HTTP clients,
and a filter that masks secrets before any handler writes a line.

Every process's ``main`` calls ``configure_logging("<process>")`` once. Why a filter and not
care at each call site: libraries log what they see. httpx logs every request URL at INFO, and
a Telegram Bot API URL carries the bot token (``/bot<id>:<secret>/getFile``); an exception text
may quote a relay URL with its password. The filter sits on the handlers, so it sees the
records of every logger, ours and the libraries', and rewrites the message, its arguments and
the traceback text before they are formatted.

Masked: Telegram bot tokens (in URLs and bare), ``Bearer``/``Basic`` credentials and
Authorization headers, passwords in URLs (``smtp://user:pass@host``), ``key=value`` pairs whose
key names a secret (api_key, secret_token, password, token, ...), and the exact values of
environment variables whose names say they hold one (``*TOKEN*``, ``*SECRET*``, ``*KEY*``,
``*PASS*``). Every pattern is linear-time: a log line may quote customer text.
"""
from __future__ import annotations

import logging
import os
import re

MASK = "***"
LINE_FORMAT = "%(asctime)s {process} %(levelname)s %(message)s"
# Libraries that log a line per HTTP request, URL included: warnings and errors only.
QUIET_LOGGERS = ("httpx", "httpcore", "urllib3", "telegram.ext")
# Environment variables whose values are masked wherever they appear (name contains one of these).
SECRET_ENV_NAMES = re.compile(r"TOKEN|SECRET|KEY|PASS", re.IGNORECASE)
MIN_SECRET_VALUE_CHARS = 8  # shorter values (ports, flags) would mask ordinary words

# Each pattern keeps group 1 (the context) and masks the rest of the match.
# The look-behinds anchor a match at the start of a run, so a long run costs one attempt.
PATTERNS = (
    # Telegram bot token, bare or in /bot<token>/ URLs (httpx quotes the colon as %3A)
    re.compile(r"(?<![0-9])([0-9]{3,}(?::|%3[Aa]))[A-Za-z0-9_-]{20,}"),
    # an Authorization header's value, whatever its scheme; Bearer/Basic credentials anywhere
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\r\n\"',;}]+"),
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    # userinfo of a URL: scheme://user:password@host
    re.compile(r"(?i)((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)"),
    # key=value, "key": "value", X-...-Secret-Token: value (x_api_key, secret_token, ...)
    re.compile(r"(?i)((?<![a-z0-9])(?:api[_-]?key|secret|token|password|passwd|pwd)"
               r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"),
)


def configure_logging(process_name: str, level: int = logging.INFO,
                      environ: dict | None = None) -> None:
    """Log INFO and above to stderr as ``<time> <process> <LEVEL> <message>``, secrets masked."""
    root = logging.getLogger()
    if not root.handlers:  # a test runner may have set handlers and levels up already
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LINE_FORMAT.format(process=process_name)))
        root.addHandler(handler)
        root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_redaction(RedactingFilter(secret_values(os.environ if environ is None else environ)))


def secret_values(environ) -> tuple[str, ...]:
    """Values of the environment variables whose names say they are secrets."""
    values = []
    for name, value in environ.items():
        if not SECRET_ENV_NAMES.search(name):
            continue
        for part in value.split(","):  # TICKETGATE_SIGNING_KEY lists several keys
            part = part.strip()
            if len(part) >= MIN_SECRET_VALUE_CHARS and not part.startswith("/"):  # paths: no
                values.append(part)
    return tuple(sorted(set(values), key=len, reverse=True))  # longest first: no partial masks


def install_redaction(redaction: logging.Filter) -> None:
    """Put ``redaction`` on every handler there is: the root's and any logger's own (gunicorn's
    access log does not propagate to the root), replacing an earlier one."""
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict
                                       .values() if isinstance(logger, logging.Logger)]
    for logger in loggers:
        for handler in logger.handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(redaction)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and traceback text with the secrets masked (never drops it)."""

    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        self.values = re.compile("|".join(map(re.escape, secrets))) if secrets else None

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it, with the masked text
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        if self.values is not None:
            text = self.values.sub(MASK, text)
        return redact(text)


def redact(text: str) -> str:
    """``text`` with every secret the patterns recognise replaced by ``***``."""
    for pattern in PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text

"""Every regular expression of the mail adapters runs in linear time on adversarial text.

The patterns are collected from the modules themselves (a new pattern is tested without being
listed) and run with ``search``, ``match`` and ``findall`` on 20,000-character inputs made of
the repetitions that make backtracking engines quadratic: blanks, letters, repeated prefixes of
the patterns' own syntax. A quadratic pattern needs seconds there (20,000² steps); a linear one
needs milliseconds. Classification patterns (classify_patterns, bounce_text, ...) are tested by
their own suite.
"""
from __future__ import annotations

import re
import time

import pytest

from channels import email
from channels.inbound import mime_builder
from channels.mail import (charsets, header_limits, history_markers, html, html_tokens, mime,
                           mime_tree, quote_patterns, safe_headers, signature_lines, subject)

MODULES = (email, mime, charsets, header_limits, mime_tree, html, html_tokens, quote_patterns,
           signature_lines, subject, safe_headers, history_markers, mime_builder)
SIZE = 20_000
CPU_SECONDS = 0.25  # per operation; quadratic patterns take seconds at this size
UNITS = (" ", "a", "a ", "-", "*", "> ", "=", "<", "a@", "<a@", "<a@b.c", "a:", "On ", "1",
         "12:3", "=?u?q?", "[tg:", "<!-- tg:x", "re: ", "[#1", "<a b='", "&a", "(", "http:",
         "Sent from ", "\u5199", "a\r\n", "\r\n ", "--b", "\udce9", "a.")


# ... and one prefix followed by a long run: "re" + 20,000 blanks, "<!-- tg:x" + letters, ...
PREFIXES = ("re", "Re[2]", "<!-- tg:x", "[tg:x", "=?u?q?x", "<a@b", "a@b.c", "On 1 Jan",
            "Sent from my", "<a b=", "--b", "*From")
RUNS = (" ", "a")


def _patterns():
    seen = set()
    for module in MODULES:
        for name, value in vars(module).items():
            if hasattr(value, "pattern") and hasattr(value, "findall") and id(value) not in seen:
                seen.add(id(value))
                yield pytest.param(value, id=f"{module.__name__.split('.')[-1]}.{name}")


def _texts():
    for unit in UNITS:
        yield (unit * (SIZE // len(unit) + 1))[:SIZE]
    for prefix in PREFIXES:
        for run in RUNS:
            yield prefix + run * (SIZE // len(run))


def _inputs(pattern):
    for text in _texts():
        if isinstance(pattern.pattern, bytes):
            yield text.encode("utf-8", "surrogateescape")
        elif "\udce9" not in text or isinstance(pattern, re.Pattern):  # RE2 reads UTF-8 only
            yield text


@pytest.mark.parametrize("pattern", list(_patterns()))
def test_pattern_is_linear_on_adversarial_text(pattern):
    for text in _inputs(pattern):
        for operation in (pattern.search, pattern.match, pattern.findall):
            started = time.process_time()
            operation(text)
            spent = time.process_time() - started
            assert spent < CPU_SECONDS, (operation.__name__, text[:20], f"{spent:.2f} s")


def test_the_patterns_were_found():
    assert len(list(_patterns())) > 40

"""channels.mail.classify stays linear-time on adversarial input (issue 10, item 2).

Python's backtracking ``re`` took 14.6 s for "said" + 40,000 spaces from a postmaster (the
``\\s*:?\\s*`` of a reply-code pattern) and 4.8 s for "failed" + 20,000 spaces: longer than a
job's timeout. Every pattern of the classification code is RE2 now; these tests hold each one,
and the whole classification, to a CPU-time bound far below those figures but generous for a
busy machine (CPU time of this process, so other processes on the machine do not count).
"""
from __future__ import annotations

import ast
import importlib
import time
from itertools import islice
from pathlib import Path

import pytest
import re2

from channels.mail.classify import classify
from tests.channels.mailfactory import OWN, mail, parse

CLASSIFICATION_MODULES = ("classify", "classify_patterns", "ndr_patterns", "bounce_checks",
                          "bounce_evidence", "bounce_text", "auto_reply_checks", "dsn",
                          "report_parts", "returned_message", "linear_regex")
PATTERNS_BOUND = 3.0   # CPU seconds for all patterns of the code (about 40) over one text
MESSAGE_BOUND = 1.0    # CPU seconds to classify one adversarial message (14.6 s before RE2)
N = 100_000


def cpu_seconds(work) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def module_patterns() -> list[tuple[str, re2._Regexp]]:
    """Every compiled pattern the classification modules hold, alone or in a tuple."""
    found = []
    for name in CLASSIFICATION_MODULES:
        module = importlib.import_module(f"channels.mail.{name}")
        for attribute, value in vars(module).items():
            values = value if isinstance(value, tuple) else (value,)
            found += [(f"{name}.{attribute}", v) for v in values if isinstance(v, re2._Regexp)]
    return found


# --- no backtracking engine in the classification code -----------------------------------------

@pytest.mark.parametrize("name", CLASSIFICATION_MODULES)
def test_classification_module_does_not_import_pythons_re(name):
    source = Path(importlib.import_module(f"channels.mail.{name}").__file__).read_text()
    imported = {alias.name for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(ast.parse(source))
                 if isinstance(node, ast.ImportFrom)}
    assert "re" not in imported


def test_the_classification_code_has_its_patterns_on_re2():
    assert len(module_patterns()) > 25


# --- every pattern on adversarial text ---------------------------------------------------------

ADVERSARIAL = {
    "spaces": " " * N,
    "said + spaces": "said" + " " * N,
    "failed + spaces": "failed" + " " * N,
    "status + spaces": "Status:" + " " * N,
    "code + spaces": "code" + " " * N + ":" + " " * N,
    "newlines": "\n" * N,
    "newline-space runs": "\n " * (N // 2),
    "repeated said": "said: " * (N // 6),
    "repeated at-signs": "a@" * (N // 2),
    "long local part before dotted domain": ("x" * 63 + "@" + "a." * 100 + "!") * (N // 265),
    "repeated address lines": "<gone@example.com>:\n" * (N // 20),
    "repeated to": "to: " * (N // 4),
    "repeated sentences before colons": "a b: " * (N // 5),
    "stray brackets": "<" * N + "(" * N + "[" * N,
    "dotted digits": "5.1.1." * (N // 6),
    "repeated out of office": "out of office " * (N // 14),
    "escaped json keys": '\\"status\\": ' * (N // 12),
    "dashes": "-" * N,
}


@pytest.mark.parametrize("text_name", sorted(ADVERSARIAL))
def test_every_pattern_is_linear_on_adversarial_text(text_name):
    text = ADVERSARIAL[text_name]

    def run_all():
        for _, pattern in module_patterns():
            pattern.search(text)
            list(islice(pattern.finditer(text), 50))  # recipient lines try up to 50 matches
    assert cpu_seconds(run_all) < PATTERNS_BOUND


# --- whole messages (the reproductions first) ------------------------------------------

BOUNCE_HEAD = ("From: MAILER-DAEMON@mx.example.net\nTo: support@demo.test\n"
               "Subject: Undelivered Mail Returned to Sender\n")
POSTMASTER_HEAD = "From: postmaster@example.net\nTo: support@demo.test\nSubject: hello\n"


def report(fields: str):
    return parse(BOUNCE_HEAD + 'MIME-Version: 1.0\nContent-Type: multipart/report; '
                 'report-type=delivery-status; boundary="B"\n\n--B\nContent-Type: text/plain\n\n'
                 'x\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n'
                 + fields + "\n--B--\n")


MESSAGES = {
    # the issue: 14.6 s with Python's re
    "said + 40,000 spaces from postmaster": lambda: mail(POSTMASTER_HEAD, "said" + " " * 40_000),
    # the issue: 4.8 s with Python's re
    "failed + 20,000 spaces from MAILER-DAEMON": lambda: mail(BOUNCE_HEAD, "failed" + " " * 20_000),
    "said + 100,000 spaces from MAILER-DAEMON": lambda: mail(BOUNCE_HEAD, "said" + " " * N),
    "failed + 100,000 spaces from postmaster": lambda: mail(POSTMASTER_HEAD, "failed" + " " * N),
    "repeated said": lambda: mail(BOUNCE_HEAD, "said: " * (2 * N // 6)),
    "our own address on every line": lambda: mail(BOUNCE_HEAD, "<support@demo.test>:\n" * 9000),
    "report of 6,000 tiny blocks": lambda: report("Action: x\n\n" * 6000),
    "report block of 28,000 fields": lambda: report("X-A: 1\n" * 28_000),
    "report blocks with diagnostics": lambda: report(
        "Final-Recipient: rfc822; support@demo.test\nAction: delayed\n"
        "Diagnostic-Code: smtp; said 550 x\n\n" * 2200),
    "html of 66,000 tags": lambda: parse(BOUNCE_HEAD + "Content-Type: text/html\n\n"
                                         + "<b>" * 66_000),
    "html of one stray bracket run": lambda: parse(BOUNCE_HEAD + "Content-Type: text/html\n\n"
                                                   + "<a" * N),
    "subject of 10,000 spaces": lambda: mail(
        "From: a@b.test\nTo: support@demo.test\nSubject: Out of office" + " " * 10_000 + "x\n",
        "hi"),
    "list owner with a huge forwarded text": lambda: mail(
        "From: talk-owner@lists.example.org\nTo: support@demo.test\n"
        "Subject: Fwd: Undeliverable: x\nList-Id: <talk.lists.example.org>\n",
        "delivery has failed " * 10_000),
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_adversarial_message_is_classified_in_linear_time(case):
    message = MESSAGES[case]()
    kinds = []
    assert cpu_seconds(lambda: kinds.append(classify(message, OWN).kind)) < MESSAGE_BOUND
    assert kinds[0] in ("normal", "bounce", "out_of_office", "list", "auto_reply")

"""channels.mail.classify: malformed or huge input never raises and stays fast."""
from __future__ import annotations

import time

import pytest

from channels.event import CLASSIFICATIONS
from channels.mail.classify import RULES, classify
from tests.channels.mailfactory import OWN, mail, parse


# --- robustness --------------------------------------------------------------------------------

NASTY = {
    "empty": b"",
    "no headers": b"just a body\n",
    "broken address": b"From: <<@@>>,,\"\nTo: ;;;\nSubject: =?utf-8?q?broken\n\nhi\n",
    "unknown charset": b"From: a@b.test\nContent-Type: text/plain; charset=x-nonsense\n\n\xff\xfe\n",
    "null in charset": b"From: MAILER-DAEMON@x.test\nSubject: failure notice\n"
                       b"Content-Type: text/plain; charset=\"utf\x00-8\"\n\nhello\n",
    "bad encoded words": b"From: =?x-bad?B?!!!?= <a@b.test>\nSubject: =?utf-8?B?****?=\n\nx\n",
    "8bit headers": b"From: \xe9\xe8 <a@b.test>\nSubject: \xff\xfe\nAuto-Submitted: \xff\n\nx\n",
    "report without parts": b"From: MAILER-DAEMON@x.test\nContent-Type: multipart/report; "
                            b"report-type=delivery-status; boundary=Z\n\nno parts here\n",
    "bad base64": b"From: a@b.test\nContent-Transfer-Encoding: base64\n\n!!!not*base64\n",
    "deep nesting": b"From: a@b.test\nContent-Type: multipart/mixed; boundary=b0\n\n"
                    + b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n"
                               % (i, i + 1) for i in range(60)),
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_malformed_message_never_raises(name):
    assert classify(parse(NASTY[name]), OWN).kind in CLASSIFICATIONS


def test_no_message_at_all_is_normal():
    assert classify(None).kind == "normal"


def test_huge_junk_bounce_is_classified_quickly():
    body = "a" * 200_000 + "\n" + "\n" * 100_000 + "<" * 50_000 + "\n"
    started = time.process_time()  # CPU: the work done, not the busy machine
    found = classify(mail("From: MAILER-DAEMON@x.test\nTo: support@demo.test\n"
                          "Subject: failure notice\n", body), OWN)
    assert (found.kind, time.process_time() - started < 2) == ("bounce", True)


def test_rule_names_are_unique():
    names = [name for name, _ in RULES]
    assert len(names) == len(set(names))

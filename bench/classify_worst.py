"""Classification of adversarial mail: RE2 (what it uses) next to Python's ``re`` (what it used).

The issue's reproductions and their kin, at growing sizes: "said" + N spaces from a postmaster
(Python's ``re`` on the old reply-code pattern ``...\\s*:?\\s*\\(?([45])\\d\\d``: quadratic),
"failed" + N spaces from MAILER-DAEMON (the old recipient-line pattern ``...failed...\\s*:?\\s*
['"<]?ADDRESS``: quadratic). For each size: CPU seconds of ``classify`` on the whole message
now, and of the old pattern alone on the same body (the peer; sizes past ``--re-limit`` are
skipped for it, since it grows with the square). Then the ordinary cost: ``classify`` per
message over the project's fixtures, as the ceiling the adversarial figures sit beside.

    .venv/bin/python -m bench.classify_worst [--sizes 10000,20000,40000,100000,200000
                                              --re-limit 40000]
"""
from __future__ import annotations

import argparse
import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

from bench.common import PROJECT_DIR, percentile
from channels.mail.classify import classify
from channels.mail.safe_headers import ADDRESS

OWN = ("demo.test",)  # the domain our outbound mail comes from in the fixtures

# The patterns as they were before RE2 (channels/mail/bounce_text.py), here only as the peer.
OLD_REPLY_CODE_RE = re.compile(r"(?:said|error|response|reply|code)\s*:?\s*\(?([45])\d\d(?!\d)|"
                               r"^[ \t]*(?:<<<\s*)?([45])\d\d[ -](?=\D)", re.I | re.M)
OLD_RECIPIENT_RE = re.compile(r"(?:deliver\w*\s+(?:(?:your|the)\s+(?:mail|message)\s+)?to|"
                              r"recipient(?:\(s\))?|unknown user|user unknown|address|failed|"
                              r"attempts)\s*:?\s*['\"<]?(" + ADDRESS + r")", re.I | re.M)
CASES = {  # name: (headers, body prefix, the old pattern that was quadratic on it)
    "said + spaces, postmaster": ("From: postmaster@example.net\nTo: support@demo.test\n"
                                  "Subject: hello\n", "said", OLD_REPLY_CODE_RE),
    "failed + spaces, MAILER-DAEMON": ("From: MAILER-DAEMON@example.net\nTo: support@demo.test\n"
                                       "Subject: failure notice\n", "failed", OLD_RECIPIENT_RE),
}


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def cpu(work) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def adversarial(sizes: list[int], re_limit: int) -> None:
    print("| input | spaces | classify (RE2), CPU s | old pattern (re), CPU s |")
    print("| --- | --- | --- | --- |")
    for name, (headers, word, old) in CASES.items():
        for size in sizes:
            body = word + " " * size
            message = parse(f"{headers}\n{body}\n".encode())
            now = cpu(lambda: classify(message, OWN))
            before = f"{cpu(lambda: old.search(body)):.3f}" if size <= re_limit else "skipped"
            print(f"| {name} | {size:,} | {now:.4f} | {before} |")


def ordinary() -> None:
    folder = PROJECT_DIR / "tests" / "channels" / "fixtures" / "automatic"
    messages = [parse(p.read_bytes()) for p in sorted(Path(folder).glob("*.eml"))]
    times = [cpu(lambda m=m: classify(m, OWN)) for m in messages * 20]
    print(f"\nordinary: {len(messages)} fixtures x 20, classify p50 {percentile(times, 50) * 1e3:.2f}"
          f" ms, p99 {percentile(times, 99) * 1e3:.2f} ms, max {max(times) * 1e3:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,40000,100000,200000")
    parser.add_argument("--re-limit", type=int, default=40_000)
    args = parser.parse_args()
    adversarial([int(s) for s in args.sizes.split(",")], args.re_limit)
    ordinary()


if __name__ == "__main__":
    main()

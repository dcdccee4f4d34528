"""The worst mails we can build up to the SMTP size limit, each parsed by ``channels.email``.

Every case runs in a fresh Python process (so one case's memory does not hide another's): it
reads the mail, resets the kernel's peak-RSS mark, parses it once through
``channels.email.parse`` (what the ingest worker does) and reports the wall time, the CPU
time and the peak resident memory above the process's size before the parse; each case runs
``--repeat`` times and the median run (by wall time) is shown, because the machine is shared.
The ordinary mail of ``bench.mailgen`` is measured the same way, as the peer. Target: every
case under ``TARGET_SECONDS``. A case that runs over ``--timeout`` is killed and reported.

    .venv/bin/python -m bench.worst_mail [--only CASE ...] [--repeat 3] [--timeout 120]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PROJECT_DIR, bench_env

SIZE_LIMIT = 32 * 1024 * 1024  # the SMTP edge's data_size_limit (aiosmtpd's default), bytes
TARGET_SECONDS = 2.0           # the ceiling per mail (issue 10)
HEAD = b"From: Mallory <mallory@example.net>\r\nTo: support@demo.test\r\nSubject: hi\r\n"
CRLF = b"\r\n"


def fill(unit: bytes, room: int = SIZE_LIMIT - 4096) -> bytes:
    """``unit`` repeated to fill ``room`` bytes."""
    return unit * (room // len(unit))


def mail(headers: bytes, body: bytes) -> bytes:
    return HEAD + headers + CRLF + body


def ordinary() -> bytes:
    from bench.mailgen import generate
    return generate(3)[2]


def ordinary_big_attachment() -> bytes:
    """The biggest legitimate mail: a short text and a 23 MiB PDF (base64 fills the limit)."""
    import base64
    import random
    pdf = random.Random(1).randbytes(23 * 1024 * 1024)
    return mail(b"Content-Type: multipart/mixed; boundary=b\r\n",
                b"--b\r\nContent-Type: text/plain\r\n\r\nThe invoice is attached.\r\n--b\r\n"
                b"Content-Type: application/pdf; name=invoice.pdf\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(pdf).replace(b"\n", b"\r\n") + b"--b--\r\n")


def many_parts() -> bytes:
    part = b"--b\r\n\r\nx\r\n"
    return mail(b"Content-Type: multipart/mixed; boundary=b\r\n", fill(part) + b"--b--\r\n")


def many_attachments() -> bytes:
    part = (b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            b"filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n")
    return mail(b"Content-Type: multipart/mixed; boundary=b\r\n", fill(part) + b"--b--\r\n")


def deep_multipart() -> bytes:
    level = b"Content-Type: multipart/mixed; boundary=%d\r\n\r\n--%d\r\n"
    body = b"".join(level % (n, n) for n in range(300_000)) + b"\r\nhello\r\n"
    return mail(b"MIME-Version: 1.0\r\n", body[:SIZE_LIMIT - 4096])


def deep_rfc822() -> bytes:
    return mail(b"", fill(b"Content-Type: message/rfc822\r\n\r\n") + b"\r\nhello\r\n")


def deep_then_lines() -> bytes:
    """20 nested multiparts (the walk limit) holding one text part of short lines."""
    opening = b"".join(b"Content-Type: multipart/mixed; boundary=%d\r\n\r\n--%d\r\n" % (n, n)
                       for n in range(20))
    return mail(b"", opening + b"\r\n" + fill(b"x\r\n", SIZE_LIMIT - 8192))


def short_lines() -> bytes:
    return mail(b"", fill(b"x\r\n"))


def empty_lines() -> bytes:
    return mail(b"", b"hello\r\n" + fill(b"\r\n"))


def long_line() -> bytes:
    return mail(b"", fill(b"x"))


def spaces() -> bytes:
    return mail(b"", b"said" + fill(b" ") + b"x")


def bounce_spaces(sender: bytes, word: bytes) -> bytes:
    """Prose after a word the bounce readers look for, from an address bounces come from."""
    head = b"From: %s\r\nTo: support@demo.test\r\nSubject: failure notice\r\n" % sender
    return head + CRLF + word + fill(b" ") + b"x"


def giant_header() -> bytes:
    return mail(b"X-Junk: " + fill(b"word ") + CRLF, b"hello\r\n")


def many_headers() -> bytes:
    return mail(fill(b"X-A: b\r\n"), b"hello\r\n")


def encoded_words() -> bytes:
    return mail(b"Subject: " + fill(b"=?utf-8?q?=C3=A9?= ") + CRLF, b"hello\r\n")


def address_list() -> bytes:
    return mail(b"Cc: " + fill(b"a@b.c, ") + CRLF, b"hello\r\n")


def attached_giant_header() -> bytes:
    inner = b"From: a@b.c\r\nSubject: " + fill(b"word ", SIZE_LIMIT - 8192) + b"\r\n\r\nhi\r\n"
    return mail(b"Content-Type: multipart/mixed; boundary=b\r\n",
                b"--b\r\n\r\nsee attached\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
                + inner + b"--b--\r\n")


def attached_many_headers() -> bytes:
    inner = b"From: a@b.c\r\n" + fill(b"X-A: b\r\n", SIZE_LIMIT - 8192) + b"\r\nhi\r\n"
    return mail(b"Content-Type: message/rfc822\r\n", inner)


def html(unit: bytes, prefix: bytes = b"") -> bytes:
    return mail(b"Content-Type: text/html\r\n", prefix + fill(unit))


def quoted_printable_soft_breaks() -> bytes:
    return mail(b"Content-Transfer-Encoding: quoted-printable\r\n", fill(b"=\r\n"))


def quoted_printable_escapes() -> bytes:
    return mail(b"Content-Transfer-Encoding: quoted-printable\r\n", fill(b"=C3=A9=\r\n"))


def base64_junk() -> bytes:
    return mail(b"Content-Transfer-Encoding: base64\r\n", fill(b"Q!\r\n"))


def base64_text_of_lines() -> bytes:
    import base64
    return mail(b"Content-Transfer-Encoding: base64\r\n",
                base64.encodebytes(fill(b"x\n", SIZE_LIMIT * 3 // 4 - 2**20)))


def quotes(unit: bytes) -> bytes:
    return mail(b"Content-Type: text/plain; charset=utf-8\r\n", b"Thanks!\r\n" + fill(unit))


CASES = {
    "ordinary reply (peer)": ordinary,
    "ordinary mail with a 23 MiB PDF (peer)": ordinary_big_attachment,
    "many parts (3 million tiny ones)": many_parts,
    "many attachments (base64 PDFs)": many_attachments,
    "deep multipart nesting": deep_multipart,
    "deep message/rfc822 nesting": deep_rfc822,
    "20 nested multiparts + short lines": deep_then_lines,
    "short lines (x)": short_lines,
    "empty lines": empty_lines,
    "one line without spaces": long_line,
    "'said' + spaces": spaces,
    "'said' + spaces from postmaster@ (classification)":
        lambda: bounce_spaces(b"postmaster@example.net", b"said"),
    "'failed' + spaces from MAILER-DAEMON@ (classification)":
        lambda: bounce_spaces(b"MAILER-DAEMON@example.net", b"Delivery failed"),
    "giant header field": giant_header,
    "many header fields": many_headers,
    "subject of encoded-words": encoded_words,
    "Cc of addresses": address_list,
    "attached message, giant header": attached_giant_header,
    "attached message, many headers": attached_many_headers,
    "html '<a' repeated": lambda: html(b"<a"),
    "html '<div>' nesting": lambda: html(b"<div>"),
    "html '<blockquote>' nesting": lambda: html(b"<blockquote>"),
    "html formatting reopen": lambda: html(b"<p><b title=1>x</p><p><b title=2>y</p>"),
    "html '&' in one text": lambda: html(b"a & b "),
    "html '&amp;' entities": lambda: html(b"&amp;"),
    "html unclosed comment": lambda: html(b"<!-- ", b"<p>hi</p>"),
    "html unclosed attribute": lambda: html(b"x", b"<p>hi</p><a href=\""),
    "html many tags": lambda: html(b"<b>x</b>"),
    "quoted-printable soft breaks": quoted_printable_soft_breaks,
    "quoted-printable escapes": quoted_printable_escapes,
    "base64 junk": base64_junk,
    "base64 of short lines": base64_text_of_lines,
    "quote markers '> '": lambda: quotes(b"> > > > > > > > > > > > > > > > > > > >\r\n"),
    "attribution-like lines":
        lambda: quotes(b"On Mon, 1 Jan 2024 10:00, <" + b"a@" * 150 + b":\r\n"),
    "header-block-like lines": lambda: quotes(b"From" + b" " * 900 + b"\r\n"),
    "signature-like lines": lambda: quotes(b"Sent from my " + b"-" * 380 + b"\r\n"),
    "banner-like lines": lambda: quotes(b"-" * 399 + b"\r\n"),
}


def measure(name: str, path: str) -> dict:
    """Run in the child: parse the mail at ``path`` once and report time and memory."""
    from channels import email
    from channels.common import Unparseable
    raw = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS mark (VmHWM)
    before = _status_mib("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        event = email.parse(raw, workspace="demo", account="support@demo.test",
                            received_at="2024-01-01T00:00:00+00:00").event
        outcome = f"event ({len(event.text)} chars of text)"
    except Unparseable as exc:
        outcome = f"Unparseable: {exc.reason}"
    return {"case": name, "bytes": len(raw), "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu, "peak_mib": _status_mib("VmHWM") - before,
            "outcome": outcome}


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_case(name: str, timeout: float, repeat: int) -> dict:
    raw = CASES[name]()
    assert len(raw) <= SIZE_LIMIT, (name, len(raw))
    with tempfile.NamedTemporaryFile(suffix=".eml") as file:
        file.write(raw)
        file.flush()
        runs = [_run_child(name, file.name, len(raw), timeout) for _ in range(repeat)]
    timed = sorted((r for r in runs if "wall_s" in r), key=lambda r: r["wall_s"])
    return timed[len(timed) // 2] if len(timed) == len(runs) else runs[0]


def _run_child(name: str, path: str, size: int, timeout: float) -> dict:
    command = [sys.executable, "-m", "bench.worst_mail", "--child", name, path]
    try:
        done = subprocess.run(command, env=bench_env(), cwd=PROJECT_DIR, timeout=timeout,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return {"case": name, "bytes": size, "outcome": f"killed after {timeout:.0f} s"}
    if done.returncode:
        return {"case": name, "bytes": size, "outcome": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout)


def row(result: dict) -> str:
    if "wall_s" not in result:
        size = result["bytes"] / 2**20
        return f"| {result['case']} | {size:.1f} | - | - | - | {result['outcome']} |"
    mark = "" if result["wall_s"] < TARGET_SECONDS else " **over**"
    return (f"| {result['case']} | {result['bytes'] / 2**20:.1f} | {result['wall_s']:.3f}{mark} "
            f"| {result['cpu_s']:.3f} | {result['peak_mib']:.0f} | {result['outcome']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="case names (substrings) to run")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median shown)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    names = [n for n in CASES if not args.only or any(o in n for o in args.only)]
    print("| case | MiB | wall s | CPU s | peak MiB over start | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        print(row(run_case(name, args.timeout, args.repeat)), flush=True)


if __name__ == "__main__":
    main()

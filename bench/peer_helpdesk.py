"""The peer of the ingest benchmarks: django-helpdesk 2.6.1 ingesting the same generated mail.

Its own virtual environment (``var/bench/django-helpdesk-2.6.1``, made once from the package
registry), a fresh SQLite database per run, the mail as files of a local mailbox read in date
order (``bench/peer/ingest.py`` says how that follows ``get_email``):

    .venv/bin/python -m bench.peer_helpdesk --messages 3000

``peer_rate(raws)`` is what the ticketgate benchmarks call to measure the peer in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import PROJECT_DIR
from bench.pipeline import mails

PEER = "django-helpdesk==2.6.1"
PEER_VENV = PROJECT_DIR / "var" / "bench" / "django-helpdesk-2.6.1"
PEER_CODE = Path(__file__).resolve().parent / "peer"


def peer_python() -> Path:
    """The peer's interpreter, installing it first when needed (a minute, once)."""
    python = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PEER], check=True)
        (PEER_VENV / ".installed").touch()
    return python


def peer_rate(raws: list[bytes]) -> dict:
    """Ingest ``raws`` (in order) with the peer; returns its figures and ``rate`` (msg/s)."""
    python = peer_python()
    with tempfile.TemporaryDirectory() as tmp:
        mail_dir = Path(tmp) / "mailbox"
        mail_dir.mkdir()
        for number, raw in enumerate(raws):
            (mail_dir / f"{number:07d}.eml").write_bytes(raw)
        env = {**os.environ, "PEER_DIR": tmp, "PYTHONPATH": str(PEER_CODE),
               "DJANGO_SETTINGS_MODULE": "settings"}
        subprocess.run([str(python), "-m", "django", "migrate", "--verbosity", "0"], env=env,
                       check=True, cwd=tmp)
        done = subprocess.run([str(python), str(PEER_CODE / "ingest.py"), str(mail_dir)],
                              env=env, check=True, cwd=tmp, capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["rate"] = figures["messages"] / figures["seconds"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    figures = peer_rate(mails(args.messages))
    print(f"{PEER}: {figures['messages']} messages in {figures['seconds']:.1f} s = "
          f"{figures['rate']:.0f} msg/s; {figures['tickets']} tickets, "
          f"{figures['followups']} follow-ups, {figures['failed']} failed")


if __name__ == "__main__":
    main()

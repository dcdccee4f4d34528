"""The fuzzer's property: any input becomes a ``TicketEvent`` or ``Unparseable`` within the CPU
budget, and the event can be stored (JSON-serializable); a failing input is saved."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from channels import email
from channels.common import Unparseable
from tests.fuzz.budget import INPUT_CPU_SECONDS, SAVE_DIR

OPTIONS = {"workspace": "demo", "account": "support@demo.test",
           "received_at": "2026-01-01T00:00:00+00:00", "own_domains": ("demo.test",),
           "envelope_to": ("support+tok@demo.test",)}


def check_mail(raw: bytes, label: str) -> None:
    """Parse ``raw`` as the email worker does and assert the property."""
    started = time.process_time()
    try:
        try:
            parsed = email.parse(raw, **OPTIONS)
        except Unparseable as exc:
            assert exc.reason, "Unparseable without a reason"
        else:
            json.dumps(parsed.event.to_dict(), ensure_ascii=False).encode("utf-8")
        spent = time.process_time() - started
        assert spent < INPUT_CPU_SECONDS, f"{spent:.2f} s of CPU for {len(raw)} bytes"
    except BaseException:
        save(raw, label)
        raise


def save(raw: bytes, label: str) -> None:
    if not SAVE_DIR:
        return
    folder = Path(SAVE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{label}-{hashlib.sha256(raw).hexdigest()[:12]}.eml"
    (folder / name).write_bytes(raw)

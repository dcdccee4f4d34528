"""``python -m gateway.ops.sample_mail`` (the README's way to try the SMTP edge without swaks):
the mail reaches the real edge and is enqueued; an edge that is not there is a clear failure."""
from __future__ import annotations

import socket

from rq import Queue

from gateway.ops import sample_mail
from queues.intake import RAW_KEY
from tests.integration.harness import smtp_edge


def test_the_sample_mail_is_accepted_and_enqueued_by_the_edge(sqlite_runtime, capsys):
    with smtp_edge(sqlite_runtime) as edge:
        code = sample_mail.main(["--host", edge.hostname, "--port", str(edge.port),
                                 "--subject", "Printer on fire"])
        [job] = Queue("email", connection=sqlite_runtime.redis).get_jobs()
    assert code == 0 and "sent <" in capsys.readouterr().out
    [envelope] = job.args[0]
    raw = sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"])
    assert b"Subject: Printer on fire" in raw and envelope["workspace"] == "demo"


def test_no_edge_listening_is_reported_not_raised(capsys):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert sample_mail.main(["--host", "127.0.0.1", "--port", str(port)]) == 1
    assert "not sent" in capsys.readouterr().err

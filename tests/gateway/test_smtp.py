"""The SMTP edge through a real aiosmtpd server: what it accepts, refuses and enqueues."""
import shutil
import smtplib
import ssl
import subprocess
import time
from email.policy import SMTP

import pytest
from rq import Queue

from queues.intake import RAW_KEY
from gateway.edges.smtp.server import tls_context
from tests.integration.harness import smtp_edge
from tests.integration.mails import customer_mail


def queued_envelopes(redis):
    return [e for job in Queue("email", connection=redis).get_jobs() for e in job.args[0]]


def test_accepted_mail_is_enqueued_with_raw_bytes_before_250(sqlite_runtime):
    raw = customer_mail().as_bytes(policy=SMTP)  # CRLF line ends, as on the wire
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.sendmail("alice@customer.test", ["support@demo.test"], raw)
        [envelope] = queued_envelopes(sqlite_runtime.redis)
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]) == raw
    assert envelope["meta"]["rcpt_to"] == ["support@demo.test"]


def test_recipients_of_two_workspaces_give_one_envelope_each(sqlite_runtime):
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.sendmail("a@c.test", ["support@demo.test", "help@acme.test"],
                        customer_mail().as_bytes())
    assert sorted(e["workspace"] for e in queued_envelopes(sqlite_runtime.redis)) == [
        "acme", "demo"]


def test_mixed_recipients_accept_known_and_refuse_unknown(sqlite_runtime):
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        refused = client.sendmail("a@c.test", ["support@demo.test", "x@open-relay.test"],
                                  customer_mail().as_bytes())
    assert refused["x@open-relay.test"][0] == 550
    assert len(queued_envelopes(sqlite_runtime.redis)) == 1


def test_smtputf8_sender_and_eight_bit_body_are_kept_byte_for_byte(sqlite_runtime):
    raw = ("From: Jürgen <jürgen@bücher.test>\r\nTo: support@demo.test\r\nSubject: Grüße\r\n"
           "\r\nSchöne Grüße\r\n").encode("utf-8")
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
        client.sendmail("jürgen@bücher.test", ["support@demo.test"], raw,
                        mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        [envelope] = queued_envelopes(sqlite_runtime.redis)
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]) == raw


def test_redis_unreachable_gives_451_not_5xx(sqlite_runtime):
    from redis import Redis
    sqlite_runtime.redis = Redis.from_url("redis://127.0.0.1:1/0")
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@c.test", ["support@demo.test"], customer_mail().as_bytes())
    assert refused.value.smtp_code == 451


def test_bare_lf_message_with_long_body_is_accepted(sqlite_runtime):
    raw = b"From: a@c.test\nTo: support@demo.test\nSubject: lf\n\n" + b"word " * 2000 + b"\n"
    with smtp_edge(sqlite_runtime) as edge, smtplib.SMTP(edge.hostname, edge.port) as client:
        client.sendmail("a@c.test", ["support@demo.test"], raw)  # smtplib keeps bare LFs
        [envelope] = queued_envelopes(sqlite_runtime.redis)
    assert sqlite_runtime.redis.get(RAW_KEY + envelope["raw_ref"]).startswith(b"From: a@c.test\n")


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_starttls_is_offered_when_a_certificate_is_configured(sqlite_runtime, tls_files):
    context = tls_context(*tls_files)
    with smtp_edge(sqlite_runtime, tls=context) as edge, \
            smtplib.SMTP(edge.hostname, edge.port) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=ssl._create_unverified_context())
        client.sendmail("a@c.test", ["support@demo.test"], customer_mail().as_bytes())
    assert len(queued_envelopes(sqlite_runtime.redis)) == 1


def test_a_starttls_session_is_counted_once_and_released(sqlite_runtime, tls_files):
    """The TLS layer calls connection_made a second time: the gate must not count it twice."""
    with smtp_edge(sqlite_runtime, tls=tls_context(*tls_files)) as edge:
        with smtplib.SMTP(edge.hostname, edge.port) as client:
            client.starttls(context=ssl._create_unverified_context())
            client.noop()
            assert edge.handler.gate.open == 1
        deadline = time.monotonic() + 30
        while edge.handler.gate.open and time.monotonic() < deadline:
            time.sleep(0.02)
        assert edge.handler.gate.open == 0

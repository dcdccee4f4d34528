"""A simulated day against an out-of-office responder and a bouncing address: the number of
mails exchanged stays bounded and neither the responder nor the bounces create a ticket.

Each simulated hour both customers may write, agents answer every open ticket, acknowledgements
run, and then the peers react to whatever reached them until nothing moves: the responder
answers *every* mail (RFC 3834 style, Auto-Submitted and In-Reply-To), the dead mailbox's
MTA returns a DSN for every mail to it.
"""
from email.message import EmailMessage
from email.utils import make_msgid

from rq import Queue
from sqlalchemy import func, select

from store.models import Identity, Message, QuarantineEntry, Ticket
from tests.outbound.mails import first_mail
from tests.outbound.test_acknowledgement import T0, ingest, run_ack_jobs
from tests.outbound.workspaces import outbound_config
from workers.outbound import deliver

AWAY, GONE = "away@customer.test", "gone@customer.test"
HOURS = 24
WRITES_EVERY_H = 4          # each customer opens a new ticket every 4 hours


def out_of_office(ours: EmailMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Away <{AWAY}>", str(ours["From"])
    msg["Subject"] = f"Out of Office: {ours['Subject']}"
    msg["Message-ID"] = make_msgid(domain="customer.test")
    msg["In-Reply-To"] = ours["Message-ID"]
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("I am away until Monday and will read your message then.")
    return msg


def bounce(ours: EmailMessage) -> bytes:
    """A Postfix-style DSN (RFC 3464) returning ``ours`` with its headers."""
    headers = "".join(f"{k}: {v}\n" for k, v in ours.items())
    return f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@demo.test
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.customer.test")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain

This is the mail system at mx.customer.test.

<{GONE}>: host mx.customer.test said: 550 5.1.1 user unknown

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; {GONE}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--BOUNDARY
Content-Type: text/rfc822-headers

{headers}
--BOUNDARY--
""".encode()


def peers_react(rt, sink, seen: int) -> int:
    """The responder and the dead mailbox answer every mail delivered since ``seen``."""
    while seen < len(sink.mails):
        _, rcpts, _ = sink.mails[seen]
        ours = sink.parsed(seen)
        seen += 1
        if AWAY in rcpts:
            ingest(rt, out_of_office(ours))
        if GONE in rcpts:
            ingest(rt, bounce(ours))
    return seen


def deliver_queued(rt) -> None:
    queue = Queue("outbound", connection=rt.redis)
    for job in queue.get_jobs():
        if job.func_name == "workers.outbound.deliver.deliver":
            deliver.deliver_with(rt, *job.args)
            queue.remove(job)


def count(rt, model, *where):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_out_of_office_and_bounces_for_a_day_stay_bounded(rt, client, sink):
    from tests.outbound.conftest import reply
    rt.config = outbound_config(acknowledgement={"enabled": True})
    client = client.application.test_client()
    seen, written = 0, 0
    for hour in range(HOURS):
        now = T0 + hour * 3600
        if hour % WRITES_EVERY_H == 0:
            for who in (AWAY, GONE):
                ingest(rt, first_mail(subject=f"Order question {hour}", sender=who))
                written += 1
        for number in range(1, written + 1):   # agents answer every open ticket each hour
            with rt.sessions() as s:
                status = s.scalar(select(Ticket.status).where(Ticket.number == number))
            if status in ("new", "open"):
                assert reply(client, number, f"Answer at hour {hour}").status_code == 201
        run_ack_jobs(rt, now=now)
        deliver_queued(rt)
        for _ in range(5):                      # until the peers have nothing left to answer
            seen = peers_react(rt, sink, seen)
            run_ack_jobs(rt, now=now)
            deliver_queued(rt)
    to_away = [m for m in sink.mails if AWAY in m[1]]
    to_gone = [m for m in sink.mails if GONE in m[1]]
    assert count(rt, Ticket) == written == 2 * HOURS // WRITES_EVERY_H
    assert len(sink.mails) == len(to_away) + len(to_gone)      # nobody else ever got mail
    acks = count(rt, Message, Message.author == "system:acknowledgement",
                 Message.delivery_status == "sent")
    assert acks == 3 + 1   # per-recipient limit for the responder; the dead address once
    assert len(sink.mails) == written + acks                   # a reply per ticket, plus acks
    automatic = count(rt, Message, Message.direction == "in",
                      Message.classification["kind"].as_string().in_(["out_of_office",
                                                                      "auto_reply", "bounce"]))
    assert automatic + count(rt, QuarantineEntry) == len(sink.mails)  # each answered, stored
    with rt.sessions() as s:
        assert s.scalar(select(Identity.bouncing).where(Identity.value == GONE))
        statuses = set(s.scalars(select(Ticket.status)))
    assert statuses == {"answered"}    # the responder never reopened a ticket

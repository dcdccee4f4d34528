"""What ``bench/store_scale.py`` does to a store: mail to ingest and ticket-list requests.

Mail: each round sends new mail through the real ingest job (``ingest_with``: raw payload in
Redis, the email adapter, the pipeline, one transaction per batch). Of every ten mails: four
open tickets for customers the store knows, three reply to tickets stored long ago
(In-Reply-To a stored Message-ID), one replies to mail of this run, one is from a new
customer and one is a mail of an earlier round sent again (a duplicate).

Requests: ``GET /api/v1/tickets`` with the filters and searches an agent uses, drawn at random:
see ``REQUEST_KINDS``.
"""
from __future__ import annotations

import hashlib
import random
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from urllib.parse import urlencode

from sqlalchemy import func, select

from bench.store_corpus import Corpus
from bench.store_fill import AGENTS, SLUG, customer_email
from gateway.api.params import TICKET_CURSOR, encode_cursor
from queues.intake import RAW_KEY, make_envelope
from store.models import Customer, Message, Ticket

BATCH = 10  # envelopes per ingest job (what a busy worker's group commit collects)


class Sample:
    """What the workload needs to know about a store: its size and some stored mail."""

    def __init__(self, session, rng: random.Random):
        self.tickets = session.scalar(select(func.max(Ticket.id)))
        self.customers = session.scalar(select(func.count()).select_from(Customer))
        picks = [rng.randrange(1, session.scalar(select(func.max(Message.id))))
                 for _ in range(400)]
        rows = session.execute(select(Message.native_id, Message.from_address, Message.subject,
                                      Message.text).where(Message.id.in_(picks))).all()
        self.stored_mail = [r for r in rows if r.native_id.startswith("<") and r.from_address]
        self.texts = [r.text for r in rows]


class MailSource:
    """New mail for one store, round after round."""

    def __init__(self, sample: Sample, seed: int):
        self.sample, self.rng, self.corpus = sample, random.Random(seed), Corpus(seed)
        self.sent: list[EmailMessage] = []
        self.raws: list[bytes] = []
        self.number = 0

    def round(self, count: int) -> list[bytes]:
        return [self.next_mail() for _ in range(count)]

    def next_mail(self) -> bytes:
        rng, self.number = self.rng, self.number + 1
        kind = rng.randrange(10)
        if kind == 9 and self.raws:
            return rng.choice(self.raws)
        if kind in (6, 7, 8) and self.sample.stored_mail:
            stored = rng.choice(self.sample.stored_mail)
            msg = self.mail(stored.from_address, "Re: " + stored.subject, stored.native_id)
        elif kind == 5 and self.sent:
            parent = rng.choice(self.sent)
            msg = self.mail(str(parent["From"]), "Re: " + str(parent["Subject"]),
                            str(parent["Message-ID"]))
        elif kind == 4:
            msg = self.mail(f"newcomer{self.number}.{rng.random():.6f}@example.org", "Hello")
        else:
            customer = customer_email(rng.randrange(self.sample.customers))
            msg = self.mail(customer, self.corpus.subject(rng.randrange(10**6)))
        self.sent.append(msg)
        raw = msg.as_bytes(policy=SMTP)
        self.raws.append(raw)
        return raw

    def mail(self, sender: str, subject: str, parent_id: str = "") -> EmailMessage:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "support@bench.test", subject
        msg["Date"] = format_datetime(datetime.now(timezone.utc))
        msg["Message-ID"] = make_msgid(idstring=f"r{self.number}", domain="example.net")
        if parent_id:
            msg["In-Reply-To"] = msg["References"] = parent_id
        msg.set_content(self.corpus.text(self.rng.randrange(10**6)))
        return msg


def envelopes(redis, raws: list[bytes]) -> list[dict]:
    """The edge's half: raw payloads into Redis, one envelope each."""
    found = []
    with redis.pipeline(transaction=False) as pipe:
        for raw in raws:
            sha = hashlib.sha256(raw).hexdigest()
            pipe.set(RAW_KEY + sha, raw, ex=3600)
            found.append(make_envelope("email", SLUG, "support@bench.test", sha, len(raw),
                                       {"mail_from": "", "rcpt_to": ["support@bench.test"]}))
        pipe.execute()
    return found


# --- ticket-list requests ---

class Requests:
    """URLs of ``GET /api/v1/tickets`` of each kind, drawn for one store."""

    def __init__(self, sample: Sample, seed: int):
        self.sample, self.rng, self.corpus = sample, random.Random(seed), Corpus(seed)

    def agent(self) -> str:
        return f"a{self.rng.randrange(AGENTS):03d}"

    def word(self, low: int, high: int) -> str:
        return self.corpus.word_of_rank(self.rng.randint(low, high))

    def phrase(self) -> str:
        words = self.rng.choice(self.sample.texts).replace(".", " ").split()
        start = self.rng.randrange(1, len(words) - 2)
        return " ".join(words[start:start + 2])

    def url(self, kind: str) -> str:
        return "/api/v1/tickets?" + urlencode(REQUEST_KINDS[kind](self))


def _customer(r: Requests) -> dict:
    return {"customer": customer_email(r.rng.randrange(r.sample.customers))}


def _deep_page(r: Requests) -> dict:
    return {"cursor": encode_cursor(TICKET_CURSOR, r.rng.randrange(2, r.sample.tickets))}


REQUEST_KINDS = {  # kind -> query parameters (word ranks: 1 = the most frequent word)
    "newest": lambda r: {},
    "status open": lambda r: {"status": "open"},
    "assignee + status": lambda r: {"assignee": r.agent(), "status": "open,postponed"},
    "channel": lambda r: {"channel": "telegram"},
    "customer": _customer,
    "deep page": _deep_page,
    "q order number": lambda r: {"q": r.corpus.order_number(r.rng.randrange(r.sample.tickets))},
    "q rare word": lambda r: {"q": r.word(5_000, 60_000)},
    "q mid word": lambda r: {"q": r.word(200, 5_000)},
    "q common word": lambda r: {"q": r.word(1, 200)},
    "q two words": lambda r: {"q": r.phrase()},
    "q word start": lambda r: {"q": r.word(100, 3_000)[:4]},
    "q unknown": lambda r: {"q": "zzyzzx"},
    "q + status": lambda r: {"q": r.word(50, 2_000), "status": "open"},
    "q + assignee": lambda r: {"q": r.word(1, 500), "assignee": r.agent()},
    "q + channel": lambda r: {"q": r.word(50, 2_000), "channel": "chat"},
}

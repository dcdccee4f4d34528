"""Raw payloads of a batch (workers/ingest/raw_payload.py): read from Redis in one round trip,
in the blob store before they leave Redis, and deleted there in one round trip."""
from __future__ import annotations

from queues.intake import RAW_KEY
from tests.workers.test_isolation import mail, queued
from workers.ingest import raw_payload
from workers.ingest.job import ingest_with


class CountingRedis:
    """The runtime's Redis client, counting the commands the job sends for raw payloads."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if name in ("get", "mget", "delete"):
            def counted(*args, **kwargs):
                self.calls.append(name)
                return attribute(*args, **kwargs)
            return counted
        return attribute


def test_a_batch_moves_its_raw_payloads_in_two_round_trips(runtime, monkeypatch):
    envelopes = queued(runtime, [mail(n) for n in range(1, 6)])
    counting = CountingRedis(runtime.redis)
    monkeypatch.setattr(runtime, "redis", counting)
    assert ingest_with(runtime, envelopes) == ["created"] * 5
    assert counting.calls == ["mget", "delete"]
    for envelope in envelopes:
        assert runtime.blobs.exists(envelope["raw_ref"])
        assert not counting.real.exists(RAW_KEY + envelope["raw_ref"])


def test_a_payload_neither_in_redis_nor_in_blobs_is_quarantined_raw_missing(runtime):
    envelopes = queued(runtime, [mail(1), mail(2)])
    runtime.redis.delete(RAW_KEY + envelopes[1]["raw_ref"])
    assert ingest_with(runtime, envelopes) == ["created", "quarantined"]


def test_a_large_batch_is_made_durable_at_once_and_moves_in_two_round_trips(runtime,
                                                                             monkeypatch):
    """From SYNC_ONCE_FROM payloads on, the blob store syncs once for the batch
    (``BlobStore.put_many``): every payload is there, whole, before it leaves Redis."""
    raws = [mail(n) for n in range(1, raw_payload.SYNC_ONCE_FROM + 3)]
    envelopes = queued(runtime, raws)
    counting = CountingRedis(runtime.redis)
    monkeypatch.setattr(runtime, "redis", counting)
    assert ingest_with(runtime, envelopes) == ["created"] * len(raws)
    assert counting.calls == ["mget", "delete"]
    for envelope, raw in zip(envelopes, raws):
        assert runtime.blobs.get(envelope["raw_ref"]) == raw
        assert not counting.real.exists(RAW_KEY + envelope["raw_ref"])


def test_payloads_and_attachments_of_a_batch_go_to_the_blob_store_in_one_write(runtime,
                                                                               monkeypatch):
    """One blob write per batch: the raw payloads with the attachments the adapter found, all
    durable before the payloads leave Redis."""
    from email.message import EmailMessage

    from workers.ingest import prepare

    attached = EmailMessage()
    attached["From"], attached["To"], attached["Subject"] = "a@customer.test", "s@demo.test", "Doc"
    attached.set_content("See the file.")
    attached.add_attachment(b"%PDF-1.4 one", maintype="application", subtype="pdf",
                            filename="one.pdf")
    raws = [mail(1), attached.as_bytes(), mail(2)]
    envelopes = queued(runtime, raws)
    writes, order = [], []
    real_put_all, real_forget = raw_payload.put_all, raw_payload.forget

    def put_all(rt, blobs):
        blobs = list(blobs)
        writes.append(blobs)
        order.append("put")
        real_put_all(rt, blobs)

    def forget(rt, waiting):
        order.append("forget")
        real_forget(rt, waiting)

    monkeypatch.setattr(raw_payload, "put_all", put_all)
    monkeypatch.setattr(raw_payload, "forget", forget)
    items = prepare.prepare_batch(runtime, envelopes)
    assert [item.outcome for item in items] == ["", "", ""]
    assert all(item.event is not None for item in items)
    assert order == ["put", "forget"]
    assert len(writes) == 1 and set(raws) <= set(writes[0])
    assert b"%PDF-1.4 one" in writes[0]
    for envelope in envelopes:
        assert runtime.blobs.exists(envelope["raw_ref"])
        assert not runtime.redis.exists(RAW_KEY + envelope["raw_ref"])


def test_a_batch_whose_blob_write_fails_is_not_stored_and_its_payloads_stay_in_redis(
        runtime, monkeypatch):
    """The blob write comes before the store transaction: a failed write (the disk) stores
    nothing, and the retried job finds every payload in Redis."""
    import pytest
    from sqlalchemy import func, select

    from store.models import Message
    from workers.ingest.isolation import Transient

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    envelopes = queued(runtime, [mail(n) for n in range(1, raw_payload.SYNC_ONCE_FROM + 2)])
    monkeypatch.setattr(runtime.blobs, "put", disk_full)
    monkeypatch.setattr(runtime.blobs, "put_many", disk_full)
    with pytest.raises(Transient):
        ingest_with(runtime, envelopes)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    for envelope in envelopes:
        assert runtime.redis.exists(RAW_KEY + envelope["raw_ref"])
    monkeypatch.undo()  # the disk is back: the retried job stores every message once
    assert ingest_with(runtime, envelopes) == ["created"] * len(envelopes)

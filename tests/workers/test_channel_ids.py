"""One id per channel everywhere: the table of ``queues.channels`` is what the queues, the
Procfile, the workers' adapters, the edges, the routing rules and the API filter say."""
from __future__ import annotations

from channels import telegram
from gateway.api.params import CHANNEL_ALIASES, TICKET_CHANNELS
from gateway.edges.telegram.updates import QUEUE as TELEGRAM_EDGE_QUEUE
from queues.channels import CHANNEL_IDS, CHANNEL_QUEUES, TELEGRAM, channel_id, current_envelope
from routing.rules_schema import CHANNELS as ROUTED_CHANNELS
from tests.integration.harness import PROJECT_DIR
from workers.ingest.normalize import ADAPTERS


def test_every_channel_queue_is_named_by_its_channel_id():
    assert CHANNEL_IDS == ("email", "form", "chat", "telegram") == CHANNEL_QUEUES


def test_the_procfile_runs_one_worker_per_channel_queue_named_by_its_id():
    lines = (PROJECT_DIR / "Procfile").read_text().splitlines()
    for queue in CHANNEL_QUEUES:
        assert f"worker_{queue}: python -m workers.run {queue}" in lines
    assert not [line for line in lines if "messenger" in line]


def test_adapters_edges_routing_and_api_use_the_same_ids():
    assert set(ADAPTERS) == set(CHANNEL_IDS) == set(ROUTED_CHANNELS) == set(TICKET_CHANNELS)
    assert telegram.CHANNEL == TELEGRAM.id == TELEGRAM.queue == TELEGRAM_EDGE_QUEUE


def test_the_former_name_stands_for_telegram_and_nothing_else_is_renamed():
    assert CHANNEL_ALIASES == {"messenger": "telegram"}
    assert [channel_id(n) for n in ("messenger", "telegram", "email", "pigeon", None)] == [
        "telegram", "telegram", "email", "pigeon", None]
    old = {"channel": "messenger", "raw_ref": "ab"}
    assert current_envelope(old) == {"channel": "telegram", "raw_ref": "ab"}
    assert old["channel"] == "messenger"  # the job's own arguments are not changed
    email = {"channel": "email"}
    assert current_envelope(email) is email

"""The REST API's quarantine list, its pagination, and replaying entries onto channel queues."""
from __future__ import annotations

from rq import Queue

from store.models import QuarantineEntry
from tests.gateway.apifactory import add_entry, auth, get

ENTRY_KEYS = {"id", "channel", "native_id", "reason", "detail", "received_at", "size"}


# --- quarantine ---

def test_quarantine_list_shows_own_entries(client, runtime):
    with runtime.sessions.begin() as session:
        mine = add_entry(session, "demo").id
        add_entry(session, "acme")
    body = get(client, "/api/v1/quarantine").get_json()
    assert [e["id"] for e in body["entries"]] == [mine]
    assert ENTRY_KEYS <= set(body["entries"][0])
    assert body["entries"][0]["replayed_at"] is None
    assert body["next_cursor"] is None


def test_quarantine_pagination(client, runtime):
    with runtime.sessions.begin() as session:
        ids = [add_entry(session).id for _ in range(3)]
    first = get(client, "/api/v1/quarantine?limit=2").get_json()
    second = get(client, f"/api/v1/quarantine?limit=2&cursor={first['next_cursor']}").get_json()
    assert [e["id"] for e in first["entries"] + second["entries"]] == ids[::-1]
    assert second["next_cursor"] is None


def test_replay_enqueues_on_channel_queue_and_marks_entry(client, runtime):
    with runtime.sessions.begin() as session:
        entry_id = add_entry(session, channel="email").id
    response = client.post(f"/api/v1/quarantine/{entry_id}/replay", headers=auth())
    assert response.status_code == 202
    assert response.get_json()["replayed_at"] is not None
    assert Queue("email", connection=runtime.redis).count == 1
    with runtime.sessions() as session:
        assert session.get(QuarantineEntry, entry_id).replayed_at is not None


def test_replay_of_other_workspaces_entry_is_404(client, runtime):
    with runtime.sessions.begin() as session:
        entry_id = add_entry(session, "acme").id
    response = client.post(f"/api/v1/quarantine/{entry_id}/replay", headers=auth("demo"))
    assert response.status_code == 404
    assert Queue("email", connection=runtime.redis).count == 0


def test_replay_of_entry_without_channel_queue_is_409(client, runtime):
    with runtime.sessions.begin() as session:
        entry_id = add_entry(session, channel="?").id
    response = client.post(f"/api/v1/quarantine/{entry_id}/replay", headers=auth())
    assert response.status_code == 409

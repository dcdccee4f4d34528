"""The feed of agent changes (``tickets.agent_feed``) returns what changed since the cursor -
only that, and all of it, whatever order writers commit in."""
import pytest
from sqlalchemy import select, update

from store.db import make_engine, session_factory
from store.models import Agent, Workspace
from tickets.agent_feed import Cursor, read_changes, written_here

AGENT_COUNT = 50


@pytest.fixture
def store(database_url):
    """Sessions on a store with one workspace of ``AGENT_COUNT`` agents; its id."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        workspace = Workspace(slug="feed")
        session.add(workspace)
        session.flush()
        session.add_all(Agent(workspace_id=workspace.id, key=f"a{n:02d}", status="online")
                        for n in range(AGENT_COUNT))
        workspace_id = workspace.id
    yield sessions, workspace_id
    engine.dispose()


def read(sessions, workspace_id: int, cursor: Cursor, **options):
    with sessions.begin() as session:
        return read_changes(session.connection(), workspace_id, cursor, **options)


def set_capacity(session, key: str, capacity: dict) -> None:
    session.scalar(select(Agent).where(Agent.key == key)).capacity = capacity
    session.flush()


def test_the_first_read_returns_every_agent_then_only_what_changed(store):
    sessions, workspace_id = store
    first = read(sessions, workspace_id, Cursor(), count=True)
    assert (len(first.rows), first.count) == (AGENT_COUNT, AGENT_COUNT)
    assert read(sessions, workspace_id, first.cursor).rows == []
    with sessions.begin() as session:
        set_capacity(session, "a07", {"email": 3})
    changed = read(sessions, workspace_id, first.cursor)
    assert [(row.key, row.capacity) for row in changed.rows] == [("a07", {"email": 3})]
    assert read(sessions, workspace_id, changed.cursor).rows == []


def test_an_update_in_plain_sql_is_stamped_too(store):
    sessions, workspace_id = store
    cursor = read(sessions, workspace_id, Cursor()).cursor
    with sessions.begin() as session:
        session.execute(update(Agent).where(Agent.key == "a03").values(status="away"))
    assert [(r.key, r.status) for r in read(sessions, workspace_id, cursor).rows] == [
        ("a03", "away")]


def test_a_new_agent_is_in_the_feed(store):
    sessions, workspace_id = store
    cursor = read(sessions, workspace_id, Cursor()).cursor
    with sessions.begin() as session:
        session.add(Agent(workspace_id=workspace_id, key="newcomer", status="online"))
    assert [row.key for row in read(sessions, workspace_id, cursor).rows] == ["newcomer"]


def test_keys_asked_for_are_read_whether_changed_or_not(store):
    sessions, workspace_id = store
    cursor = read(sessions, workspace_id, Cursor()).cursor
    assert [row.key for row in read(sessions, workspace_id, cursor, keys={"a01"}).rows] == [
        "a01"]


def test_a_transaction_committing_after_a_younger_one_is_not_skipped(store):
    """PostgreSQL: the older writer commits last. A high-water mark of the stamps seen would
    skip it; the cursor keeps the transactions the read saw in progress."""
    sessions, workspace_id = store
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite writers take turns: an older writer cannot commit last")
    cursor = read(sessions, workspace_id, Cursor()).cursor
    older = sessions()
    older.begin()
    set_capacity(older, "a01", {"email": 9})  # stamped with the older transaction's id
    with sessions.begin() as younger:
        set_capacity(younger, "a02", {"email": 2})
    seen = read(sessions, workspace_id, cursor)
    assert [row.key for row in seen.rows] == ["a02"]
    older.commit()
    older.close()
    assert [(r.key, r.capacity) for r in read(sessions, workspace_id, seen.cursor).rows] == [
        ("a01", {"email": 9})]


def test_a_read_after_its_own_write_can_keep_its_cursor(store):
    """SQLite: a transaction that stamped rows and rolls back frees those numbers for the
    next writer; a reader that wrote keeps its cursor so it cannot skip them."""
    sessions, workspace_id = store
    cursor = read(sessions, workspace_id, Cursor()).cursor
    session = sessions()
    with session.begin():
        set_capacity(session, "a01", {"email": 9})
        assert written_here(session, workspace_id) == {"a01"}
        kept = read_changes(session.connection(), workspace_id, cursor, advance=False).cursor
        session.rollback()
    session.close()
    with sessions.begin() as other:
        set_capacity(other, "a02", {"email": 2})
    assert [row.key for row in read(sessions, workspace_id, kept).rows] == ["a02"]

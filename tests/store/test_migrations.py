"""Migrations build the schema the models describe, on SQLite and PostgreSQL."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from datetime import datetime, timezone

from sqlalchemy import func, insert, inspect, select

from store import search_engines
from store.db import make_engine, session_factory
from store.migrate import ALEMBIC_INI
from store.models import Base
from tests.conftest import make_runtime
from store import repo
from store.models import Agent, AgentState, Assignment, Message, Ticket
from tests.store.search_helpers import found


def test_migrated_schema_matches_models(database_url):
    """Everything but the search engine's own objects (FTS5 tables, the tsvector column and
    its indexes), which the models do not describe."""
    with make_engine(database_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": search_engines.not_engine_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_creates_every_table_on_empty_database(database_url):
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_search_migration_backfills_stored_messages(database_url, redis_url, tmp_path,
                                                    test_config):
    """Messages stored before 0012 are found after it; its downgrade leaves a working 0011."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    command.downgrade(config, "0011")
    try:
        engine = make_engine(database_url)
        with session_factory(engine).begin() as session:
            older_ticket(session, subject="Lost parcel", text="It never came")
        engine.dispose()
    finally:
        command.upgrade(config, "head")
    rt = make_runtime(database_url, redis_url, tmp_path, test_config)
    try:
        assert found(rt, "never came") == found(rt, "lost parcel") == [1]
    finally:
        rt.sessions.kw["bind"].dispose()


def older_ticket(session, text: str, **values) -> int:
    """A ticket (number 1) and its inbound message, inserted with the columns of the schema
    at an older revision: a Core insert sends only the columns given or with a default, so
    the columns later revisions added to the models stay out of it."""
    workspace_id = repo.workspace_row(session, "demo").id
    ticket_id = session.scalar(insert(Ticket.__table__).values(
        workspace_id=workspace_id, number=1, channel="email", **values)
        .returning(Ticket.__table__.c.id))
    session.execute(insert(Message.__table__).values(
        workspace_id=workspace_id, ticket_id=ticket_id, direction="in", channel="email",
        dedupe_key="in:1", text=text))
    return ticket_id


def test_agents_report_migration_backfills_who_answered_and_resolved(database_url):
    """Before 0016: the first reply's author becomes the first responder, the resolved
    ticket's assignee its resolver, and each agent gets its state from the migration on."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    command.downgrade(config, "0015")
    at = datetime(2024, 5, 6, 8, 0, tzinfo=timezone.utc)
    try:
        engine = make_engine(database_url)
        with session_factory(engine).begin() as session:
            ticket_id = older_ticket(session, text="Help", status="resolved", assignee="bob",
                                     first_response_at=at, resolved_at=at)
            for number, author in ((1, "alice"), (2, "bob")):  # alice answered first
                session.execute(insert(Message.__table__).values(
                    workspace_id=repo.workspace_row(session, "demo").id, ticket_id=ticket_id,
                    direction="out", channel="email", dedupe_key=f"out:{number}",
                    author=author, text="Hi", created_at=at.replace(minute=number)))
            session.execute(insert(Agent.__table__).values(
                workspace_id=repo.workspace_row(session, "demo").id, key="alice",
                status="online", capacity={"email": 2}))
        engine.dispose()
    finally:
        command.upgrade(config, "head")
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.first_response_by, ticket.resolved_by) == ("alice", "bob")
        assert session.scalar(select(func.count()).select_from(AgentState)) == 1
        assert session.scalar(select(AgentState.status)) == "online"
    engine.dispose()


def test_assignment_customer_migration_backfills_the_tickets_customer(database_url):
    """Before 0018: each assignment gets its ticket's customer (none for a ticket without);
    the downgrade drops the column and its index, the open-agent index goes back."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    command.downgrade(config, "0017")
    try:
        engine = make_engine(database_url)
        with session_factory(engine).begin() as session:
            ws = repo.workspace_row(session, "demo").id
            customer, _identity = repo.create_customer(session, ws, "C", "email", "c@x.test")
            customer_id = customer.id
            ticket_id = older_ticket(session, text="Hi", customer_id=customer_id)
            lonely = session.scalar(insert(Ticket.__table__).values(
                workspace_id=ws, number=2, channel="email").returning(Ticket.__table__.c.id))
            agent_id = session.scalar(insert(Agent.__table__).values(
                workspace_id=ws, key="alice", status="online", capacity={"email": 2})
                .returning(Agent.__table__.c.id))
            for ticket in (ticket_id, lonely):
                session.execute(insert(Assignment.__table__).values(
                    workspace_id=ws, ticket_id=ticket, agent_id=agent_id, channel="email"))
        assert "ix_assignments_agent_open" in {
            i["name"] for i in inspect(engine).get_indexes("assignments")}
        engine.dispose()
    finally:
        command.upgrade(config, "head")
    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        assert dict(session.execute(select(Assignment.ticket_id, Assignment.customer_id)).all()) \
            == {ticket_id: customer_id, lonely: None}
    engine.dispose()


def test_phrase_pairs_migration_fills_the_pairs_and_downgrades(database_url, redis_url, tmp_path,
                                                               test_config):
    """0019 computes the pairs of tickets stored before it (a phrase of two words is then
    found through them, never across two parts); its downgrade drops them and leaves 0017's
    documents and triggers working; upgrading again finds what was written meanwhile."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = database_url
    command.downgrade(config, "0018")
    engine = make_engine(database_url)
    postgres = engine.dialect.name == "postgresql"
    try:
        with session_factory(engine).begin() as session:
            older_ticket(session, subject="Lost parcel", text="It never came")
        if postgres:
            assert "pairs" not in document_columns(engine)
        command.upgrade(config, "head")
        if postgres:
            assert pairs_of(engine, 1) == ["~it never", "~lost parcel", "~never came"]
        rt = make_runtime(database_url, redis_url, tmp_path, test_config)
        try:
            assert found(rt, "never came") == found(rt, "lost parcel") == [1]
            assert found(rt, "parcel it") == found(rt, "came lost") == []
        finally:
            rt.sessions.kw["bind"].dispose()
        command.downgrade(config, "0018")
        with session_factory(engine).begin() as session:  # 0017's trigger appends its words
            session.execute(insert(Message.__table__).values(
                workspace_id=repo.workspace_row(session, "demo").id, ticket_id=1,
                direction="in", channel="email", dedupe_key="in:2", text="Still waiting"))
        if postgres:
            assert "pairs" not in document_columns(engine)
            with engine.connect() as conn:
                assert conn.exec_driver_sql(
                    "SELECT document @@ 'waiting' AND document @@ 'parcel' AND complete "
                    "FROM ticket_documents WHERE ticket_id = 1").scalar()
    finally:
        engine.dispose()
        command.upgrade(config, "head")
    rt = make_runtime(database_url, redis_url, tmp_path, test_config)
    try:
        assert found(rt, "still waiting") == found(rt, "never came") == [1]
        assert found(rt, "came still") == []
    finally:
        rt.sessions.kw["bind"].dispose()


def document_columns(engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("ticket_documents")}


def pairs_of(engine, ticket_id: int) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.exec_driver_sql(
            "SELECT unnest(tsvector_to_array(pairs)) FROM ticket_documents WHERE ticket_id = %s",
            (ticket_id,)).scalars())

"""``repo.insert_now``: a new row inserted by one Core INSERT, then held by the session as a
stored row, with the column defaults a flush of the unit of work would have applied."""
from __future__ import annotations

from sqlalchemy import event, select

from store import repo
from store.models import Customer, Identity, Ticket


def test_a_row_inserted_at_once_is_stored_with_defaults_and_updated_by_the_next_flush(runtime):
    engine = runtime.sessions.kw["bind"]
    with runtime.sessions.begin() as session:
        workspace = repo.workspace_row(session, "demo", "Demo")
        customer, identity = repo.create_customer(session, workspace.id, "Ann", "email",
                                                  "ann@c.test")
        ticket = Ticket(workspace_id=workspace.id, number=7, channel="email",
                        customer_id=customer.id)
        session.add(ticket)  # pending, as the pipeline's new ticket is
        repo.insert_now(session, ticket)
        assert customer.id and identity.id and ticket.id
        assert not session.new and ticket in session and not session.dirty
        statements = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert session.get(Ticket, ticket.id) is ticket  # from the session, no query
            assert session.get(Customer, customer.id) is customer
            assert (ticket.status, ticket.priority, ticket.tags, ticket.message_count) == \
                ("new", "medium", [], 0)
            assert statements == []  # no attribute was left to load
            ticket.message_count = 2
            session.flush()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert any(s.lstrip().upper().startswith("UPDATE TICKETS") for s in statements)
    with runtime.sessions() as session:
        stored = session.get(Ticket, ticket.id)
        assert (stored.number, stored.status, stored.priority, stored.message_count,
                stored.customer_id, stored.tags, stored.skills) == \
            (7, "new", "medium", 2, customer.id, [], {})
        assert stored.created_at is not None
        owner = session.scalar(select(Identity.customer_id).where(Identity.value == "ann@c.test"))
        assert owner == customer.id
        assert session.get(Customer, customer.id).name == "Ann"


def test_a_savepoint_rolled_back_forgets_what_was_inserted_in_it(runtime):
    """Inside a savepoint (the batch's slow path) a row goes in by a flush, which the
    savepoint's rollback undoes in the session too: no stale row is left to collide with the
    next one (SQLite hands the same id out again)."""
    with runtime.sessions.begin() as session:
        workspace = repo.workspace_row(session, "demo", "Demo")
        try:
            with session.begin_nested():
                ann, _ = repo.create_customer(session, workspace.id, "Ann", "email", "a@c.test")
                raise RuntimeError("the message failed after its customer was made")
        except RuntimeError:
            pass
        assert ann not in session
        bob, identity = repo.create_customer(session, workspace.id, "Bob", "email", "b@c.test")
        assert session.get(Customer, bob.id) is bob and identity.customer_id == bob.id
    with runtime.sessions() as session:
        assert session.scalars(select(Customer.name)).all() == ["Bob"]

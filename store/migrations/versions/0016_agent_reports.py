"""agents report: who sent each ticket's first reply and who held it at its last resolution,
the agents' status and capacity over time (agent_states), their online time and load per hour
(agent_hours), and the indexes the report reads through (tickets.agent_reports)

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-07 18:40:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# SQLite statistics rows as 0014 writes them (the shape of a big store: docs/search.md)
NEW_TICKET_INDEXES = ('ix_tickets_ws_first_response', 'ix_tickets_ws_resolved')
REPLY_ROWS = "direction = 'out' AND dedupe_key LIKE 'out:%'"  # store.models.REPLY_ROWS


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('first_response_by', sa.String(100), nullable=True))
        batch.add_column(sa.Column('resolved_by', sa.String(100), nullable=True))
    op.create_index('ix_tickets_ws_first_response', 'tickets',
                    ['workspace_id', 'first_response_at'])
    op.create_index('ix_tickets_ws_resolved', 'tickets', ['workspace_id', 'resolved_at'])
    if op.get_bind().dialect.name == 'sqlite':
        for index in NEW_TICKET_INDEXES:  # without statistics SQLite takes them for the list
            op.get_bind().execute(sa.text(
                "INSERT INTO sqlite_stat1 SELECT 'tickets', :i, '1000000 1000000 1' WHERE EXISTS "
                "(SELECT 1 FROM sqlite_stat1 WHERE tbl = 'tickets')"), {"i": index})
    op.create_index('ix_messages_replies', 'messages', ['workspace_id', 'created_at', 'author'],
                    sqlite_where=sa.text(REPLY_ROWS), postgresql_where=sa.text(REPLY_ROWS))
    op.create_table(
        'agent_states',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('workspaces.id'), nullable=False),
        sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('agents.id', ondelete='CASCADE'), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('capacity', sa.JSON(), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False))
    op.create_index('ix_agent_states_agent', 'agent_states', ['agent_id', 'at'])
    op.create_table(
        'agent_hours',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('workspaces.id'), nullable=False),
        sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  sa.ForeignKey('agents.id', ondelete='CASCADE'), nullable=False),
        sa.Column('hour', sa.BigInteger(), nullable=False),
        sa.Column('online_s', sa.Float(), nullable=False),
        sa.Column('load_s', sa.Float(), nullable=False),
        sa.UniqueConstraint('agent_id', 'hour'))
    op.create_index('ix_assignments_agent_accepted', 'assignments', ['agent_id', 'accepted_at'])
    _backfill()


def _backfill() -> None:
    """Tickets from before: the first reply's author, the resolved ticket's assignee. Agents:
    their state from now on (their history before is unknown: not online)."""
    op.execute("UPDATE tickets SET first_response_by = (SELECT m.author FROM messages m "
               f"WHERE m.ticket_id = tickets.id AND m.{REPLY_ROWS.replace(' AND ', ' AND m.')} "
               "ORDER BY m.created_at, m.id LIMIT 1) WHERE first_response_at IS NOT NULL")
    op.execute("UPDATE tickets SET resolved_by = assignee WHERE resolved_at IS NOT NULL "
               "AND status IN ('resolved', 'closed')")
    op.get_bind().execute(
        sa.text("INSERT INTO agent_states (workspace_id, agent_id, status, capacity, total, at) "
                "SELECT workspace_id, id, status, capacity, total, :now FROM agents"),
        {"now": datetime.now(timezone.utc)})


def downgrade() -> None:
    op.drop_index('ix_assignments_agent_accepted', 'assignments')
    op.drop_table('agent_hours')
    op.drop_index('ix_agent_states_agent', 'agent_states')
    op.drop_table('agent_states')
    op.drop_index('ix_messages_replies', 'messages')
    op.drop_index('ix_tickets_ws_resolved', 'tickets')
    op.drop_index('ix_tickets_ws_first_response', 'tickets')
    for column in ('resolved_by', 'first_response_by'):
        # SQLite drops a column in place (3.35+): a batch would copy the table and lose the
        # search triggers 0012 put on it.
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE tickets DROP COLUMN {column}')
        else:
            op.drop_column('tickets', column)

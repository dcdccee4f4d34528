"""routing reads of bounded cost, whatever the store's history (issue 12)

- ``assignments.customer_id``: a copy of the ticket's customer (a ticket's customer never
  changes, merges included), indexed with ``started_at``: the customer's previous agent
  (``tickets.route_rows.PREVIOUS_AGENT``) is the first entry of ``ix_assignments_customer``
  instead of a join of every earlier ticket of the customer with its assignments.
- ``ix_assignments_open_agent``: the agent's open assignments, a partial index on
  ``agent_id`` where ``ended_at IS NULL``, in place of ``ix_assignments_agent_open``
  (``agent_id, ended_at``), which PostgreSQL's planner could pass over for
  ``ix_assignments_agent_accepted``, reading every assignment the agent ever had.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OPEN = "ended_at IS NULL"


def upgrade() -> None:
    # A plain ADD COLUMN on both engines (no batch: nothing to copy on SQLite).
    op.add_column('assignments', sa.Column(
        'customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    op.execute("UPDATE assignments SET customer_id = tickets.customer_id FROM tickets "
               "WHERE tickets.id = assignments.ticket_id")
    op.create_index('ix_assignments_customer', 'assignments', ['customer_id', 'started_at'])
    op.create_index('ix_assignments_open_agent', 'assignments', ['agent_id'],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.drop_index('ix_assignments_agent_open', 'assignments')


def downgrade() -> None:
    op.create_index('ix_assignments_agent_open', 'assignments', ['agent_id', 'ended_at'])
    op.drop_index('ix_assignments_open_agent', 'assignments')
    op.drop_index('ix_assignments_customer', 'assignments')
    # SQLite drops a column in place (3.35+), once no index names it.
    op.drop_column('assignments', 'customer_id')

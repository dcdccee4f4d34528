"""offers: an assignment may be an offer awaiting the agent's accept (chat, Telegram);
agents get a version that changes at every update (routing's in-process agent cache);
assignments are indexed by ticket (the customer's previous agent), waiting tickets by
workspace (the refill's window)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assignments') as batch:
        batch.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('offer_expires_at', sa.DateTime(timezone=True),
                                   nullable=True))
    op.execute("UPDATE assignments SET accepted_at = started_at")  # all were direct
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('version', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.create_index('ix_assignments_ticket', 'assignments', ['ticket_id', 'started_at'])
    waiting = sa.text("routing_state = 'waiting'")
    op.create_index('ix_tickets_waiting', 'tickets', ['workspace_id', 'queued_at', 'id'],
                    sqlite_where=waiting, postgresql_where=waiting)


def downgrade() -> None:
    op.drop_index('ix_tickets_waiting', 'tickets')
    op.drop_index('ix_assignments_ticket', 'assignments')
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('version')
    with op.batch_alter_table('assignments') as batch:
        batch.drop_column('offer_expires_at')
        batch.drop_column('accepted_at')

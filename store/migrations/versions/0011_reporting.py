"""reporting: a reopen count, an SLA-breached flag and the seconds to first response and to
resolution (wall-clock and business) per ticket, kept as things happen, and an index on
(workspace, creation time) for the reports (tickets.reports)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SECONDS = ('first_response_s', 'first_response_bs', 'resolution_s', 'resolution_bs')


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('reopen_count', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('sla_breached', sa.Boolean(), nullable=True))
        for name in SECONDS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
    op.create_index('ix_tickets_ws_created', 'tickets', ['workspace_id', 'created_at'])
    # Tickets from before this revision: reopens from the audit trail, breaches from the JSON.
    op.execute("UPDATE tickets SET reopen_count = (SELECT COUNT(*) FROM ticket_events e "
               "WHERE e.ticket_id = tickets.id AND e.kind = 'status' "
               "AND e.old IN ('resolved', 'closed', 'spam', 'deleted') "
               "AND e.new NOT IN ('resolved', 'closed', 'spam', 'deleted'))")
    # (NULL: no SLA policy applied, the ticket's sla object is empty).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE tickets SET sla_breached = (sla LIKE '%\"breached\": true%') "
                   "WHERE sla NOT IN ('{}', '') AND sla IS NOT NULL")
    else:
        op.execute("UPDATE tickets SET sla_breached = ((sla::jsonb ->> 'breached') = 'true') "
                   "WHERE sla IS NOT NULL AND sla::jsonb <> '{}'::jsonb")
    # Wall-clock seconds from the stamped times; business seconds stay unknown (NULL) for them.
    for column, stamp in (('first_response_s', 'first_response_at'),
                          ('resolution_s', 'resolved_at')):
        op.execute(f"UPDATE tickets SET {column} = {_seconds(stamp)} WHERE {stamp} IS NOT NULL")


def _seconds(stamp: str) -> str:
    if op.get_bind().dialect.name == 'sqlite':
        return f"MAX(0, (julianday({stamp}) - julianday(created_at)) * 86400.0)"
    return f"GREATEST(0, EXTRACT(EPOCH FROM ({stamp} - created_at)))"


def downgrade() -> None:
    op.drop_index('ix_tickets_ws_created', 'tickets')
    with op.batch_alter_table('tickets') as batch:
        for name in SECONDS:
            batch.drop_column(name)
        batch.drop_column('sla_breached')
        batch.drop_column('reopen_count')

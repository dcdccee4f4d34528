"""routing: agents, assignments, the ticket's routing queue state and SLA clock

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TICKET_COLUMNS = (
    ('preferred', sa.JSON(), '{}'), ('department', sa.String(length=100), ''),
    ('routing_state', sa.String(length=10), ''), ('routing_step', sa.Integer(), '0'),
    ('excluded', sa.JSON(), '[]'), ('sla_policy', sa.String(length=63), ''),
    ('paused_s', sa.Float(), '0'),
)
TICKET_TIMES = ('queued_at', 'routing_step_at', 'routing_next_at', 'first_response_at', 'last_customer_at',
                'last_agent_at', 'resolved_at', 'paused_since', 'sla_check_at')


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('tags', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('tickets') as batch:
        for name, kind, default in TICKET_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        for name in TICKET_TIMES:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.create_index('ix_tickets_routing_next_at', ['routing_next_at'])
        batch.create_index('ix_tickets_sla_check_at', ['sla_check_at'])
    op.create_table(
        'agents',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('workspace_id', BIG_ID, nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('skills', sa.JSON(), nullable=False),
        sa.Column('departments', sa.JSON(), nullable=False),
        sa.Column('capacity', sa.JSON(), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('calendar', sa.String(length=63), nullable=False),
        sa.Column('load', sa.JSON(), nullable=False),
        sa.Column('used', sa.Float(), nullable=False),
        sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace_id', 'key'),
    )
    op.create_table(
        'assignments',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('workspace_id', BIG_ID, nullable=False),
        sa.Column('ticket_id', BIG_ID, nullable=False),
        sa.Column('agent_id', BIG_ID, nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('units', sa.Float(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ux_assignments_open_ticket', 'assignments', ['ticket_id'], unique=True,
                    sqlite_where=sa.text('ended_at IS NULL'),
                    postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('ix_assignments_agent_open', 'assignments', ['agent_id', 'ended_at'])


def downgrade() -> None:
    op.drop_index('ix_assignments_agent_open', 'assignments')
    op.drop_index('ux_assignments_open_ticket', 'assignments')
    op.drop_table('assignments')
    op.drop_table('agents')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_index('ix_tickets_sla_check_at')
        batch.drop_index('ix_tickets_routing_next_at')
        for name in TICKET_TIMES[::-1]:
            batch.drop_column(name)
        for name, _, _ in TICKET_COLUMNS[::-1]:
            batch.drop_column(name)
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('tags')

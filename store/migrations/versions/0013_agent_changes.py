"""agent change feed: every agent row carries the change sequence of its last write (the
writing transaction's id on PostgreSQL, a growing number on SQLite), indexed, so routing's
agent cache reads the rows changed since it last looked instead of scanning every agent

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0 for the rows already there: a cache that starts reads every row anyway.
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('change_seq', sa.BigInteger(), nullable=False,
                                   server_default='0'))
    op.create_index('ix_agents_changes', 'agents', ['workspace_id', 'change_seq'])
    op.create_index('ix_agents_change_seq', 'agents', ['change_seq'])


def downgrade() -> None:
    op.drop_index('ix_agents_change_seq', 'agents')
    op.drop_index('ix_agents_changes', 'agents')
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('change_seq')

"""reply-all: an outbound message records its blind-copy recipients (never a mail header)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('bcc', sa.JSON(), nullable=False,
                                   server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('bcc')

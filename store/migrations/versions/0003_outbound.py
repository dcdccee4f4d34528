"""outbound: delivery state of messages, authors and accounts, the local outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('account', sa.String(length=100), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('author', sa.String(length=100), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('delivery_status', sa.String(length=10), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('delivery_detail', sa.Text(), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                   server_default='0'))
    op.create_table(
        'outbox',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('workspace', sa.String(length=63), nullable=False),
        sa.Column('message_id', BIG_ID, nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('mail_from', sa.String(length=320), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('raw_ref', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_outbox_workspace', 'outbox', ['workspace'])
    op.create_index('ix_outbox_message_id', 'outbox', ['message_id'])


def downgrade() -> None:
    op.drop_index('ix_outbox_message_id', 'outbox')
    op.drop_index('ix_outbox_workspace', 'outbox')
    op.drop_table('outbox')
    with op.batch_alter_table('messages') as batch:
        for column in ('attempts', 'delivered_at', 'delivery_detail', 'delivery_status',
                       'author', 'account'):
            batch.drop_column(column)

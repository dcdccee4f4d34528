"""channels: message revisions (edits) and IMAP folder state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('revision', sa.String(length=40), nullable=False,
                                   server_default=''))
    op.create_table(
        'imap_folders',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('workspace', sa.String(length=63), nullable=False),
        sa.Column('mailbox', sa.String(length=63), nullable=False),
        sa.Column('folder', sa.String(length=500), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('last_uid', sa.BigInteger(), nullable=False),
        sa.Column('last_fetch_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('backlog', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('workspace', 'mailbox', 'folder'),
    )


def downgrade() -> None:
    op.drop_table('imap_folders')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('revision')

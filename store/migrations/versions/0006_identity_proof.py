"""identity needs proof: unverified contacts of a customer (the email a chat widget visitor
typed) in a table of their own, never an identity; messages say whether their sender was
verified for the ticket they were threaded to (docs/threading.md)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('workspace_id', BIG_ID, nullable=False),
        sa.Column('customer_id', BIG_ID, nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('customer_id', 'kind', 'value'))
    # Messages stored before this revision were never checked: they count as verified.
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('sender_verified', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('sender_verified')
    op.drop_table('contacts')

"""report rollup: the summary report's figures per group and span of time (``report_blocks``),
fed by a log of signed ticket snapshots (``report_log``) that triggers on ``tickets`` write in
the transaction of each ticket change: insert-only, so writers never wait on one another
(tickets.report_fold, tickets.report_rollup, docs/architecture.md).

Every counted ticket already there (not merged, spam or deleted) is logged once, folded by
the sweep a pass at a time or at once by ``python -m tickets.report_fold`` (a few minutes per
million tickets; reports are right meanwhile, only slower).

SQLite drops a table's triggers when a batch migration rebuilds it: a later revision that
rebuilds ``tickets`` must run ``create_triggers`` of this one again.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# The ticket columns a report reads, copied to the log as they are.
COPIED = ('workspace_id', 'created_at', 'status', 'channel', 'priority', 'assignee', 'tags',
          'reopen_count', 'sla_breached', 'first_response_s', 'first_response_bs',
          'resolution_s', 'resolution_bs')
WATCHED = (*COPIED, 'merged_into_id')  # a change of any of these is logged
COUNTED = "{row}.merged_into_id IS NULL AND {row}.status NOT IN ('spam', 'deleted')"
LOG_COLUMNS = ', '.join(('sign', 'ticket_id', *COPIED))
TRIGGERS = ('report_log_insert', 'report_log_update', 'report_log_delete')


def _values(row: str, sign: int) -> str:
    return ', '.join((str(sign), f'{row}.id', *(f'{row}.{c}' for c in COPIED)))


def upgrade() -> None:
    op.create_table(
        'report_log',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('workspace_id', sa.BigInteger(), nullable=False),
        sa.Column('ticket_id', sa.BigInteger(), nullable=False),
        sa.Column('sign', sa.SmallInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('channel', sa.String(20), nullable=False),
        sa.Column('priority', sa.String(10)),
        sa.Column('assignee', sa.String(100)),
        sa.Column('tags', sa.JSON()),
        sa.Column('reopen_count', sa.Integer()),
        sa.Column('sla_breached', sa.Boolean()),
        *(sa.Column(name, sa.Float()) for name in (
            'first_response_s', 'first_response_bs', 'resolution_s', 'resolution_bs')))
    op.create_index('ix_report_log_ws_created', 'report_log', ['workspace_id', 'created_at'])
    op.create_table(
        'report_blocks',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True),
        sa.Column('workspace_id', sa.BigInteger(), nullable=False),
        sa.Column('dim', sa.String(10), nullable=False),
        sa.Column('span', sa.BigInteger(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in (
            'created', 'resolved', 'reopened', 'backlog', 'met', 'breached')),
        *(sa.Column(name, sa.Float(), nullable=False) for name in (
            'first_sum', 'first_bsum', 'resolution_sum', 'resolution_bsum')),
        *(sa.Column(name, sa.LargeBinary(), nullable=False) for name in (
            'first_hist', 'first_bhist', 'resolution_hist', 'resolution_bhist')),
        sa.UniqueConstraint('workspace_id', 'dim', 'span', 'value'))
    if op.get_bind().dialect.name != 'sqlite':
        _histograms_inline()
    create_triggers()
    op.execute(f"INSERT INTO report_log ({LOG_COLUMNS}) SELECT {_values('tickets', 1)} "
               f"FROM tickets WHERE {COUNTED.format(row='tickets')}")


def _histograms_inline() -> None:
    """Keep a block's histograms in its row, uncompressed, up to a page: PostgreSQL would
    otherwise compress rows over 2 kB and move their bytes to the TOAST table, which a
    year's report then decompresses and fetches again (a third of its time on the server)."""
    op.execute("ALTER TABLE report_blocks SET (toast_tuple_target = 8160)")
    op.execute("ALTER TABLE report_blocks " + ", ".join(
        f"ALTER COLUMN {name} SET STORAGE MAIN" for name in (
            'first_hist', 'first_bhist', 'resolution_hist', 'resolution_bhist')))


def create_triggers() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_triggers()
    else:
        _postgres_triggers()


def _changed(compare: str, cast: str = '') -> str:
    return ' OR '.join(f'OLD.{c}{cast if c == "tags" else ""} {compare} '
                       f'NEW.{c}{cast if c == "tags" else ""}' for c in WATCHED)


def _sqlite_triggers() -> None:
    def logged(row: str, sign: int) -> str:
        return (f"INSERT INTO report_log ({LOG_COLUMNS}) SELECT {_values(row, sign)} "
                f"WHERE {COUNTED.format(row=row)};")
    op.execute(f"CREATE TRIGGER report_log_insert AFTER INSERT ON tickets BEGIN "
               f"{logged('NEW', 1)} END")
    op.execute(f"CREATE TRIGGER report_log_delete AFTER DELETE ON tickets BEGIN "
               f"{logged('OLD', -1)} END")
    op.execute(f"CREATE TRIGGER report_log_update AFTER UPDATE ON tickets "
               f"WHEN {_changed('IS NOT')} BEGIN {logged('OLD', -1)} {logged('NEW', 1)} END")


def _postgres_triggers() -> None:
    def logged(row: str, sign: int, operation: str) -> str:
        return (f"IF TG_OP <> '{operation}' THEN IF {COUNTED.format(row=row)} THEN "
                f"INSERT INTO report_log ({LOG_COLUMNS}) VALUES ({_values(row, sign)}); "
                f"END IF; END IF;")
    op.execute("CREATE FUNCTION report_log_ticket() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN {logged('OLD', -1, 'INSERT')} {logged('NEW', 1, 'DELETE')} "
               "RETURN NULL; END $$")
    op.execute("CREATE TRIGGER report_log_insert AFTER INSERT ON tickets FOR EACH ROW "
               "EXECUTE PROCEDURE report_log_ticket()")
    op.execute("CREATE TRIGGER report_log_delete AFTER DELETE ON tickets FOR EACH ROW "
               "EXECUTE PROCEDURE report_log_ticket()")
    op.execute("CREATE TRIGGER report_log_update AFTER UPDATE ON tickets FOR EACH ROW "
               f"WHEN ({_changed('IS DISTINCT FROM', '::text')}) "
               "EXECUTE PROCEDURE report_log_ticket()")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}"
                   + ("" if op.get_bind().dialect.name == 'sqlite' else " ON tickets"))
    if op.get_bind().dialect.name != 'sqlite':
        op.execute("DROP FUNCTION report_log_ticket()")
    op.drop_table('report_blocks')
    op.drop_table('report_log')

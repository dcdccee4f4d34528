"""list at scale: the ticket list of one status, newest first, straight from an index, and
SQLite statistics for every ticket index that starts with the workspace (docs/search.md).

- ``(workspace_id, status, id)`` replaces ``(workspace_id, status)``, which left every ticket
  of the status to be sorted: an eighth of a million-ticket store.
- SQLite plans from ``sqlite_stat1``, which 0012 filled with the shape of a big store for the
  ticket indexes it knew. 0011's ``(workspace_id, created_at)`` had no row, so the planner
  guessed that ``workspace_id = ?`` picks a few rows through it and chose it for the plain
  list, the channel filter and even a customer's tickets: every ticket of the workspace read
  and sorted, seconds at a million. Every such index now has its row (a test asks the planner
  about each filter of the list, so an index added later without one fails it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

STATUS_INDEX = 'ix_tickets_ws_status'
# SQLite: rows, then rows per distinct value of each leading column set (as in 0012): a
# workspace holds every ticket, a status an eighth of them, a creation time or an id one.
TICKET_STATS = {STATUS_INDEX: '1000000 1000000 125000 1',
                'ix_tickets_ws_created': '1000000 1000000 1'}
OLD_STATUS_STAT = '1000000 1000000 125000'


def upgrade() -> None:
    _status_index(['workspace_id', 'status', 'id'])
    if op.get_bind().dialect.name == 'sqlite':
        for index, stat in TICKET_STATS.items():
            _sqlite_stat(index, stat)


def downgrade() -> None:
    _status_index(['workspace_id', 'status'])
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_stat(STATUS_INDEX, OLD_STATUS_STAT)
        op.execute("DELETE FROM sqlite_stat1 WHERE idx = 'ix_tickets_ws_created'")


def _status_index(columns: list[str]) -> None:
    op.drop_index(STATUS_INDEX, 'tickets')
    op.create_index(STATUS_INDEX, 'tickets', columns)


def _sqlite_stat(index: str, stat: str) -> None:
    """The index's statistics row (DROP INDEX forgets it), when the tickets table has rows
    and none for this index: measured statistics (a store someone ANALYZEd) are kept."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'tickets' AND idx = :i"),
                    {"i": index}).first() is not None:
        return
    bind.execute(sa.text("INSERT INTO sqlite_stat1 SELECT 'tickets', :i, :s WHERE EXISTS "
                         "(SELECT 1 FROM sqlite_stat1 WHERE tbl = 'tickets')"),
                 {"i": index, "s": stat})

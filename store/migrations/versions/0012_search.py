"""search and scale: full-text search of tickets in the database's own engine (SQLite FTS5,
PostgreSQL tsvector + GIN), built from the stored rows; indexes for the lookups the ingest
pipeline makes by value alone (dedupe keys, thread keys, identities, contacts) and for the
ticket list (newest first by workspace and by assignee, follow-up and merge links), which
scanned or sorted whole tables on a big store; on SQLite, planner statistics describing the
shape of a big tickets table (docs/search.md).

SQLite: two external-content FTS5 tables (``message_search`` over ``messages.text``,
``ticket_search`` over ``tickets.subject``) kept current by triggers, filled by ``rebuild``.
PostgreSQL: a generated ``messages.search_vector`` column (computed by the server on every
insert and update) with a GIN index, and a GIN expression index over the ticket subject.
Both engines see the same words: ASCII punctuation separates words, case is folded, no
stemming (``simple``), so a search finds the same tickets on either store (docs/api.md).

On a store of a million tickets the backfill takes minutes (PostgreSQL rewrites ``messages``
to add the column and holds its lock meanwhile): run it while ingest is stopped.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

LOOKUP_INDEXES = (  # (name, table, column)
    ('ix_messages_dedupe_key', 'messages', 'dedupe_key'),
    ('ix_thread_keys_key', 'thread_keys', 'key'),
    ('ix_identities_value', 'identities', 'value'),
    ('ix_contacts_value', 'contacts', 'value'),
)
# The ticket list: newest first, of a workspace or of an assignee, without sorting them all.
LIST_INDEXES = (('ix_tickets_ws_id', 'tickets', ['workspace_id', 'id']),
                ('ix_tickets_ws_assignee', 'tickets', ['workspace_id', 'assignee', 'id']))
# Follow-ups of a page and merges: few tickets have these links (partial: no NULLs).
LINKS = ('follow_up_of_id', 'merged_into_id')
# SQLite: nothing runs ANALYZE, and without statistics the planner takes "workspace_id = ?"
# for a selective condition, so it listed tickets through (workspace_id, status) and sorted
# all of them. It is told the shape of a big store instead (sqlite_stat1: rows, then rows per
# distinct value of each leading column set): a workspace holds every ticket, a status an
# eighth of them, an assignee a few thousand, a customer three. A later ANALYZE replaces it.
TICKET_STATS = ((None, '1000000'), ('ix_tickets_ws_id', '1000000 1000000 1'),
                ('ix_tickets_ws_status', '1000000 1000000 125000'),
                ('ix_tickets_ws_assignee', '1000000 1000000 5000 1'),
                ('ix_tickets_customer_id', '1000000 3'),
                ('sqlite_autoindex_tickets_1', '1000000 1000000 1'))
# SQLite: a message's ticket without reading the message row (search collects thousands).
SQLITE_MESSAGE_TICKET = ('ix_messages_search_ticket', 'messages', ['id', 'ticket_id'])
# SQLite: one FTS5 table per searched column, its content read from the table itself.
FTS_SOURCES = (('message_search', 'messages', 'text'), ('ticket_search', 'tickets', 'subject'))
FTS_TOKENIZER = "unicode61 remove_diacritics 0"
# PostgreSQL: the same words as FTS5's unicode61; text past this many characters is not
# indexed (a tsvector holds at most 1 MB; a mail text may have a million characters).
PG_INDEXED_CHARS = 100_000
PG_WORD_STATS = 1000    # statistics target of the documents: the 10,000 most frequent words
PG_DOCUMENT = ("to_tsvector('simple'::regconfig, regexp_replace(left({column}, "
               f"{PG_INDEXED_CHARS}), '[[:punct:]]', ' ', 'g'))")


def upgrade() -> None:
    for name, table, column in LOOKUP_INDEXES:
        op.create_index(name, table, [column])
    for index in LIST_INDEXES:
        op.create_index(*index)
    for link in LINKS:
        present = sa.text(f'{link} IS NOT NULL')
        op.create_index(f'ix_tickets_{link}', 'tickets', [link], sqlite_where=present,
                        postgresql_where=present)
    if op.get_bind().dialect.name == 'postgresql':
        _postgres_search()
    else:
        op.create_index(*SQLITE_MESSAGE_TICKET)
        for fts, table, column in FTS_SOURCES:
            _sqlite_search(fts, table, column)
        _sqlite_ticket_stats()


def _sqlite_ticket_stats() -> None:
    op.execute("PRAGMA analysis_limit = 100")
    op.execute("ANALYZE tickets")  # makes sqlite_stat1 if there is none; quick with the limit
    op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'tickets'")
    for index, stat in TICKET_STATS:
        op.get_bind().execute(sa.text("INSERT INTO sqlite_stat1 VALUES ('tickets', :i, :s)"),
                              {"i": index, "s": stat})


def _sqlite_search(fts: str, table: str, column: str) -> None:
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
               f"content_rowid='id', tokenize='{FTS_TOKENIZER}')")
    add = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    drop = (f"INSERT INTO {fts}({fts}, rowid, {column}) "
            f"VALUES ('delete', old.id, old.{column});")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {drop} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table} "
               f"BEGIN {drop} {add} END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _postgres_search() -> None:
    op.execute("ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
               f"({PG_DOCUMENT.format(column='text')}) STORED")
    op.execute("CREATE INDEX ix_messages_search ON messages USING gin (search_vector)")
    op.execute("CREATE INDEX ix_tickets_search ON tickets USING gin "
               f"(({PG_DOCUMENT.format(column='subject')}))")
    # Search asks the planner how many messages hold a phrase's words; with the default
    # statistics only the thousand most frequent words are known and every other one is
    # guessed at a quarter percent of the table (thousands of rows on a big store).
    op.execute(f"ALTER TABLE messages ALTER COLUMN search_vector SET STATISTICS {PG_WORD_STATS}")
    op.execute(f"ALTER INDEX ix_tickets_search ALTER COLUMN 1 SET STATISTICS {PG_WORD_STATS}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_tickets_search")
        op.execute("ALTER TABLE messages DROP COLUMN search_vector")
    else:
        for fts, _table, _column in FTS_SOURCES:
            for event in ('insert', 'delete', 'update'):
                op.execute(f"DROP TRIGGER {fts}_{event}")
            op.execute(f"DROP TABLE {fts}")
        op.drop_index(SQLITE_MESSAGE_TICKET[0], SQLITE_MESSAGE_TICKET[1])
        op.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'tickets'")
    for link in LINKS:
        op.drop_index(f'ix_tickets_{link}', 'tickets')
    for name, table, _columns in reversed(LIST_INDEXES):
        op.drop_index(name, table)
    for name, table, _column in reversed(LOOKUP_INDEXES):
        op.drop_index(name, table)

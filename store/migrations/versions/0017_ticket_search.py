"""ticket search: one full-text entry per ticket, so that "the newest tickets that match, with
these filters" is one walk of the index in ticket order instead of a walk over the tickets
that checks their messages chunk by chunk (docs/search.md).

SQLite: one contentless FTS5 table ``ticket_text`` replaces 0012's ``message_search`` and
``ticket_search``. A ticket's subject and each of its messages are separate rows (a phrase
stays within one of them), numbered so that the rowid orders by ticket:
``ticket_id * 2**32`` for the subject, ``ticket_id * 2**32 + 1 + (message_id - 1) % (2**32 - 1)``
for a message. ``ORDER BY rowid DESC`` then streams the newest matching tickets first, and
``rowid >> 32`` is the ticket. Triggers on ``tickets`` (insert, delete, update of the subject)
and ``messages`` (insert, delete, update of the text or the ticket: merges) keep it, handing
FTS5 the old text for a delete (a contentless table must be told what it indexed).

PostgreSQL: a side table ``ticket_documents`` (ticket id, the words of its subject and messages
as a ``tsvector`` without positions, their size, whether it is complete) with a GIN index.
Phrases are checked exactly against ``messages.search_vector`` (kept, 0012) for the few
tickets holding all the words. Triggers keep it: a new ticket adds its row, a new message
adds its words (bounded: see ``DOCUMENT_BYTES``), any other change of a message's text or
ticket, or of a subject, recomputes the tickets concerned once per statement. 0012's GIN
indexes over each message and subject are dropped (nothing reads them any more).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 22:00:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

FTS_TOKENIZER = "unicode61 remove_diacritics 0"   # as 0012
TICKET_SPAN = 4294967296                            # 2**32 rowids per ticket
MESSAGE_SLOTS = 4294967295                          # a message takes one of 1 .. 2**32 - 1


def message_key(row: str) -> str:
    return f"{row}.ticket_id * {TICKET_SPAN} + ({row}.id - 1) % {MESSAGE_SLOTS} + 1"


def subject_key(row: str) -> str:
    return f"{row}.id * {TICKET_SPAN}"


# PostgreSQL. A tsvector holds at most 1 MB: a ticket's document takes its parts (subject,
# messages; each the stripped vector of at most 100,000 characters, as 0012 indexes them)
# while their sizes add up to less than this; after that the ticket is incomplete, its
# document stops growing, and a search checks it message by message (a partial index lists
# such tickets). The sum of the parts' sizes bounds the merged document, so no insert fails.
DOCUMENT_BYTES = 900_000
PG_WORD_STATS = 1000
PG_SUBJECT = ("strip(to_tsvector('simple'::regconfig, regexp_replace(left({row}.subject, "
              "100000), '[[:punct:]]', ' ', 'g')))")
# The documents of some tickets (or all), computed from their subjects and messages.
REBUILD = f"""
  INSERT INTO ticket_documents (ticket_id, document, bytes, complete)
  SELECT t.id, ticket_document_add({PG_SUBJECT.format(row='t')}, coalesce(m.document, '')),
         pg_column_size({PG_SUBJECT.format(row='t')}) + coalesce(m.bytes, 0),
         pg_column_size({PG_SUBJECT.format(row='t')}) + coalesce(m.bytes, 0) < {DOCUMENT_BYTES}
  FROM tickets t LEFT JOIN (
    SELECT ticket_id, ticket_document_agg(strip(search_vector) ORDER BY id) AS document,
           sum(pg_column_size(strip(search_vector))) AS bytes
    FROM messages {{messages}} GROUP BY ticket_id) m ON m.ticket_id = t.id
  {{tickets}}
  ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document, bytes = excluded.bytes,
    complete = excluded.complete"""
PG_FUNCTIONS = f"""
CREATE FUNCTION ticket_document_add(document tsvector, part tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN pg_column_size(document) + pg_column_size(part) < {DOCUMENT_BYTES}
              THEN document || part ELSE document END $$;
CREATE AGGREGATE ticket_document_agg(tsvector) (
  SFUNC = ticket_document_add, STYPE = tsvector, INITCOND = '');

CREATE FUNCTION ticket_documents_rebuild(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  {REBUILD.format(messages='WHERE ticket_id = ANY(ids)', tickets='WHERE t.id = ANY(ids)')} $$;

CREATE FUNCTION ticket_documents_ticket_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ticket_documents (ticket_id, document, bytes, complete)
  VALUES (NEW.id, {PG_SUBJECT.format(row='NEW')}, pg_column_size({PG_SUBJECT.format(row='NEW')}),
          true);
  RETURN NULL;
END $$;

CREATE FUNCTION ticket_documents_subject_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ticket_documents_rebuild(ARRAY[NEW.id]);
  RETURN NULL;
END $$;

CREATE FUNCTION ticket_documents_message_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  part tsvector := strip(NEW.search_vector);
  size integer := pg_column_size(part);
BEGIN
  UPDATE ticket_documents SET
    document = CASE WHEN complete AND bytes + size < {DOCUMENT_BYTES}
                    THEN document || part ELSE document END,
    complete = complete AND bytes + size < {DOCUMENT_BYTES},
    bytes = bytes + size
  WHERE ticket_id = NEW.ticket_id;
  IF NOT FOUND THEN
    PERFORM ticket_documents_rebuild(ARRAY[NEW.ticket_id]);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION ticket_documents_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ticket_documents_rebuild(ARRAY(
    SELECT o.ticket_id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.text IS DISTINCT FROM n.text OR o.ticket_id <> n.ticket_id
    UNION SELECT n.ticket_id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.text IS DISTINCT FROM n.text OR o.ticket_id <> n.ticket_id));
  RETURN NULL;
END $$;

CREATE FUNCTION ticket_documents_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ticket_documents_rebuild(ARRAY(SELECT DISTINCT ticket_id FROM old_rows));
  RETURN NULL;
END $$;
"""
PG_TRIGGERS = """
CREATE TRIGGER ticket_documents_ticket_added AFTER INSERT ON tickets
  FOR EACH ROW EXECUTE FUNCTION ticket_documents_ticket_added();
CREATE TRIGGER ticket_documents_subject_changed AFTER UPDATE OF subject ON tickets
  FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject)
  EXECUTE FUNCTION ticket_documents_subject_changed();
CREATE TRIGGER ticket_documents_message_added AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION ticket_documents_message_added();
CREATE TRIGGER ticket_documents_messages_changed AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ticket_documents_messages_changed();
CREATE TRIGGER ticket_documents_messages_deleted AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ticket_documents_messages_deleted();
"""
PG_TRIGGER_NAMES = (('ticket_documents_ticket_added', 'tickets'),
                    ('ticket_documents_subject_changed', 'tickets'),
                    ('ticket_documents_message_added', 'messages'),
                    ('ticket_documents_messages_changed', 'messages'),
                    ('ticket_documents_messages_deleted', 'messages'))
PG_FUNCTION_NAMES = ('ticket_documents_ticket_added()', 'ticket_documents_subject_changed()',
                     'ticket_documents_message_added()', 'ticket_documents_messages_changed()',
                     'ticket_documents_messages_deleted()', 'ticket_documents_rebuild(bigint[])')
# 0012's, recreated by the downgrade
PG_OLD_INDEXES = (
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
    "CREATE INDEX ix_tickets_search ON tickets USING gin ((to_tsvector('simple'::regconfig, "
    "regexp_replace(left(subject, 100000), '[[:punct:]]', ' ', 'g'))))",
    f"ALTER INDEX ix_tickets_search ALTER COLUMN 1 SET STATISTICS {PG_WORD_STATS}")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _postgres_downgrade()
    else:
        _sqlite_downgrade()


# --- SQLite ---

def _sqlite_upgrade() -> None:
    for fts in ('message_search', 'ticket_search'):
        for event in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{event}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
    op.execute("DROP INDEX IF EXISTS ix_messages_search_ticket")
    op.execute("CREATE VIRTUAL TABLE ticket_text USING fts5(text, content='', "
               f"tokenize='{FTS_TOKENIZER}')")
    # Two runs in ascending rowid order (FTS5 writes a segment whenever the rowid goes back):
    # the subjects, then the messages by ticket through their ticket_id index.
    op.execute(f"INSERT INTO ticket_text(rowid, text) SELECT {subject_key('t')}, t.subject "
               "FROM tickets t ORDER BY t.id")
    op.execute(f"INSERT INTO ticket_text(rowid, text) SELECT {message_key('m')}, m.text "
               "FROM messages m INDEXED BY ix_messages_ticket_id ORDER BY m.ticket_id, m.id")
    op.execute("INSERT INTO ticket_text(ticket_text) VALUES ('optimize')")
    _sqlite_triggers()


def _sqlite_triggers() -> None:
    def add(key: str, value: str) -> str:
        return f"INSERT INTO ticket_text(rowid, text) VALUES ({key}, {value});"

    def drop(key: str, value: str) -> str:
        return f"INSERT INTO ticket_text(ticket_text, rowid, text) VALUES ('delete', {key}, {value});"

    statements = {
        'ticket_text_ticket_insert': ("AFTER INSERT ON tickets",
                                      add(subject_key('new'), 'new.subject')),
        'ticket_text_ticket_delete': ("AFTER DELETE ON tickets",
                                      drop(subject_key('old'), 'old.subject')),
        'ticket_text_ticket_update': ("AFTER UPDATE OF id, subject ON tickets",
                                      drop(subject_key('old'), 'old.subject')
                                      + add(subject_key('new'), 'new.subject')),
        'ticket_text_message_insert': ("AFTER INSERT ON messages",
                                       add(message_key('new'), 'new.text')),
        'ticket_text_message_delete': ("AFTER DELETE ON messages",
                                       drop(message_key('old'), 'old.text')),
        'ticket_text_message_update': ("AFTER UPDATE OF id, ticket_id, text ON messages",
                                       drop(message_key('old'), 'old.text')
                                       + add(message_key('new'), 'new.text')),
    }
    for name, (event, body) in statements.items():
        op.execute(f"CREATE TRIGGER {name} {event} BEGIN {body} END")


def _sqlite_downgrade() -> None:
    for name in ('ticket_insert', 'ticket_delete', 'ticket_update', 'message_insert',
                 'message_delete', 'message_update'):
        op.execute(f"DROP TRIGGER ticket_text_{name}")
    op.execute("DROP TABLE ticket_text")
    op.create_index('ix_messages_search_ticket', 'messages', ['id', 'ticket_id'])
    for fts, table, column in (('message_search', 'messages', 'text'),
                               ('ticket_search', 'tickets', 'subject')):
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


# --- PostgreSQL ---

def _postgres_upgrade() -> None:
    op.execute("CREATE TABLE ticket_documents (ticket_id bigint PRIMARY KEY REFERENCES tickets(id) "
               "ON DELETE CASCADE, document tsvector NOT NULL, bytes integer NOT NULL, "
               "complete boolean NOT NULL)")
    op.execute(PG_FUNCTIONS)
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(REBUILD.format(messages='', tickets=''))
    op.execute("CREATE INDEX ix_ticket_documents ON ticket_documents USING gin (document)")
    op.execute("CREATE INDEX ix_ticket_documents_incomplete ON ticket_documents (ticket_id) "
               "WHERE NOT complete")
    op.execute(f"ALTER TABLE ticket_documents ALTER COLUMN document SET STATISTICS {PG_WORD_STATS}")
    op.execute(PG_TRIGGERS)
    op.execute("DROP INDEX ix_messages_search")
    op.execute("DROP INDEX ix_tickets_search")
    op.execute("ANALYZE ticket_documents")


def _postgres_downgrade() -> None:
    for trigger, table in PG_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in PG_FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION {function}")
    op.execute("DROP AGGREGATE ticket_document_agg(tsvector)")
    op.execute("DROP FUNCTION ticket_document_add(tsvector, tsvector)")
    op.execute("DROP TABLE ticket_documents")
    for statement in PG_OLD_INDEXES:
        op.execute(statement)

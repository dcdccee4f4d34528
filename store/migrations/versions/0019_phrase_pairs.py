"""phrases answered by the index: each ticket document also holds its adjacent word pairs
(PostgreSQL; issue 12, docs/search.md "Phrases: the word pairs")

``ticket_documents.pairs``: a ``tsvector`` (no positions) of every pair of words that stand
next to each other in the ticket's subject or in one of its messages, each pair one lexeme
``~first second`` (``ticket_pairs``; cut at ``PAIR_CHARS``): the ``~`` keeps pairs apart from words (no word holds
punctuation, and a prefix search of a word never reaches a pair), the space between the two
words cannot be inside a word. The pairs are read from the same positions the exact check
reads (``messages.search_vector``, the subject's vector), a part at a time, so a pair never
joins the last word of one message to the first of the next, or the subject to a message:
the ticket's pairs hold ``~a b`` exactly when its subject or one of its messages matches the
phrase ``a b``. A GIN index ``ix_ticket_documents_pairs`` finds them; a phrase of two words is
then one index lookup (a longer phrase: the tickets holding all its pairs, checked exactly).

The triggers of 0017 keep their duties (new ticket, new message, edit, merge, delete, subject
change); the functions that compute a document now compute its pairs too, and ``bytes``
counts both, so the 1 MB bound of each ``tsvector`` still holds (``DOCUMENT_BYTES``). The
upgrade computes every ticket's document and pairs again (one ``INSERT ... SELECT``, as 0017)
and builds the indexes; the downgrade drops the column and its index and computes the
documents as 0017 did.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 04:30:00
"""
import importlib.util
from pathlib import Path

from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

DOCUMENT_BYTES = 900_000  # as 0017: the parts' sizes (words and pairs) add up to less
PG_WORD_STATS = 1000
# A part: the subject's vector (as 0012 indexes it) or a message's search_vector.
PG_SUBJECT = ("to_tsvector('simple'::regconfig, regexp_replace(left({row}.subject, 100000), "
              "'[[:punct:]]', ' ', 'g'))")
# A pair longer than PAIR_CHARS characters is cut there (a lexeme holds at most 2,047 bytes
# and two words may each be that long): a phrase whose pair is as long falls back to its
# words (``Postgres.pair_query``), and a shorter pair or prefix never equals a cut one. A part
# whose pairs would pass PAIRS_BYTES has none (NULL): its ticket is incomplete, checked
# message by message like a ticket past DOCUMENT_BYTES (a tsvector holds at most 1 MB).
PAIR_CHARS = 500
PAIRS_BYTES = 600_000
PG_PAIRS = f"""
CREATE FUNCTION ticket_pairs(part tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  WITH word AS (SELECT u.lexeme, p FROM unnest(part) u, unnest(u.positions) p),
  pair AS (SELECT DISTINCT left('~' || a.lexeme || ' ' || b.lexeme, {PAIR_CHARS}) AS lexeme
           FROM word a JOIN word b ON b.p = a.p + 1)
  SELECT CASE WHEN coalesce(sum(octet_length(lexeme) + 8), 0) < {PAIRS_BYTES}
              THEN coalesce(array_to_tsvector(array_agg(lexeme)), '') END
  FROM pair $$;
"""


def pairs_size(pairs: str) -> str:
    """The size a part's pairs count for: past DOCUMENT_BYTES when it has none (too many)."""
    return f"coalesce(pg_column_size({pairs}), {DOCUMENT_BYTES})"


# The documents of some tickets (or all), computed from their subjects and messages.
REBUILD = f"""
  INSERT INTO ticket_documents (ticket_id, document, pairs, bytes, complete)
  SELECT t.id, ticket_document_add(s.words, coalesce(m.document, '')),
         ticket_document_add(s.pairs, coalesce(m.pairs, '')),
         s.bytes + coalesce(m.bytes, 0), s.bytes + coalesce(m.bytes, 0) < {DOCUMENT_BYTES}
  FROM tickets t
  CROSS JOIN LATERAL (SELECT words, coalesce(pairs, '') AS pairs,
                             pg_column_size(words) + {pairs_size('pairs')} AS bytes
                      FROM (SELECT strip(v) AS words, ticket_pairs(v) AS pairs
                            FROM (SELECT {PG_SUBJECT.format(row='t')} AS v) vector) parts) s
  LEFT JOIN (
    SELECT ticket_id, ticket_document_agg(words ORDER BY id) AS document,
           ticket_document_agg(coalesce(pairs, '') ORDER BY id) AS pairs,
           sum(pg_column_size(words) + {pairs_size('pairs')}) AS bytes
    FROM (SELECT ticket_id, id, strip(search_vector) AS words,
                 ticket_pairs(search_vector) AS pairs
          FROM messages {{messages}}) part
    GROUP BY ticket_id) m ON m.ticket_id = t.id
  {{tickets}}
  ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document, pairs = excluded.pairs,
    bytes = excluded.bytes, complete = excluded.complete"""
PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION ticket_documents_rebuild(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  {REBUILD.format(messages='WHERE ticket_id = ANY(ids)', tickets='WHERE t.id = ANY(ids)')} $$;

CREATE OR REPLACE FUNCTION ticket_documents_ticket_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  subject_vector tsvector := {PG_SUBJECT.format(row='NEW')};
  subject_words tsvector := strip(subject_vector);
  subject_pairs tsvector := ticket_pairs(subject_vector);
  size integer := pg_column_size(subject_words) + {pairs_size('subject_pairs')};
BEGIN
  INSERT INTO ticket_documents (ticket_id, document, pairs, bytes, complete)
  VALUES (NEW.id, subject_words, coalesce(subject_pairs, ''), size, size < {DOCUMENT_BYTES});
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ticket_documents_message_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  message_words tsvector := strip(NEW.search_vector);
  message_pairs tsvector := ticket_pairs(NEW.search_vector);
  size integer := pg_column_size(message_words) + {pairs_size('message_pairs')};
BEGIN
  UPDATE ticket_documents d SET
    document = CASE WHEN d.complete AND d.bytes + size < {DOCUMENT_BYTES}
                    THEN d.document || message_words ELSE d.document END,
    pairs = CASE WHEN d.complete AND d.bytes + size < {DOCUMENT_BYTES}
                 THEN d.pairs || message_pairs ELSE d.pairs END,
    complete = d.complete AND d.bytes + size < {DOCUMENT_BYTES},
    bytes = d.bytes + size
  WHERE d.ticket_id = NEW.ticket_id;
  IF NOT FOUND THEN
    PERFORM ticket_documents_rebuild(ARRAY[NEW.ticket_id]);
  END IF;
  RETURN NULL;
END $$;
"""
INDEXES = (
    "CREATE INDEX ix_ticket_documents ON ticket_documents USING gin (document)",
    "CREATE INDEX ix_ticket_documents_incomplete ON ticket_documents (ticket_id) "
    "WHERE NOT complete")


def revision_0017():
    """0017's module (its functions and documents, which the downgrade puts back)."""
    path = Path(__file__).with_name("0017_ticket_search.py")
    spec = importlib.util.spec_from_file_location("revision_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's FTS5 checks phrases from the positions in its index
    op.execute(PG_PAIRS)
    op.execute("ALTER TABLE ticket_documents ADD COLUMN pairs tsvector NOT NULL DEFAULT ''")
    op.execute("ALTER TABLE ticket_documents ALTER COLUMN pairs DROP DEFAULT")
    op.execute(PG_FUNCTIONS)
    _refill(REBUILD, INDEXES + (
        "CREATE INDEX ix_ticket_documents_pairs ON ticket_documents USING gin (pairs)",
        f"ALTER TABLE ticket_documents ALTER COLUMN pairs SET STATISTICS {PG_WORD_STATS}"))


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    old = revision_0017()
    op.execute("DROP INDEX ix_ticket_documents_pairs")
    op.execute("ALTER TABLE ticket_documents DROP COLUMN pairs")
    # 0017's functions after its aggregate (the ones 0019 replaced among them), as it made them
    op.execute(old.PG_FUNCTIONS.split("INITCOND = '');", 1)[1]
               .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.execute("DROP FUNCTION ticket_pairs(tsvector)")
    _refill(old.REBUILD, INDEXES)


def _refill(rebuild: str, indexes: tuple[str, ...]) -> None:
    """Every ticket's document computed again, the indexes built after (as 0017 did)."""
    op.execute("DROP INDEX ix_ticket_documents")
    op.execute("DROP INDEX ix_ticket_documents_incomplete")
    op.execute("TRUNCATE ticket_documents")
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.execute("SET LOCAL work_mem = '256MB'")
    op.execute(rebuild.format(messages='', tickets=''))
    for statement in indexes:
        op.execute(statement)
    op.execute("ANALYZE ticket_documents")

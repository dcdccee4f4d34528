"""FTS5 upkeep: the tables found, the segments read, optimize merging them into one."""
import sqlite3

import pytest

from store import fts_upkeep


@pytest.fixture
def conn():
    """An external-content FTS5 table kept by a trigger, as the store's search tables are."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("CREATE VIRTUAL TABLE note_search USING fts5(body, content='notes', "
                 "content_rowid='id')")
    conn.execute("CREATE VIRTUAL TABLE  other_words USING FTS5 (w)")
    conn.execute("CREATE VIRTUAL TABLE note_trigrams USING rtree(id, a, b)")  # not FTS5
    conn.execute("CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN "
                 "INSERT INTO note_search(rowid, body) VALUES (new.id, new.body); END")
    yield conn
    conn.close()


def test_finds_fts5_tables_only(conn):
    assert fts_upkeep.fts5_tables(conn) == ["note_search", "other_words"]


def test_trigger_writes_a_segment_per_statement_and_optimize_merges_them(conn):
    conn.execute("BEGIN")
    for n in range(6):  # one transaction, six statements
        conn.execute("INSERT INTO notes (body) VALUES (?)", (f"refund order {n}",))
    conn.execute("COMMIT")
    assert sum(len(level) for level in fts_upkeep.segments(conn, "note_search")) == 6

    fts_upkeep.optimize(conn)

    levels = fts_upkeep.segments(conn, "note_search")
    assert [size for level in levels for size in level] == [1]
    assert fts_upkeep.describe(levels).startswith("1 segments (levels ")
    hits = conn.execute("SELECT rowid FROM note_search WHERE note_search MATCH 'refund' "
                        "ORDER BY rowid").fetchall()
    assert [r[0] for r in hits] == [1, 2, 3, 4, 5, 6]  # the same words found after the merge


def test_optimize_named_tables_only(conn):
    conn.execute("INSERT INTO notes (body) VALUES ('a')")
    conn.execute("INSERT INTO notes (body) VALUES ('b')")
    conn.execute("INSERT INTO other_words (w) VALUES ('x')")
    conn.execute("INSERT INTO other_words (w) VALUES ('y')")
    fts_upkeep.optimize(conn, ["other_words"])
    assert sum(map(len, fts_upkeep.segments(conn, "other_words"))) == 1
    assert sum(map(len, fts_upkeep.segments(conn, "note_search"))) == 2


def test_empty_and_unknown_structures(conn):
    assert fts_upkeep.segments(conn, "note_search") == []  # no segment written yet
    assert fts_upkeep.describe([]) == "0 segments (levels -), 0 pages"
    conn.execute("UPDATE note_search_data SET block = x'00000001ff000001' WHERE id = 10")
    assert fts_upkeep.segments(conn, "note_search") is None
    assert fts_upkeep.describe(None) == "structure unknown"


def test_varint_nine_bytes():
    assert fts_upkeep._varint(b"\x81\x00", 0) == (128, 2)
    assert fts_upkeep._varint(b"\xff" * 8 + b"\x01", 0) == ((2 ** 56 - 1) << 8 | 1, 9)


def test_command_merges_a_database_file(tmp_path, capsys):
    path = tmp_path / "store.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE VIRTUAL TABLE words USING fts5(w)")
    for word in ("alpha", "beta", "gamma"):
        conn.execute("INSERT INTO words (w) VALUES (?)", (word,))
    conn.close()
    fts_upkeep.main([str(path)])
    assert capsys.readouterr().out.strip() == (
        "words: 3 segments (levels 0), 3 pages -> 1 segments (levels 1), 1 pages")
    with pytest.raises(sqlite3.OperationalError):  # mode=rw: a mistyped path is not created
        fts_upkeep.main([str(tmp_path / "missing.db")])
    assert not (tmp_path / "missing.db").exists()

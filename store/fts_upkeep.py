"""Upkeep of SQLite's FTS5 indexes, whatever FTS5 tables the schema has (docs/benchmarks.md,
"Cost as the store grows").

An FTS5 index is a set of segments: each flush of pending words writes a new segment and
*automerge* merges segments in the background of later writes, up to (number of levels) pages
merged per page written. Fed by triggers, FTS5 flushes before every statement that writes in
the transaction (its savepoint), so ingest writes one segment per message. After a
``rebuild`` (a migration's backfill, a bulk load) the index is a ladder of large segments with
merges still due: every ingest transaction then pays for merging them, more so on a big store
(more levels). ``optimize`` merges every segment into one once, so writes merge only what they
added themselves; searches read one large segment instead of several.

``fts5_tables`` finds the FTS5 tables by their declaration, so this applies to any full-text
layout; ``segments`` reads a table's structure record (levels, segments, pages each).
"""
from __future__ import annotations

import sqlite3

STRUCTURE_ROWID = 10  # FTS5 keeps its structure record at this rowid of <table>_data
STRUCTURE_V2 = b"\xff\x00\x00\x01"  # marks the newer structure format after the cookie


def fts5_tables(conn: sqlite3.Connection) -> list[str]:
    """Names of the FTS5 virtual tables in the database (not their shadow tables)."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                        "AND sql LIKE 'CREATE VIRTUAL TABLE%'").fetchall()
    return sorted(name for name, sql in rows if "using fts5" in " ".join(sql.lower().split()))


def optimize(conn: sqlite3.Connection, tables: list[str] | None = None) -> None:
    """Merge each FTS5 table's segments into one (``tables``: all of them by default). Run it
    in a transaction of its own, after a rebuild; it rewrites the whole index (about 20 s for
    three million messages)."""
    for table in fts5_tables(conn) if tables is None else tables:
        conn.execute(f'INSERT INTO "{table}"("{table}") VALUES (\'optimize\')')


def segments(conn: sqlite3.Connection, table: str) -> list[list[int]] | None:
    """The table's segments level by level, as their sizes in leaf pages (level 0 first);
    None when the structure record is missing or in a format newer than this reads."""
    row = conn.execute(f'SELECT block FROM "{table}_data" WHERE id = ?',
                       (STRUCTURE_ROWID,)).fetchone()
    if row is None or bytes(row[0])[4:8] == STRUCTURE_V2:
        return None
    return _decode_structure(bytes(row[0]))


def describe(levels: list[list[int]] | None) -> str:
    """'3 segments (levels 0, 4, 7), 136,383 pages' for a report."""
    if levels is None:
        return "structure unknown"
    used = [str(i) for i, level in enumerate(levels) if level]
    count = sum(len(level) for level in levels)
    pages = sum(sum(level) for level in levels)
    return f"{count} segments (levels {', '.join(used) or '-'}), {pages:,} pages"


def _decode_structure(block: bytes) -> list[list[int]]:
    # A 4-byte cookie, then varints: levels, segments, write counter; per level: pages being
    # merged, segments, then per segment: id, first page, last page. (SQLite 3.44 and later
    # may write a second format, marked after the cookie, which ``segments`` does not read.)
    at = 4
    n_levels, at = _varint(block, at)
    _n_segments, at = _varint(block, at)
    _write_counter, at = _varint(block, at)
    levels = []
    for _ in range(n_levels):
        _merging, at = _varint(block, at)
        n_segments, at = _varint(block, at)
        sizes = []
        for _ in range(n_segments):
            _segid, at = _varint(block, at)
            first, at = _varint(block, at)
            last, at = _varint(block, at)
            sizes.append(last - first + 1)
        levels.append(sizes)
    return levels


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint (7 bits a byte, the ninth byte whole)."""
    value = 0
    for n in range(9):
        byte = data[at]
        at += 1
        if n == 8:
            return (value << 8) | byte, at
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> None:
    """``python -m store.fts_upkeep DATABASE``: merge every FTS5 table's segments into one
    (after a migration's rebuild, with the workers stopped: it holds the write lock)."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__.split(":")[0])
    parser.add_argument("database", help="path of the SQLite file")
    path = parser.parse_args(argv).database
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
    try:
        for table in fts5_tables(conn):
            before = describe(segments(conn, table))
            optimize(conn, [table])
            print(f"{table}: {before} -> {describe(segments(conn, table))}")
    finally:
        conn.close()


if __name__ == "__main__":
    main()

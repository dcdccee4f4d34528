"""Secret files, the SQLite database and the blob store are private from the moment they exist:
the mode is given to the call that creates them, so even a umask of 000 leaves them private."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from config import signing
from config.private_files import make_private_folder, read_or_create_secret
from gateway.ops import embedded_redis
from store.blobs import BlobStore
from store.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextmanager
def umask(value: int):
    """The most permissive umask: nothing here may rely on the user's umask to be private."""
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture(autouse=True)
def open_umask():
    with umask(0):
        yield


def test_a_generated_secret_is_0600_in_new_0700_folders(tmp_path):
    key_file = tmp_path / "var" / "deep" / "demo-api-key"
    secret = read_or_create_secret(key_file)
    assert mode(key_file) == 0o600
    assert mode(tmp_path / "var") == mode(tmp_path / "var" / "deep") == 0o700
    assert len(secret) >= 40 and read_or_create_secret(key_file) == secret
    assert os.listdir(key_file.parent) == ["demo-api-key"]  # no temporary file left


def test_existing_folders_keep_their_mode(tmp_path):
    (tmp_path / "shared").mkdir(mode=0o755)
    make_private_folder(tmp_path / "shared" / "mine")
    assert mode(tmp_path / "shared") == 0o755 and mode(tmp_path / "shared" / "mine") == 0o700


def test_the_signing_key_file_is_created_private(tmp_path):
    [key] = signing.signing_keys({"TICKETGATE_VAR_DIR": str(tmp_path / "var")})
    assert mode(tmp_path / "var" / signing.KEY_FILE) == 0o600 and mode(tmp_path / "var") == 0o700
    assert (tmp_path / "var" / signing.KEY_FILE).read_text().strip() == key


def test_sqlite_file_its_wal_shm_and_lock_file_are_0600(tmp_path):
    database = tmp_path / "ticketgate.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["ticketgate.db", "ticketgate.db-shm", "ticketgate.db-wal",
                         "ticketgate.db.writelock"]
        assert {name: mode(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)
    engine.dispose()


def test_sqlite_in_a_missing_folder_still_fails_as_sqlite_says(tmp_path):
    from sqlalchemy.exc import OperationalError
    with pytest.raises(OperationalError):
        make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}").connect()


def test_blob_folders_are_0700_and_blobs_0600(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(b"customer mail")
    blob = store.path(sha)
    assert mode(tmp_path / "blobs") == mode(blob.parent) == 0o700
    assert mode(blob) == 0o600


def test_embedded_redis_folder_and_files_are_private(tmp_path):
    process, url = embedded_redis.start(tmp_path / "redis")
    try:
        import redis
        redis.Redis.from_url(url).set("k", "v")
        redis.Redis.from_url(url).bgrewriteaof()
    finally:
        process.terminate()
        process.wait()
    assert mode(tmp_path / "redis") == 0o700
    created = [p for p in (tmp_path / "redis").rglob("*") if p.is_file()]
    assert created and all(mode(p) & 0o077 == 0 for p in created), \
        {p.name: oct(mode(p)) for p in created}

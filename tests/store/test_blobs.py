"""The content-addressed blob store."""
import hashlib

import pytest

from store.blobs import BlobStore


def test_put_returns_sha256_and_get_returns_content(tmp_path):
    blobs = BlobStore(tmp_path)
    sha = blobs.put(b"raw mail")
    assert sha == hashlib.sha256(b"raw mail").hexdigest()
    assert blobs.get(sha) == b"raw mail"


def test_same_content_twice_is_one_file(tmp_path):
    blobs = BlobStore(tmp_path)
    blobs.put(b"x")
    blobs.put(b"x")
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_no_temporary_files_are_left_behind(tmp_path):
    BlobStore(tmp_path).put(b"y" * 100_000)
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_path_traversal_reference_is_refused(tmp_path):
    with pytest.raises(ValueError):
        BlobStore(tmp_path).get("../../etc/passwd")


def test_put_many_stores_every_blob_once_and_returns_their_digests(tmp_path):
    blobs = BlobStore(tmp_path)
    blobs.put(b"stored before")
    data = [b"a" * 10, b"b" * 70_000, b"a" * 10, b"stored before", b""]
    shas = blobs.put_many(data)
    assert shas == [hashlib.sha256(d).hexdigest() for d in data]
    assert [blobs.get(sha) for sha in shas] == data
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 4
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_put_many_leaves_no_temporary_file_when_it_fails(tmp_path, monkeypatch):
    blobs = BlobStore(tmp_path)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("store.blobs.os.replace", failing_replace)
    with pytest.raises(OSError):
        blobs.put_many([b"one", b"two"])
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize("many", [False, True])
def test_the_renames_are_synced_after_they_happen(tmp_path, monkeypatch, many):
    """A rename lives in its folder's entry: a crash right after it could lose a blob whose
    file was synced, so the folders (or the file system) are synced once the files are in place."""
    from store import blobs as module
    store, data = BlobStore(tmp_path), [b"one", b"two", b"three"]
    synced_with_files_in_place = []

    def record(*_args):
        synced_with_files_in_place.append(all(store.exists(hashlib.sha256(d).hexdigest())
                                              for d in (data if many else data[:1])))

    monkeypatch.setattr(module, "_fsync_folder", record)
    monkeypatch.setattr(module, "_syncfs_of", record)
    store.put_many(data) if many else store.put(data[0])
    assert synced_with_files_in_place and synced_with_files_in_place[-1] is True

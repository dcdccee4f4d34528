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

"""Content-addressed blob store on the filesystem (raw payloads, attachments).

A blob is written to a temporary file, fsynced and renamed to ``<dir>/<aa>/<sha256>``, so a
reader never sees half a blob and a crash never loses an acknowledged one. Writing the same
content twice is a no-op. Customer content: the folders are created 0700, the files 0600
(``mkstemp``'s mode, kept by the rename).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from config.private_files import make_private_folder


class BlobStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        make_private_folder(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

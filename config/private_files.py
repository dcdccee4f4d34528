"""Files and folders only the owner may read, private from the moment they exist.

Secrets (API keys, the signing key), the SQLite database and the blob store hold what must not
leak to other users of the machine. A file created world-readable and chmod'ed afterwards can
be opened in between (and an open descriptor keeps working after the chmod), so these helpers
pass the mode to the system call that creates the file or folder (the umask can only take bits
away). Existing files and folders are left as they are: their owner chose.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o600    # owner reads and writes
FOLDER_MODE = 0o700  # owner lists, enters and creates
SECRET_BYTES = 32    # random bytes of a generated secret (43 URL-safe characters)


def make_private_folder(path: str | Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (existing ones stay as they are)."""
    path, missing = Path(path), []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # another process was faster
            pass


def create_private_file(path: str | Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True when this call created it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        return False
    return True


def open_private(path: str | Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND):
    """``open(path, "a")``, but a file it creates is private."""
    return os.fdopen(os.open(path, flags, FILE_MODE), "a")


def read_or_create_secret(path: str | Path) -> str:
    """The secret kept in ``path``; on first use a random one is written there (mode 0600).

    Written to a private temporary file, then linked into place: a reader never sees half a
    secret, and of two processes starting at once the first one's secret wins for both."""
    path = Path(path)
    if not path.exists():
        make_private_folder(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)  # left by a crash: its mode is not ours to trust
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(SECRET_BYTES) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()

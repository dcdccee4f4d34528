"""The stored state of polled folders (table ``imap_folders``) and quarantine entries for mail
that cannot be fetched at all.

Every write is its own short transaction. ``save_progress`` never moves ``last_uid`` backwards
and writes only while the row still has the UIDVALIDITY the caller worked with, so a poller
that lost a race with a folder reset cannot undo it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from gateway.edges.imap.state import Position
from store.models import ImapFolder, QuarantineEntry, utcnow


@dataclass(frozen=True)
class FolderKey:
    workspace: str
    mailbox: str
    folder: str

    def __str__(self) -> str:
        return f"{self.workspace}/{self.mailbox}/{self.folder}"


def _where(key: FolderKey):
    return (ImapFolder.workspace == key.workspace, ImapFolder.mailbox == key.mailbox,
            ImapFolder.folder == key.folder)


def load_position(sessions, key: FolderKey) -> Position:
    """The stored position of ``key``; a row at (0, 0) is created on first sight."""
    with sessions() as session:
        row = session.scalars(select(ImapFolder).where(*_where(key))).first()
        if row is not None:
            return Position(row.uidvalidity, row.last_uid)
    try:
        with sessions.begin() as session:
            session.add(ImapFolder(workspace=key.workspace, mailbox=key.mailbox,
                                   folder=key.folder, uidvalidity=0, last_uid=0, backlog=0,
                                   updated_at=utcnow()))
    except IntegrityError:  # another process created it first
        return load_position(sessions, key)
    return Position(0, 0)


def reset_position(sessions, key: FolderKey, uidvalidity: int) -> None:
    """Adopt a new UIDVALIDITY and start the folder again from UID 0."""
    with sessions.begin() as session:
        session.execute(update(ImapFolder).where(*_where(key)).values(
            uidvalidity=uidvalidity, last_uid=0, updated_at=utcnow()))


def save_progress(sessions, key: FolderKey, uidvalidity: int, last_uid: int,
                  backlog: int) -> None:
    """Record a successful fetch: last_uid (never backwards), backlog, last_fetch_at."""
    now = utcnow()
    with sessions.begin() as session:
        session.execute(update(ImapFolder).where(
            *_where(key), ImapFolder.uidvalidity == uidvalidity).values(
            last_uid=case((ImapFolder.last_uid < last_uid, last_uid),
                          else_=ImapFolder.last_uid),
            backlog=backlog, last_fetch_at=now, updated_at=now))


def quarantine_unfetchable(sessions, key: FolderKey, uidvalidity: int, uid: int,
                           error: str) -> None:
    """Keep a visible record of a message the server would not hand out (there is no raw
    payload, so the entry has no envelope and is not replayable: fix the mailbox, then run
    ``python -m gateway.edges.imap backfill``)."""
    with sessions.begin() as session:
        session.add(QuarantineEntry(
            workspace=key.workspace, channel="email",
            native_id=f"imap:{key.mailbox}/{key.folder};UIDVALIDITY={uidvalidity}/;UID={uid}",
            reason="imap_fetch_failed", detail=error[:4000], envelope={}, size=0,
            received_at=now_iso()))


def now_iso() -> str:
    return utcnow().isoformat(timespec="microseconds")


def folder_rows(sessions) -> list[ImapFolder]:
    with sessions() as session:
        rows = list(session.scalars(select(ImapFolder).order_by(
            ImapFolder.workspace, ImapFolder.mailbox, ImapFolder.folder)))
        session.expunge_all()
        return rows

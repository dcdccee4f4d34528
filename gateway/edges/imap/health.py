"""Health of the IMAP channel, from the stored folder state (table ``imap_folders``).

``mailbox_status(sessions, config)`` gives, per configured mailbox, its folders' position, the
last successful fetch (the oldest over its folders: the mailbox is as fresh as its stalest
folder), the backlog (messages seen but not yet enqueued) and ``stale``: no successful fetch
within ``stale_after_s(mailbox)``. ``prometheus_samples`` turns that into gauge samples for
``/metrics``. Any process that can read the store can call them (no IMAP connection).
"""
from __future__ import annotations

from datetime import datetime, timezone

from config.channels import Mailbox
from config.workspaces import Config
from gateway.edges.imap.folders import folder_rows

MIN_STALE_S = 300  # IDLE syncs at least every poll_interval_s; allow a few missed rounds


def stale_after_s(mailbox: Mailbox) -> float:
    return max(3 * mailbox.poll_interval_s, MIN_STALE_S)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite is naive


def mailbox_status(sessions, config: Config, now: datetime | None = None) -> list[dict]:
    """One JSON-ready dict per configured mailbox (see the module docstring)."""
    now = now or datetime.now(timezone.utc)
    rows = {(r.workspace, r.mailbox, r.folder): r for r in folder_rows(sessions)}
    out = []
    for workspace in config.workspaces:
        for mailbox in workspace.channels.mailboxes:
            folders = [_folder(rows.get((workspace.slug, mailbox.name, f)), f)
                       for f in mailbox.folders]
            fetches = [f["last_fetch_at"] for f in folders]
            last = None if None in fetches else min(fetches)
            age = None if last is None else (now - last).total_seconds()
            out.append({
                "workspace": workspace.slug, "mailbox": mailbox.name,
                "last_fetch_at": last.isoformat() if last else None,
                "age_s": round(age, 1) if age is not None else None,
                "backlog": sum(f["backlog"] for f in folders),
                "stale": age is None or age > stale_after_s(mailbox),
                "folders": [{**f, "last_fetch_at": f["last_fetch_at"].isoformat()
                             if f["last_fetch_at"] else None} for f in folders],
            })
    return out


def _folder(row, name: str) -> dict:
    if row is None:
        return {"folder": name, "uidvalidity": 0, "last_uid": 0, "backlog": 0,
                "last_fetch_at": None}
    return {"folder": name, "uidvalidity": row.uidvalidity, "last_uid": row.last_uid,
            "backlog": row.backlog, "last_fetch_at": _aware(row.last_fetch_at)}


def prometheus_samples(statuses: list[dict]) -> list[tuple[str, str, dict, float]]:
    """(metric name, help, labels, value) per mailbox: last fetch time and backlog gauges."""
    samples = []
    for status in statuses:
        labels = {"workspace": status["workspace"], "mailbox": status["mailbox"]}
        last = status["last_fetch_at"]
        samples.append(("imap_last_fetch_timestamp_seconds",
                        "Unix time of the last successful fetch of the mailbox (0: never)",
                        labels, datetime.fromisoformat(last).timestamp() if last else 0.0))
        samples.append(("imap_backlog", "Messages seen in the mailbox but not yet enqueued",
                        labels, float(status["backlog"])))
    return samples

"""Bring a database to the newest schema: ``python -m store.migrate`` (uses DATABASE_URL)."""
from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from config.settings import load_settings

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def upgrade(url: str) -> None:
    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")


if __name__ == "__main__":
    upgrade(sys.argv[1] if len(sys.argv) > 1 else load_settings().database_url)

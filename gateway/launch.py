"""`make run`: start the whole system on embedded defaults and say where everything listens.

Without REDIS_URL an embedded redis-server (persistent AOF under var/redis) is started; without
DATABASE_URL the store is SQLite in var/. The database is migrated, the demo API key is taken
from TICKETGATE_API_KEY (or generated once and kept in var/demo-api-key), then honcho runs every
process of the Procfile. Ctrl-C stops them all; queued work survives in the AOF.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from config.settings import DEFAULT_VAR_DIR, PROJECT_DIR, load_settings
from config.workspaces import load_config
from gateway import embedded_redis
from store.migrate import upgrade


def demo_key(var_dir: Path, name: str = "demo-api-key") -> str:
    """A secret generated once and kept in ``var/<name>`` (mode 600)."""
    key_file = var_dir / name
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(24) + "\n")
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def prepare_environment(env: dict) -> subprocess.Popen | None:
    var_dir = Path(env.get("TICKETGATE_VAR_DIR", DEFAULT_VAR_DIR))
    var_dir.mkdir(parents=True, exist_ok=True)
    env.setdefault("TICKETGATE_API_KEY", demo_key(var_dir))
    env.setdefault("TICKETGATE_CHAT_SECRET", demo_key(var_dir, "demo-chat-secret"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    redis_process = None
    if "REDIS_URL" not in env:
        redis_process, env["REDIS_URL"] = embedded_redis.start(var_dir / "redis")
    return redis_process


def banner(settings) -> str:
    config = load_config(settings.config_path)
    addresses = ", ".join(f"*@{d}" for w in config.workspaces for d in w.domains)
    web = f"http://127.0.0.1:{settings.port}"
    first = config.workspaces[0].slug
    mailboxes = sum(len(w.channels.mailboxes) for w in config.workspaces)
    bots = sum(len(w.channels.telegram) for w in config.workspaces)
    return "\n".join([
        "ticketgate is starting:",
        f"  REST API      {web}/api/v1/tickets",
        f"  health        {web}/readyz   metrics: /metrics",
        f"  SMTP          {settings.smtp_host}:{settings.smtp_port}  (accepts {addresses})",
        f"  IMAP          {mailboxes} mailbox(es) polled",
        f"  contact form  {web}/contact/{first}",
        f"  chat widget   {web}/chat/{first}   webhook: POST {web}/hooks/chat/{first}",
        f"  Telegram      POST {web}/hooks/telegram/<workspace>/<bot>  ({bots} bot(s))",
        f"  inbound mail  POST {web}/hooks/inbound/mailgun|sendgrid|postmark/<workspace>",
        f"  Redis         {settings.redis_url}",
        f"  store         {settings.database_url}",
        f"  demo API key  {settings.api_key}",
        f"  try: curl -H 'Authorization: Bearer {settings.api_key}' "
        f"http://127.0.0.1:{settings.port}/api/v1/tickets",
    ])


def main() -> int:
    env = dict(os.environ)
    redis_process = prepare_environment(env)
    try:
        settings = load_settings(env)
        load_config(settings.config_path)  # fail early, naming the bad key
        upgrade(settings.database_url)
        print(banner(settings), flush=True)
        return run_procfile(env, settings.port)
    finally:
        if redis_process:
            redis_process.terminate()
            redis_process.wait()


def run_procfile(env: dict, port: int) -> int:
    """Run honcho until it ends or we are told to stop (Ctrl-C or SIGTERM: stop it first)."""
    command = [sys.executable, "-m", "honcho", "start", "-f", str(PROJECT_DIR / "Procfile"),
               "-p", str(port)]
    honcho = subprocess.Popen(command, env=env, cwd=PROJECT_DIR)
    signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
    while True:
        try:
            return honcho.wait()
        except KeyboardInterrupt:  # honcho got the Ctrl-C too and is stopping its processes
            continue


if __name__ == "__main__":
    sys.exit(main())

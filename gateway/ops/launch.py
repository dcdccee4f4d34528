"""`make run`: start the whole system on embedded defaults and say where everything listens.

Without REDIS_URL an embedded redis-server (persistent AOF under var/redis) is started; without
DATABASE_URL the store is SQLite in var/. The database is migrated, then honcho runs every
process of the Procfile. Ctrl-C stops them all; queued work survives in the AOF.

Demo secrets: the demo workspace's API key and chat secret come from TICKETGATE_API_KEY and
TICKETGATE_CHAT_SECRET when they are set (then no file is written), else from var/demo-api-key
and var/demo-chat-secret (generated on first run, mode 600). The banner says which is in force.

Worker processes per queue: as many email workers as the machine has cores (``EMAIL_WORKERS``
sets another number), one per other queue (``FORM_WORKERS``, ``CHAT_WORKERS``,
``TELEGRAM_WORKERS``, ``OUTBOUND_WORKERS``); honcho runs that many of each Procfile line and the
banner says how many run.

Nothing outlives the launcher: honcho and redis-server get SIGTERM from the kernel when it
exits, even by SIGKILL (``config.supervision``), and honcho then stops every process as on
Ctrl-C. Should honcho die without doing so, its processes become the launcher's (subreaper),
which stops them before it exits. TICKETGATE_VAR_DIR, PORT and SMTP_PORT move everything
elsewhere (tests use them).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from config.logs import redact
from config.private_files import make_private_folder, read_or_create_secret
from config.settings import DEFAULT_VAR_DIR, PROJECT_DIR, load_settings
from config.workspaces import load_config
from gateway.ops import embedded_redis
from config import supervision
from store.migrate import upgrade

# Procfile worker line -> the environment variable that says how many of it run.
WORKER_SCALE = {"worker_email": "EMAIL_WORKERS", "worker_form": "FORM_WORKERS",
                "worker_chat": "CHAT_WORKERS", "worker_telegram": "TELEGRAM_WORKERS",
                "worker_outbound": "OUTBOUND_WORKERS"}
SCALED_BY_CORES = "worker_email"  # the busiest queue: one process per core unless told otherwise
# Environment variable -> the file under var/ that holds its generated value when it is unset.
DEMO_SECRETS = {"TICKETGATE_API_KEY": "demo-api-key", "TICKETGATE_CHAT_SECRET": "demo-chat-secret"}


@dataclass(frozen=True)
class SecretSource:
    """Where the value in force of ``variable`` comes from: its file, or the environment."""
    variable: str
    file: Path
    from_environment: bool

    def describe(self) -> str:
        if not self.from_environment:
            return f"{shown(self.file)} (generated on first run)"
        stale = f"; {shown(self.file)} is older and NOT accepted" if self.file.exists() else ""
        return f"${self.variable} (environment){stale}"

    def shell_value(self) -> str:
        """What a shell command puts where the secret goes."""
        return f"${self.variable}" if self.from_environment else f"$(cat {shown(self.file)})"


def shown(path: Path) -> str:
    """``path`` relative to the project folder (where `make run` runs) when it is inside."""
    try:
        return str(path.resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def provide_secrets(env: dict, var_dir: Path) -> dict[str, SecretSource]:
    """Each demo secret from ``env`` when set there, else from its file (made on first run)."""
    sources = {}
    for variable, name in DEMO_SECRETS.items():
        from_environment = bool(env.get(variable))
        if not from_environment:
            env[variable] = read_or_create_secret(var_dir / name)
        sources[variable] = SecretSource(variable, var_dir / name, from_environment)
    return sources


def prepare_environment(env: dict) -> tuple[subprocess.Popen | None, dict[str, SecretSource]]:
    var_dir = Path(env.get("TICKETGATE_VAR_DIR", DEFAULT_VAR_DIR))
    make_private_folder(var_dir)
    sources = provide_secrets(env, var_dir)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    redis_process = None
    if "REDIS_URL" not in env:
        redis_process, env["REDIS_URL"] = embedded_redis.start(var_dir / "redis")
    return redis_process, sources


def cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow)."""
    return len(os.sched_getaffinity(0))


def worker_counts(env: dict) -> dict[str, int]:
    """How many processes of each Procfile worker line run: from its variable, else the default
    (cores for email, 1 for the others). A value that is no positive whole number is refused."""
    counts = {}
    for line, variable in WORKER_SCALE.items():
        default = cores() if line == SCALED_BY_CORES else 1
        value = env.get(variable, "").strip() or str(default)
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"{variable}={value!r}: give a whole number of processes, 1 or more")
        counts[line] = int(value)
    return counts


def describe_workers(counts: dict[str, int]) -> list[str]:
    """The banner's lines: processes per queue, and the variables that change them."""
    each = ", ".join(f"{line.removeprefix('worker_')} {count}" for line, count in counts.items())
    return [f"  workers       {each} process(es); {cores()} core(s)",
            f"                (set with {', '.join(WORKER_SCALE.values())})"]


def honcho_concurrency(counts: dict[str, int]) -> str:
    """honcho's ``-c`` value: how many processes of each Procfile line run."""
    return ",".join(f"{line}={count}" for line, count in counts.items())


def banner(settings, sources: dict[str, SecretSource], counts: dict[str, int] | None = None) -> str:
    config = load_config(settings.config_path)
    addresses = ", ".join(f"*@{d}" for w in config.workspaces for d in w.domains)
    web = f"http://127.0.0.1:{settings.port}"
    first = config.workspaces[0].slug
    mailboxes = sum(len(w.channels.mailboxes) for w in config.workspaces)
    bots = sum(len(w.channels.telegram) for w in config.workspaces)
    scrape = "  (Bearer $METRICS_TOKEN)" if settings.metrics_token else ""
    ops = "(log in with $OPS_TOKEN)" if settings.ops_token else "(off: set OPS_TOKEN to turn it on)"
    api_key, chat_secret = sources["TICKETGATE_API_KEY"], sources["TICKETGATE_CHAT_SECRET"]
    counts = counts if counts is not None else worker_counts(dict(os.environ))
    return "\n".join([
        "ticketgate is starting:",
        f"  REST API      {web}/api/v1/tickets",
        f"  health        {web}/healthz   ready: /readyz   metrics: /metrics{scrape}",
        f"  ops dashboard {web}/ops  {ops}",
        f"  SMTP          {settings.smtp_host}:{settings.smtp_port}  (accepts {addresses})",
        f"  IMAP          {mailboxes} mailbox(es) polled",
        f"  contact form  {web}/contact/{first}",
        f"  chat widget   {web}/chat/{first}   webhook: POST {web}/hooks/chat/{first}",
        f"  Telegram      POST {web}/hooks/telegram/<workspace>/<bot>  ({bots} bot(s))",
        f"  inbound mail  POST {web}/hooks/inbound/mailgun|sendgrid|postmark/<workspace>",
        f"  Redis         {redact(settings.redis_url)}",
        f"  store         {redact(settings.database_url)}",
        *describe_workers(counts),
        f"  demo API key  {api_key.describe()}",
        f"  chat secret   {chat_secret.describe()}",
        f"  try: curl -H \"Authorization: Bearer {api_key.shell_value()}\" {web}/api/v1/tickets",
    ])


def main() -> int:
    supervision.become_subreaper()
    env = dict(os.environ)
    counts = worker_counts(env)  # a bad number stops us before anything starts
    redis_process, sources = prepare_environment(env)
    try:
        settings = load_settings(env)
        load_config(settings.config_path)  # fail early, naming the bad key
        upgrade(settings.database_url)
        print(banner(settings, sources, counts), flush=True)
        return run_procfile(env, settings.port, counts)
    finally:  # whatever honcho left running (it was killed) is ours now: stop it, then Redis
        supervision.stop_descendants(keep={redis_process.pid} if redis_process else set())
        if redis_process:
            redis_process.terminate()
            redis_process.wait()


def run_procfile(env: dict, port: int, counts: dict[str, int]) -> int:
    """Run honcho until it ends or we are told to stop (Ctrl-C or SIGTERM: stop it first).
    If we die without stopping it, the kernel sends it SIGTERM (``supervision``)."""
    command = [sys.executable, "-m", "honcho", "start", "-f", str(PROJECT_DIR / "Procfile"),
               "-p", str(port), "-c", honcho_concurrency(counts)]
    honcho = subprocess.Popen(command, env=env, cwd=PROJECT_DIR,
                              preexec_fn=supervision.preexec())
    signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
    while True:
        try:
            return honcho.wait()
        except KeyboardInterrupt:  # honcho got the Ctrl-C too and is stopping its processes
            continue


if __name__ == "__main__":
    sys.exit(main())

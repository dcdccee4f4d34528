"""Process settings, read from the environment once (12-factor), with documented defaults.

Nothing reads the environment at import time: call ``load_settings()`` where a process starts and
pass the result down.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_DIR / "var"          # embedded data: SQLite file, Redis AOF, blobs
DEFAULT_PORT = 8000                            # HTTP port of the web process
DEFAULT_SMTP_HOST = "127.0.0.1"
DEFAULT_SMTP_PORT = 2525
DEFAULT_SMTP_SIZE_LIMIT = 32 * 1024 * 1024     # bytes; larger mail gets 552 (SIZE is advertised)
DEFAULT_SMTP_MAX_SESSIONS = 200                # open SMTP sessions per edge process; more get 421
DEFAULT_SMTP_MAX_SESSIONS_PER_IP = 20          # open SMTP sessions per client address; more get 421
DEFAULT_SMTP_COMMAND_TIMEOUT = 300             # seconds from one SMTP command to the next (RFC 5321)
DEFAULT_SMTP_SESSION_TIMEOUT = 600             # seconds an SMTP connection may last in all
DEFAULT_SMTP_DATA_RATE = 1024 * 1024           # bytes/s one SMTP session's DATA is read at past 1 MiB
DEFAULT_SMTP_DATA_RATE_TOTAL = 4 * 1024 * 1024  # bytes/s of such DATA, all sessions together
DEFAULT_CONFIG = PROJECT_DIR / "config" / "ticketgate.yaml"
DEFAULT_MESSAGE_CPU_BUDGET_S = 5.0             # CPU seconds normalizing one message may take


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about its surroundings."""
    redis_url: str
    database_url: str
    port: int = DEFAULT_PORT
    smtp_host: str = DEFAULT_SMTP_HOST
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_size_limit: int = DEFAULT_SMTP_SIZE_LIMIT
    smtp_max_sessions: int = DEFAULT_SMTP_MAX_SESSIONS
    smtp_max_sessions_per_ip: int = DEFAULT_SMTP_MAX_SESSIONS_PER_IP
    smtp_command_timeout: float = DEFAULT_SMTP_COMMAND_TIMEOUT
    smtp_session_timeout: float = DEFAULT_SMTP_SESSION_TIMEOUT
    smtp_data_rate: float = DEFAULT_SMTP_DATA_RATE
    smtp_data_rate_total: float = DEFAULT_SMTP_DATA_RATE_TOTAL
    config_path: str = str(DEFAULT_CONFIG)
    api_key: str = ""
    blob_dir: str = str(DEFAULT_VAR_DIR / "blobs")
    smtp_relay_url: str = ""
    smtp_tls_cert: str = ""                    # PEM files; both set: STARTTLS is offered
    smtp_tls_key: str = ""
    proxy_hops: int = 0                        # reverse proxies in front of the web process
    message_cpu_budget_s: float = DEFAULT_MESSAGE_CPU_BUDGET_S  # over it: too_expensive
    metrics_token: str = ""                    # set: /metrics and /readyz need it as Bearer
    ops_token: str = ""                        # set: the ops dashboard /ops is on, behind it


def load_settings(environ: dict | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("TICKETGATE_VAR_DIR", DEFAULT_VAR_DIR))
    return Settings(
        redis_url=env.get("REDIS_URL", f"unix://{var_dir / 'redis.sock'}"),
        database_url=env.get("DATABASE_URL", f"sqlite:///{var_dir / 'ticketgate.db'}"),
        port=int(env.get("PORT", DEFAULT_PORT)),
        smtp_host=env.get("SMTP_HOST", DEFAULT_SMTP_HOST),
        smtp_port=int(env.get("SMTP_PORT", DEFAULT_SMTP_PORT)),
        smtp_size_limit=int(env.get("SMTP_SIZE_LIMIT", DEFAULT_SMTP_SIZE_LIMIT)),
        smtp_max_sessions=int(env.get("SMTP_MAX_SESSIONS", DEFAULT_SMTP_MAX_SESSIONS)),
        smtp_max_sessions_per_ip=int(env.get("SMTP_MAX_SESSIONS_PER_IP",
                                             DEFAULT_SMTP_MAX_SESSIONS_PER_IP)),
        smtp_command_timeout=float(env.get("SMTP_COMMAND_TIMEOUT", DEFAULT_SMTP_COMMAND_TIMEOUT)),
        smtp_session_timeout=float(env.get("SMTP_SESSION_TIMEOUT", DEFAULT_SMTP_SESSION_TIMEOUT)),
        smtp_data_rate=float(env.get("SMTP_DATA_RATE", DEFAULT_SMTP_DATA_RATE)),
        smtp_data_rate_total=float(env.get("SMTP_DATA_RATE_TOTAL", DEFAULT_SMTP_DATA_RATE_TOTAL)),
        config_path=env.get("TICKETGATE_CONFIG", str(DEFAULT_CONFIG)),
        api_key=env.get("TICKETGATE_API_KEY", ""),
        blob_dir=env.get("BLOB_DIR", str(var_dir / "blobs")),
        smtp_relay_url=env.get("SMTP_RELAY_URL", ""),
        smtp_tls_cert=env.get("SMTP_TLS_CERT", ""),
        smtp_tls_key=env.get("SMTP_TLS_KEY", ""),
        proxy_hops=int(env.get("TRUSTED_PROXY_HOPS", 0)),
        message_cpu_budget_s=float(env.get("MESSAGE_CPU_BUDGET_S",
                                           DEFAULT_MESSAGE_CPU_BUDGET_S)),
        metrics_token=env.get("METRICS_TOKEN", ""),
        ops_token=env.get("OPS_TOKEN", ""),
    )

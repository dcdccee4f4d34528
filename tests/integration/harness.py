"""Real processes for integration tests: the aiosmtpd edge in a thread, RQ workers as processes."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml
from aiosmtpd.controller import Controller

from queues.intake import Intake
from gateway.edges.smtp.server import SmtpEdge, smtp_factory

PROJECT_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EdgeController(Controller):
    """aiosmtpd's threaded controller serving our edge with our SMTP settings."""

    def __init__(self, handler, size_limit: int, tls=None, **kwargs):
        self.size_limit, self.tls = size_limit, tls
        super().__init__(handler, hostname="127.0.0.1", port=free_port(), **kwargs)

    def factory(self):
        return smtp_factory(self.handler, self.size_limit, self.tls)()


@contextmanager
def smtp_edge(runtime, size_limit: int = 1024 * 1024, tls=None, **intake_options):
    intake = Intake(runtime.redis, **intake_options)
    controller = EdgeController(SmtpEdge(runtime.config, intake), size_limit, tls)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def process_env(runtime, tmp_path) -> dict:
    config_file = tmp_path / "workspaces.yaml"
    config_file.write_text(yaml.safe_dump(runtime.config.model_dump(mode="json")))
    return {**os.environ, "REDIS_URL": runtime.settings.redis_url,
            "DATABASE_URL": runtime.settings.database_url, "BLOB_DIR": runtime.settings.blob_dir,
            "TICKETGATE_CONFIG": str(config_file), "PYTHONPATH": str(PROJECT_DIR)}


class LoggedProcess(subprocess.Popen):
    """A child whose output (stdout and stderr) goes to a temporary file, not a pipe.

    A pipe nobody reads until ``communicate`` fills at 64 KiB (seven logged tracebacks of a
    worker retrying through a database outage) and blocks the child in its next log write: the
    worker then stored nothing until the test gave up (test_database_outage, on a busy machine).
    ``communicate`` waits for the exit and returns ``(output, None)`` as with a pipe."""

    def __init__(self, args, **kwargs):
        self.output_file = tempfile.TemporaryFile()
        super().__init__(args, stdout=self.output_file, stderr=subprocess.STDOUT, **kwargs)

    def communicate(self, input=None, timeout=None):
        self.wait(timeout)
        self.output_file.seek(0)
        return self.output_file.read(), None


def start_worker(env: dict, queue: str = "email", burst: bool = True,
                 module: str = "workers.run") -> LoggedProcess:
    args = [sys.executable, "-m", module, queue] + (["--burst"] if burst else [])
    # Own process group: RQ's scheduler runs in a child process that must die with the worker.
    return LoggedProcess(args, env=env, cwd=PROJECT_DIR, start_new_session=True)


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the worker and its scheduler child, as a crashed machine would."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def run_workers(env: dict, count: int = 1, timeout: float = 60) -> None:
    workers = [start_worker(env) for _ in range(count)]
    for worker in workers:
        output, _ = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, output.decode(errors="replace")[-3000:]

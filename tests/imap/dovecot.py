"""A private Dovecot IMAP server for tests and benchmarks, run from one generated config file.

``Dovecot(root).start()`` writes ``root/dovecot.conf`` and runs ``dovecot -F -c`` on 127.0.0.1 at
a free high port: plaintext login (no TLS), a passwd-file of test users, maildirs, sockets,
state and logs all under ``root``. It works as root (CI) and as an ordinary user. As root the
mail processes run as ``nobody``, so a test can make one message file unreadable to Dovecot.
Dovecot 2.3 and 2.4 (whose settings were renamed) each get their own config syntax.
"""
from __future__ import annotations

import os
import grp
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "imap-test-password"
START_TIMEOUT_S = 20


def binary() -> str | None:
    """The dovecot executable, or None (it lives in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    return found


def version(executable: str) -> tuple[int, int]:
    out = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    match = re.match(r"(\d+)\.(\d+)", out.strip())
    return (int(match.group(1)), int(match.group(2))) if match else (2, 3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


COMMON_23 = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{chroot}}}
{anvil}"""

COMMON_24 = """\
dovecot_config_version = {version}
dovecot_storage_version = {version}
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
mail_driver = maildir
mail_path = ~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mailbox_idle_check_interval = 1 secs
passdb passwd-file {{
  passwd_file_path = {root}/users/%{{user}}
  default_password_scheme = PLAIN
}}
userdb static {{
  fields {{
    uid = {uid}
    gid = {gid}
    home = {root}/home/%{{user}}
  }}
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{chroot}}}
{anvil}"""


class Dovecot:
    """One Dovecot instance under ``root`` (a directory every process user can traverse)."""

    def __init__(self, root: Path, executable: str | None = None):
        self.root = Path(root)
        self.executable = executable or binary()
        if not self.executable:
            raise FileNotFoundError("dovecot is not installed (Debian: dovecot-imapd)")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.users: set[str] = set()
        self._prepare()

    @property
    def config_file(self) -> Path:
        return self.root / "dovecot.conf"

    def _prepare(self) -> None:
        for sub in ("run", "state", "home", "users"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:  # mail processes run as nobody: it must own the homes
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root / "home", nobody.pw_uid, nobody.pw_gid)
        self.config_file.write_text(self._config())

    def _config(self) -> str:
        major, minor = version(self.executable)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            values = dict(uid=nobody.pw_uid, gid=nobody.pw_gid, login_user="dovenull",
                          internal_user="dovecot", internal_group="dovecot", chroot="",
                          anvil="")
        else:  # rootless: every service runs as us, and nothing may chroot
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            values = dict(uid=os.getuid(), gid=os.getgid(), login_user=user, internal_user=user,
                          internal_group=group, chroot="  chroot =\n", anvil="service anvil {\n  chroot =\n}\n")
        template = COMMON_24 if (major, minor) >= (2, 4) else COMMON_23
        return template.format(root=self.root, port=self.port, version=f"{major}.{minor}.0",
                               **values)

    def start(self) -> None:
        log = open(self.root / "dovecot.stdout", "ab")
        self.process = subprocess.Popen([self.executable, "-F", "-c", str(self.config_file)],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited {self.process.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    if conn.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # the master stops its children itself
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        text = ""
        for name in ("dovecot.stdout", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def add_user(self, name: str, password: str = PASSWORD) -> str:
        """Add a user (a passwd-file of its own: Dovecot caches a file it has read); returns
        ``name``."""
        (self.root / "users" / name).write_text(f"{name}:{{PLAIN}}{password}\n")
        self.users.add(name)
        return name

    def kick(self, user: str) -> None:
        """Disconnect every session of ``user``, as a server going away would."""
        subprocess.run(["doveadm", "-c", str(self.config_file), "kick", user],
                       check=True, capture_output=True)

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def client(self, user: str, password: str = PASSWORD) -> IMAPClient:
        client = IMAPClient("127.0.0.1", self.port, ssl=False, timeout=30)
        client.login(user, password)
        return client

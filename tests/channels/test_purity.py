"""The channel adapters are pure by construction: no module of ``channels`` imports what reads
the environment, touches files or the network, or reaches the settings (``config``). Keys and
settings come in as arguments (``config.signing`` reads the signing keys for the callers)."""
import ast
from pathlib import Path

import channels

IMPURE = {"os", "pathlib", "io", "shutil", "tempfile", "socket", "subprocess", "urllib.request",
          "http", "smtplib", "imaplib", "redis", "sqlalchemy", "requests", "httpx", "config",
          "store", "queues", "clients", "tickets", "gateway", "workers"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def impure(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in IMPURE)


def test_no_channel_module_imports_io_environment_or_settings():
    root = Path(channels.__file__).parent
    offenders = {str(path.relative_to(root)): sorted(filter(impure, imported_modules(path)))
                 for path in sorted(root.rglob("*.py"))}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_check_sees_an_impure_import():
    assert impure("os") and impure("config.signing") and impure("urllib.request")
    assert not impure("email.utils") and not impure("osmium") and not impure("urllib.parse")

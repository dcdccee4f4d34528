"""The routing engine depends on nothing of ours but itself: not on the settings or the workspace
file (``config`` imports routing's schema types, never the reverse), not on the simulator beside
it (``simulation``), not on the store, channels, edges or workers."""
import ast
from pathlib import Path

import routing

FORBIDDEN = {"config", "simulation", "store", "channels", "queues", "clients", "tickets",
             "gateway", "workers"}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_no_routing_module_imports_config_the_simulator_or_the_edges():
    root = Path(routing.__file__).parent
    offenders = {str(path.relative_to(root)): sorted(imported_packages(path) & FORBIDDEN)
                 for path in sorted(root.rglob("*.py"))}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_check_sees_a_function_level_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from config.settings import load_settings\n")
    assert imported_packages(module) == {"config"}

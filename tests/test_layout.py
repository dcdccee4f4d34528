"""The layout holds: no import cycle between files or between packages, and the pure cores
(channels, routing, store) and the shared layers (queues, tickets, clients) never import an
edge or a worker. Imports are read from the source with ast, those inside functions included."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("channels", "routing", "simulation", "store", "config", "queues", "clients",
            "tickets", "gateway", "workers")
# package -> the packages it must never import
FORBIDDEN = {
    "channels": {"gateway", "workers", "store", "routing", "tickets", "queues", "clients"},
    "routing": {"gateway", "workers", "store", "channels", "config", "tickets", "queues",
                "clients", "simulation"},
    "store": {"gateway", "workers", "tickets", "queues", "clients"},
    "config": {"gateway", "workers", "tickets", "queues", "clients", "store"},
    "queues": {"gateway", "workers", "tickets"},
    "clients": {"gateway", "workers", "tickets"},
    "tickets": {"gateway", "workers"},
    "gateway": {"workers"},
    "workers": {"gateway"},
}


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = module_files()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; the components with more than one member."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop(); on_stack.discard(member); component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]; counter[0] += 1
                stack.append(child); on_stack.add(child)
                work.append((child, iter(edges.get(child, ()))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def package_graph(files: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for name, targets in files.items():
        top = name.split(".")[0]
        packages.setdefault(top, set()).update(t.split(".")[0] for t in targets
                                               if t.split(".")[0] != top)
    return packages


def test_the_check_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_files():
    assert strongly_connected(graph()) == []


def test_no_import_cycle_between_packages():
    assert strongly_connected(package_graph(graph())) == []


def test_no_package_imports_what_it_must_not():
    broken = sorted(f"{package} -> {target}"
                    for package, targets in package_graph(graph()).items()
                    for target in targets & FORBIDDEN.get(package, set()))
    assert broken == []

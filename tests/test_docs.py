"""What a newcomer reads is what is there: the README and docs/ stand on their own (no reference to
a document the repository does not have), their links lead to files that exist, and every
``python -m`` command and ``make`` target they give can be run."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MODULE_COMMAND = re.compile(r"python3? -m ([A-Za-z_][\w.]*)")
MAKE_COMMAND = re.compile(r"(?:^|`)make ([a-z]+)", re.MULTILINE)
OUTSIDE_DOCUMENTS = ("PRODUCT.md", "STYLE.md")  # the project's own notes, not in the repository


def page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_a_page_names_no_document_outside_the_repository(page):
    text = page.read_text()
    assert not [name for name in OUTSIDE_DOCUMENTS if name in text]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_leads_to_a_file(page):
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]
    assert [t for t in targets if not (page.parent / t).exists()] == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_python_m_command_names_a_runnable_module(page):
    for name in set(MODULE_COMMAND.findall(page.read_text())) - {"pytest", "honcho"}:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        if spec.submodule_search_locations:  # a package runs its __main__
            assert importlib.util.find_spec(f"{name}.__main__") is not None, name
        else:
            assert '__name__ == "__main__"' in Path(spec.origin).read_text(), name


def test_every_make_target_the_readme_gives_exists():
    targets = set(re.findall(r"^([a-z]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(MAKE_COMMAND.findall((ROOT / "README.md").read_text()))
    assert named and named <= targets

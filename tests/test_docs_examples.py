"""The documentation's code is run: every ```python block on a page executes, in order, in
one namespace per page (a page reads like a session). A block preceded by
``<!-- no-test -->`` is skipped; only examples that need a running server are marked so.
The site itself must build with ``mkdocs build --strict``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NO_TEST = "<!-- no-test -->"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
PAGES = sorted(DOCS.glob("*.md"))


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """(first line number, code) of each runnable block, skipping marked ones."""
    text = page.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip()
        if before.endswith(NO_TEST):
            continue
        first_line = text.count("\n", 0, match.start(1)) + 1
        blocks.append((first_line, match.group(1)))
    return blocks


def test_pages_exist_and_have_examples() -> None:
    names = {page.name for page in PAGES}
    required = {"index.md", "concepts.md", "triggers.md", "cron.md", "executors.md", "stores.md", "asgi.md"}
    required |= {"configuration.md", "plugins.md", "deployment.md", "migrating.md", "api.md"}
    assert required <= names
    assert sum(len(python_blocks(page)) for page in PAGES) >= 20


def test_only_server_examples_are_skipped() -> None:
    """The skip marker is rare and each skipped block says why it cannot run here."""
    skipped = [(page.name, text) for page in PAGES for text in page.read_text().split(NO_TEST)[1:]]
    assert len(skipped) <= 6, f"too many untested examples: {[name for name, _ in skipped]}"


@pytest.fixture(scope="session")
def business_days_plugin() -> None:
    """The plugin page uses the business-days distribution by alias: install it as its
    reader would (the same install tests/test_plugin_business_days.py does)."""
    from asyncz_like import plugins

    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    result = subprocess.run([*command, str(ROOT / "plugins" / "business-days")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    plugins.refresh()


EXAMPLE_PAGES = [page for page in PAGES if FENCE.search(page.read_text())]


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[page.name for page in EXAMPLE_PAGES])
def test_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, business_days_plugin: None
) -> None:
    blocks = python_blocks(page)
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for first_line, code in blocks:
        # Pad so tracebacks show the line number on the page itself.
        compiled = compile("\n" * (first_line - 1) + code, str(page), "exec")
        exec(compiled, namespace)


def test_site_builds_strictly(tmp_path: Path) -> None:
    if shutil.which("mkdocs") is None and not _importable("mkdocs"):
        pytest.skip("mkdocs is not installed (it is in the 'docs' and 'test' extras)")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api" / "index.html").exists()


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None

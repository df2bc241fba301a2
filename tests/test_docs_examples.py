"""The documentation's code is run: every ```python block on a page executes, in order, in
one namespace per page (a page reads like a session). A block preceded by
``<!-- no-test -->`` is skipped; only examples that need a running server are marked so.
The page's namespace is a real module while it runs (``docs_<page>``), so functions a page
defines can be kept in a persistent store by reference, as in an application. A page that
needs a server gets its URL the way an application would, from the environment
(``PAGE_SERVERS``). The README's examples run too, and its links stay inside the
repository. The site itself must build with ``mkdocs build --strict``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    required |= {"production.md", "architecture.md"}
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
#: page -> the environment variable it reads a server's URL from, and the server
PAGE_SERVERS = {"production.md": ("DATABASE_URL", "postgres")}


@pytest.fixture
def page_servers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Set the environment a page expects (``DATABASE_URL``) to a real test server: a
    PostgreSQL schema of this test's own, dropped afterwards."""
    page: Path = request.getfixturevalue("page")
    wanted = PAGE_SERVERS.get(page.name)
    if wanted is None:
        yield
        return
    variable, kind = wanted
    assert kind == "postgres"
    from tests.stores.conftest import server_url

    url = server_url(kind)  # skips (or fails under CI) without the server
    with _postgres_schema(url) as schema_url:
        monkeypatch.setenv(variable, schema_url)
        yield


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[page.name for page in EXAMPLE_PAGES])
def test_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, business_days_plugin: None, page_servers: None
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    run_blocks(page, python_blocks(page), f"docs_{page.stem}")


def run_blocks(page: Path, blocks: list[tuple[int, str]], module_name: str) -> dict[str, object]:
    """Run ``blocks`` in order in one module registered as ``module_name``; its namespace."""
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    try:
        for first_line, code in blocks:
            # Pad so tracebacks show the line number on the page itself.
            compiled = compile("\n" * (first_line - 1) + code, str(page), "exec")
            exec(compiled, module.__dict__)
    finally:
        del sys.modules[module_name]
    return module.__dict__


class _postgres_schema:
    """A fresh PostgreSQL schema; the context gives the URL whose connections use it."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.schema = f"docs_{uuid.uuid4().hex[:12]}"
        self.engine = create_engine(url)
        search_path = {"options": f"-csearch_path={self.schema}"}
        self.url = make_url(url).update_query_dict(search_path).render_as_string(hide_password=False)

    def __enter__(self) -> str:
        from sqlalchemy import text

        with self.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        return self.url

    def __exit__(self, *exc_info: object) -> None:
        from sqlalchemy import text

        with self.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.engine.dispose()


README = ROOT / "README.md"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_the_site_config_names_no_made_up_repository() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    assert ".invalid" not in config and "example.com" not in config


def test_readme_links_stay_inside_the_repository() -> None:
    """A clone has only the repository: every relative link resolves to a file in it."""
    targets = [target for target in LINK.findall(README.read_text()) if "://" not in target]
    assert targets, "the README links to the docs"
    for target in targets:
        path = (ROOT / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{target} points outside the repository"
        assert path.exists(), f"{target} does not exist"
    assert not [target for target in LINK.findall(README.read_text()) if target.startswith("http")]


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every README example is a program of its own and runs; the persistent one twice (a
    restart must not fail), and the ASGI app serves its lifespan and its route."""
    from starlette.testclient import TestClient

    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(README)
    assert len(blocks) >= 4
    apps = []
    for block in blocks:
        names = run_blocks(README, [block], "docs_readme")
        if "replace_existing=True" in block[1] and "sqlite" in block[1]:
            run_blocks(README, [block], "docs_readme")  # the second start finds the task and updates it
        if "app" in names:
            apps.append(names["app"])
    assert (tmp_path / "tasks.db").exists()
    assert len(apps) == 1
    app: Any = apps[0]
    with TestClient(app) as client:
        assert app.scheduler.running
        assert [task["id"] for task in client.get("/tasks").json()] == ["refresh-cache"]
    assert not app.scheduler.running


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

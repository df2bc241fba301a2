"""The API reference is complete: every public class, method and function has a docstring
and appears in it; internals do not.

*Public* means what a user can reach by the documented import paths: the names in
``asyncz_like.__all__`` and in the ``__all__`` of its public subpackages, the store classes
``asyncz_like.stores`` exports, every built-in plugin class registered as an entry point,
and the public names of the modules users import directly (``abc``, ``plugins``,
``exceptions``, ``asgi``). A public class's public methods and properties are those
defined in asyncz_like code (pydantic, enum and exception machinery aside).

The reference is the set of ``::: object`` directives in ``docs/api.md`` and
``docs/api/**/*.md``. A directive's ``filters`` option keeps internals (``wakeup``,
``run_store_io``, ...) out of it; those, and only those, may go without a docstring. The
site is built to check that each public method has its anchor in the pages and that no
internal one does.
"""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
API_PAGES = [ROOT / "docs" / "api.md", *sorted((ROOT / "docs" / "api").rglob("*.md"))]
DIRECTIVE = re.compile(r"^::: *([\w.]+)[ \t]*\n((?:[ \t]+\S.*\n?)*)", re.M)

#: modules whose public names are API even without ``__all__``
MODULES = ["asyncz_like.abc", "asyncz_like.plugins", "asyncz_like.exceptions", "asyncz_like.asgi"]
#: packages whose ``__all__`` is API
PACKAGES = [
    "asyncz_like",
    "asyncz_like.schedulers",
    "asyncz_like.tasks",
    "asyncz_like.triggers",
    "asyncz_like.executors",
    "asyncz_like.events",
    "asyncz_like.stores",
    "asyncz_like.serializers",
    "asyncz_like.utils",
    "asyncz_like.observability",
]
#: the internals the issue found listed in the reference; they must stay out of it
KNOWN_INTERNALS = {
    "wakeup",
    "wakeup_at",
    "run_store_io",
    "flush_store_io",
    "run_finished",
    "wakeup_if_earlier",
    "renew_leases",
    "poll_stores",
    "announce",
    "watch_store",
    "start_driver",
    "stop_driver",
    "start_timer",
    "stop_timer",
    "real_add_task",
}
#: members that come from pydantic models, enums and exceptions, not from our code
FOREIGN = re.compile(r"^(model_\w+|with_traceback|add_note|args)$")


#: definition path -> the public paths it is exported under (``asyncz_like.Task``, ...)
EXPORTED_AS: dict[str, set[str]] = {}


@cache
def public_objects() -> dict[str, Any]:
    """Dotted name (where it is defined) -> every public class and function."""
    found: dict[str, Any] = {}

    def add(obj: Any, public_path: str) -> None:
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__.startswith("asyncz_like"):
            path = f"{obj.__module__}.{obj.__qualname__}"
            found[path] = obj
            EXPORTED_AS.setdefault(path, set()).add(public_path)

    for name in PACKAGES:
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", []):
            add(getattr(module, attribute), f"{name}.{attribute}")
    stores = importlib.import_module("asyncz_like.stores")
    for attribute in stores._LAZY:
        add(getattr(stores, attribute), f"asyncz_like.stores.{attribute}")
    for name in MODULES:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if not attribute.startswith("_") and getattr(value, "__module__", None) == name:
                add(value, f"{name}.{attribute}")
    from importlib.metadata import entry_points

    for group in ("asyncz_like.triggers", "asyncz_like.executors", "asyncz_like.stores"):
        for entry_point in entry_points(group=group):
            if entry_point.value.startswith("asyncz_like."):
                add(entry_point.load(), entry_point.value.replace(":", "."))
    return found


def own_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` itself defines."""
    for name, value in vars(cls).items():
        if name.startswith("_") or FOREIGN.match(name):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        function = value.fget if isinstance(value, property) else value
        if not inspect.isfunction(function):
            continue
        if function.__qualname__.startswith(f"{cls.__qualname__}."):  # not a wrapper made at run time
            yield name, value


def is_scheduler(cls: type) -> bool:
    """The internals named above are the schedulers' (a store's ``announce`` is its contract)."""
    return cls.__module__.startswith("asyncz_like.schedulers")


def docstring_of(value: Any) -> str:
    target = value.fget if isinstance(value, property) else value
    return (target.__doc__ or "").strip() if target is not None else ""


def documented_docstring(cls: type, name: str) -> str:
    """The docstring the reference shows for ``cls.name``: its own, or else the one of the
    same member in the nearest asyncz_like base class (the griffe_inherited_docstrings
    extension fills it in, as ``inspect.getdoc`` does)."""
    for base in cls.__mro__:
        if base.__module__.startswith("asyncz_like") and name in vars(base):
            value = vars(base)[name]
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            text = docstring_of(value)
            if text:
                return text
    return ""


class Directive:
    """One ``::: path`` of the reference and the members its filters hide."""

    def __init__(self, path: str, options: dict[str, Any], page: Path, global_filters: list[str]) -> None:
        self.path, self.page = path, page
        filters = options.get("filters", global_filters)
        self.hidden = [re.compile(f[1:]) for f in filters if f.startswith("!")]
        self.shown = [re.compile(f) for f in filters if not f.startswith("!")]

    def shows(self, member: str) -> bool:
        if any(pattern.search(member) for pattern in self.hidden):
            return False
        return not self.shown or any(pattern.search(member) for pattern in self.shown)


@cache
def directives() -> dict[str, Directive]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text().replace("!!python", "python"))
    handler = config["plugins"][1]["mkdocstrings"]["handlers"]["python"]["options"]
    found: dict[str, Directive] = {}
    for page in API_PAGES:
        for match in DIRECTIVE.finditer(page.read_text()):
            block = yaml.safe_load(_dedent(match.group(2))) if match.group(2).strip() else {}
            options = (block or {}).get("options", {})
            found[match.group(1)] = Directive(match.group(1), options, page, handler.get("filters", []))
    return found


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def documenting(path: str) -> Directive | None:
    """The directive that puts ``path`` in the reference: its own (under the path where it
    is defined or one it is exported under), or its module's."""
    return placed(path)[0]


def placed(path: str) -> tuple[Directive | None, str]:
    """The directive for ``path`` and the dotted path the reference shows it under (the
    anchor of its members' headings)."""
    public_objects()
    for candidate in [path, *sorted(EXPORTED_AS.get(path, ()))]:
        if candidate in directives():
            return directives()[candidate], candidate
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        directive = directives().get(".".join(parts[:end]))
        if directive is not None:
            return directive, path
    return None, path


def classes_to_document() -> dict[str, type]:
    """Every public class, and the asyncz_like classes they inherit public members from."""
    classes: dict[str, type] = {}
    for obj in public_objects().values():
        if inspect.isclass(obj):
            for base in obj.__mro__:
                if base.__module__.startswith("asyncz_like") and (base is obj or any(own_members(base))):
                    classes[f"{base.__module__}.{base.__qualname__}"] = base
    return classes


def test_the_public_api_is_found() -> None:
    found = public_objects()
    for name in ("BaseScheduler", "RedisStore", "SQLAlchemyStore", "MongoDBStore", "FileStore", "CronTrigger"):
        assert any(path.endswith(f".{name}") for path in found), name
    assert len(found) > 60


def test_every_public_class_and_function_has_a_docstring() -> None:
    missing = sorted(path for path, obj in public_objects().items() if not (obj.__doc__ or "").strip())
    assert missing == []


def test_every_public_method_in_the_reference_has_a_docstring() -> None:
    missing = []
    for path, cls in classes_to_document().items():
        directive = documenting(path)
        for name, _ in own_members(cls):
            if (directive is None or directive.shows(name)) and not documented_docstring(cls, name):
                missing.append(f"{path}.{name}")
    assert sorted(missing) == []


def test_every_public_class_and_function_is_in_the_reference() -> None:
    objects = {**public_objects(), **classes_to_document()}
    absent = sorted(path for path in objects if documenting(path) is None)
    assert absent == [], "add a ::: directive to docs/api.md or a page under docs/api/"


def test_every_store_class_has_a_page_of_its_own() -> None:
    stores = [path for path, obj in public_objects().items() if inspect.isclass(obj) and path.endswith("Store")]
    stores = [path for path in stores if ".abc." not in path and "PersistentStore" not in path]
    assert len(stores) >= 5
    for path in stores:
        directive = directives().get(path)
        assert directive is not None and directive.page.parent.name == "stores", path


def test_known_internals_are_filtered_out() -> None:
    leaks = []
    for path, cls in classes_to_document().items():
        directive = documenting(path)
        for name, _ in own_members(cls):
            if name in KNOWN_INTERNALS and is_scheduler(cls) and directive is not None and directive.shows(name):
                leaks.append(f"{path}.{name}")
    assert leaks == []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The HTML of every API page, as ``mkdocs build --strict`` makes it."""
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return "\n".join(page.read_text() for page in (out / "api").rglob("*.html"))


def test_the_built_reference_shows_public_methods_and_hides_internals(site: str) -> None:
    anchors = set(re.findall(r'id="(asyncz_like\.[\w.]+)"', site))
    missing, leaked = [], []
    for path, cls in classes_to_document().items():
        directive, shown_as = placed(path)
        if directive is None:
            continue
        for name, _ in own_members(cls):
            anchor = f"{shown_as}.{name}"
            if directive.shows(name) and anchor not in anchors:
                missing.append(anchor)
            if name in KNOWN_INTERNALS and is_scheduler(cls) and anchor in anchors:
                leaked.append(anchor)
    assert (sorted(missing), sorted(leaked)) == ([], [])

"""The distribution builds (wheel and sdist), installs into a clean virtual environment and
works there: the version is the one in ``asyncz_like/__init__.py``, the type marker ships,
and the built-in plugins are registered through entry points in the wheel's metadata."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("asyncz_like.triggers", "asyncz_like.executors", "asyncz_like.stores")


def source_version() -> str:
    match = re.search(r'^__version__ = "([^"]+)"', (ROOT / "asyncz_like" / "__init__.py").read_text(), re.M)
    assert match, "asyncz_like/__init__.py must define __version__"
    return match.group(1)


def declared_entry_points() -> dict[str, dict[str, str]]:
    import tomllib  # Python 3.11+; the test environment has it

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {group: dict(project["entry-points"][group]) for group in GROUPS}


def run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist first, then the wheel built from that sdist, which
    also proves the sdist holds everything a build needs."""
    pytest.importorskip("build", reason="the 'build' package is in the test extra")
    pytest.importorskip("hatchling", reason="the 'hatchling' backend is in the test extra")
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {directory}, found {found}"
    return found[0]


def test_wheel_and_sdist_carry_the_source_version(dist: Path) -> None:
    version = source_version()
    assert only(dist, "*.whl").name.startswith(f"asyncz_like-{version}-py3-none-any")
    assert only(dist, "*.tar.gz").name == f"asyncz_like-{version}.tar.gz"


def test_wheel_ships_the_type_marker_and_metadata(dist: Path) -> None:
    version = source_version()
    with zipfile.ZipFile(only(dist, "*.whl")) as wheel:
        names = set(wheel.namelist())
        assert "asyncz_like/py.typed" in names
        assert "asyncz_like/abc.py" in names
        assert not any(name.startswith(("tests/", "plugins/", "docs/")) for name in names)
        info = f"asyncz_like-{version}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points_text = wheel.read(f"{info}/entry_points.txt").decode()
    assert f"\nVersion: {version}\n" in metadata
    for extra in ("redis", "mongodb", "sqlalchemy", "postgres", "mysql", "all", "test"):
        assert f"Provides-Extra: {extra}\n" in metadata
    parser = configparser.ConfigParser()
    parser.read_string(entry_points_text)
    for group, declared in declared_entry_points().items():
        assert dict(parser[group]) == declared


def test_sdist_holds_sources_tests_and_type_marker(dist: Path) -> None:
    version = source_version()
    with tarfile.open(only(dist, "*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md", "asyncz_like/__init__.py", "asyncz_like/py.typed"} <= names
    assert any(name.startswith("tests/") for name in names)
    assert f"asyncz_like-{version}" in only(dist, "*.tar.gz").name


CHECK_INSTALLED = """
import json, sys
import asyncz_like
from asyncz_like import plugins
wanted = json.loads(sys.argv[1])
loaded = {group: {alias: plugins.plugin_class(group, alias).__name__ for alias in aliases}
          for group, aliases in wanted.items()}
print(json.dumps({"version": asyncz_like.__version__, "file": asyncz_like.__file__,
                  "aliases": {group: plugins.aliases(group) for group in wanted}, "loaded": loaded}))
"""


def built_modules(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            name[:-3].replace("/", ".").removesuffix(".__init__") for name in archive.namelist() if name.endswith(".py")
        }


def test_wheel_installs_into_a_clean_venv_and_works(dist: Path, tmp_path: Path) -> None:
    """A fresh venv (no system site-packages), the wheel installed with its declared core
    dependencies from the index: importing works, and every built-in trigger and executor
    (and the memory store) loads through its entry point without any extra."""
    wheel = only(dist, "*.whl")
    declared = declared_entry_points()
    modules = built_modules(wheel)
    # Every trigger and executor, and the memory store, need nothing beyond the core dependencies.
    wanted = {group: sorted(declared[group]) for group in ("asyncz_like.triggers", "asyncz_like.executors")}
    for group, aliases in wanted.items():
        missing = [alias for alias in aliases if declared[group][alias].split(":")[0] not in modules]
        assert not missing, f"{group}: entry points {missing} name modules the wheel does not contain"
    wanted["asyncz_like.stores"] = ["memory"]
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    report = json.loads(run(python, "-c", CHECK_INSTALLED, json.dumps(wanted), cwd=tmp_path))
    assert report["version"] == source_version()
    assert Path(report["file"]).is_relative_to(venv), "imported the checkout instead of the installed wheel"
    assert {group: sorted(found) for group, found in report["loaded"].items()} == wanted
    assert report["loaded"]["asyncz_like.stores"] == {"memory": "MemoryStore"}
    for group in GROUPS:
        assert report["aliases"][group] == sorted(declared[group])

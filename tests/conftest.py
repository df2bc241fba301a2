from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from asyncz_like import plugins

UTC = timezone.utc
HERE = Path(__file__).parent


@pytest.fixture
def now() -> datetime:
    """A fixed instant: tests pass it as the explicit clock instead of sleeping."""
    return datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def pip_install(path: Path) -> None:
    """Install a plugin distribution into the environment running the tests."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(path)],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def tiny_plugin() -> Iterator[str]:
    """The third-party distribution in tests/fixtures/tiny_plugin, pip-installed for real."""
    pip_install(HERE / "fixtures" / "tiny_plugin")
    plugins.refresh()
    yield "tiny_every_minute"

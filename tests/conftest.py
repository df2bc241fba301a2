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


#: tests whose subject is timing, or that start processes and servers of their own: run one
#: at a time (scripts/test.sh runs them after the parallel pass), so that no other test
#: competes with them for the machine's cores
SERIAL_FOLDERS = {"realtime", "faults", "shared_store", "plugins", "operations", "history"}
SERIAL_FILES = {
    "test_store_faults.py",
    "test_store_outage.py",
    "test_store_restart.py",
    "test_packaging.py",
    "test_plugin_business_days.py",
    "test_registry.py",
    "test_worker_warning.py",
    "test_bench_smoke.py",
    "test_cron_bench.py",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).relative_to(HERE).parts
        if parts[0] in SERIAL_FOLDERS or parts[-1] in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)

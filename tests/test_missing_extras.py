"""A store whose optional driver is not installed says which extra to install.

Each case runs in a fresh interpreter whose import system refuses the driver's modules
(a meta-path finder that raises ``ModuleNotFoundError`` for them), as on a machine where
the extra was never installed. Every way of getting the store fails the same way: by
alias, by URL, by class, and through the scheduler's ``add_store``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

BLOCKER = """
import json, sys

class RefuseModules:
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, RefuseModules(BLOCKED))
for loaded in [name for name in sys.modules if name.split(".")[0] in BLOCKED]:
    del sys.modules[loaded]
"""


def failure_without(blocked: list[str], attempt: str) -> dict[str, str]:
    """Run ``attempt`` with ``blocked`` modules missing; return the error it raised."""
    body = textwrap.indent(textwrap.dedent(attempt).strip(), "    ")
    script = (
        f"BLOCKED = {blocked!r}\n"
        + BLOCKER
        + "try:\n"
        + body
        + "\nexcept Exception as exc:\n"
        + "    print(json.dumps({'type': type(exc).__name__, 'message': str(exc),"
        + " 'is_import_error': isinstance(exc, ImportError), 'extra': getattr(exc, 'extra', None)}))\n"
        + "else:\n"
        + "    print(json.dumps(None))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome is not None, f"{attempt!r} succeeded although {blocked} were missing"
    return outcome  # type: ignore[no-any-return]


def advice(extra: str) -> str:
    return f'pip install "asyncz-like[{extra}]"'


SCHEDULER = "from asyncz_like import ManualScheduler\nscheduler = ManualScheduler()\n"

CASES = [
    # (extra, modules missing, attempt)
    ("redis", ["redis"], SCHEDULER + "scheduler.add_store('redis://localhost:6379/0')"),
    ("redis", ["redis"], SCHEDULER + "scheduler.add_store('redis', 'cache')"),
    ("redis", ["redis"], "from asyncz_like.stores.redis import RedisStore"),
    ("redis", ["redis"], "from asyncz_like.stores import RedisStore"),
    ("mongodb", ["pymongo", "bson"], SCHEDULER + "scheduler.add_store('mongodb://localhost:27017/jobs')"),
    ("mongodb", ["pymongo", "bson"], SCHEDULER + "scheduler.add_store('mongo')"),
    ("mongodb", ["bson"], "from asyncz_like.stores.mongo import MongoDBStore"),
    ("sqlalchemy", ["sqlalchemy"], SCHEDULER + "scheduler.add_store('sqlite:///tasks.db')"),
    ("sqlalchemy", ["sqlalchemy"], SCHEDULER + "scheduler.add_store('sqlalchemy', database='sqlite:///tasks.db')"),
    ("sqlalchemy", ["sqlalchemy"], "from asyncz_like.stores import SQLAlchemyStore"),
    (
        "postgres",
        ["psycopg"],
        "from asyncz_like.stores.sqlalchemy import SQLAlchemyStore\n"
        "SQLAlchemyStore(url='postgresql+psycopg://app@localhost/app')",
    ),
    ("postgres", ["psycopg"], SCHEDULER + "scheduler.add_store('postgresql+psycopg://app@localhost/app')"),
    ("mysql", ["pymysql"], SCHEDULER + "scheduler.add_store('mysql+pymysql://app@localhost/app')"),
    (
        "encryption",
        ["cryptography"],
        SCHEDULER + "scheduler.add_store('sqlite:///tasks.db', encryption_key='x' * 44)",
    ),
    ("encryption", ["cryptography"], "from asyncz_like.stores import generate_key\ngenerate_key()"),
    (
        "metrics",
        ["prometheus_client"],
        SCHEDULER + "from asyncz_like.observability import enable_metrics\nenable_metrics(scheduler)",
    ),
    ("metrics", ["prometheus_client"], "from asyncz_like.observability.metrics import SchedulerMetrics"),
    (
        "tracing",
        ["opentelemetry"],
        SCHEDULER + "from asyncz_like.observability import instrument_tracing\ninstrument_tracing(scheduler)",
    ),
    ("tracing", ["opentelemetry"], "from asyncz_like.observability.tracing import SchedulerTracing"),
]


@pytest.mark.parametrize(("extra", "missing", "attempt"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_missing_driver_names_its_extra(extra: str, missing: list[str], attempt: str) -> None:
    error = failure_without(missing, attempt)
    assert error["is_import_error"], error
    assert advice(extra) in error["message"], error["message"]
    assert error["extra"] == extra


def test_a_url_without_driver_says_which_driver_the_extra_brings() -> None:
    """``mysql://`` makes SQLAlchemy pick mysqlclient (``MySQLdb``), which no extra installs:
    the advice says how to write the URL for the driver the extra does install."""
    error = failure_without(["MySQLdb"], SCHEDULER + "scheduler.add_store('mysql://app@localhost/app')")
    assert advice("mysql") in error["message"]
    assert "mysql+pymysql://" in error["message"]


def test_stores_without_a_driver_need_no_extra() -> None:
    """The memory and file stores, and importing the package, need none of the drivers."""
    script = (
        "BLOCKED = ['sqlalchemy', 'redis', 'pymongo', 'bson', 'psycopg', 'pymysql', 'cryptography']\n"
        + BLOCKER
        + textwrap.dedent(
            """
            import tempfile
            import asyncz_like.stores
            from asyncz_like import ManualScheduler
            scheduler = ManualScheduler()
            scheduler.add_store("memory", "fast")
            scheduler.add_store("file", "files", directory=tempfile.mkdtemp())
            scheduler.start()
            scheduler.add_task(print, "interval", minutes=5, id="t", store="files")
            print(json.dumps(sorted(scheduler.stores)))
            scheduler.shutdown()
            """
        )
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["default", "fast", "files"]


def test_the_core_runs_without_the_observability_extras() -> None:
    """Neither prometheus-client nor opentelemetry is needed to import the package (the
    observability functions included) or to run tasks on every kind of executor."""
    script = (
        "BLOCKED = ['prometheus_client', 'opentelemetry']\n"
        + BLOCKER
        + textwrap.dedent(
            """
            import asyncz_like.observability
            from asyncz_like import ManualScheduler
            from asyncz_like.executors.pool import ThreadPoolExecutor
            scheduler = ManualScheduler(executors={"threads": ThreadPoolExecutor(max_workers=1)})
            scheduler.start()
            scheduler.add_task(print, "date", args=["inline"])
            scheduler.add_task(print, "date", args=["in a thread"], executor="threads")
            scheduler.process_tasks()
            scheduler.shutdown()
            print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)))
            """
        )
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert sorted(lines[:2]) == ["in a thread", "inline"]
    assert json.loads(lines[-1]) == []


def test_other_missing_modules_are_not_dressed_up() -> None:
    """A module no extra installs (a bug, or the user's own code) keeps its own error."""
    from asyncz_like._extras import extra_needed

    with pytest.raises(ModuleNotFoundError) as caught, extra_needed("the redis store"):
        import asyncz_like_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert "pip install" not in str(caught.value)

"""A scheduler on the memory store in one of several server workers says it will run every
job once per worker (``uvicorn --workers 4`` printed four copies of each run)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from asyncz_like import ManualScheduler
from asyncz_like.schedulers._workers import server_workers

WARNING = "looks like one of several server workers"


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["/srv/.venv/bin/uvicorn", "app:app", "--workers", "4"], {}, "uvicorn --workers 4"),
        (["/usr/lib/python3/site-packages/uvicorn/__main__.py", "app:app", "--workers=3"], {}, "uvicorn --workers 3"),
        (["uvicorn", "app:app"], {"WEB_CONCURRENCY": "2"}, "uvicorn with WEB_CONCURRENCY=2"),
        (["gunicorn", "-w", "4", "-k", "uvicorn.workers.UvicornWorker", "app:app"], {}, "gunicorn --workers 4"),
        (["gunicorn", "-w8", "app:app"], {}, "gunicorn --workers 8"),
        (["gunicorn", "app:app"], {"GUNICORN_CMD_ARGS": "--bind 0.0.0.0 --workers 5"}, "gunicorn --workers 5"),
        (["uvicorn", "app:app", "--workers", "1"], {"WEB_CONCURRENCY": "4"}, None),  # the flag wins
        (["uvicorn", "app:app", "--reload"], {}, None),
        (["gunicorn", "app:app"], {}, None),
        (["python", "manage.py", "--workers", "4"], {}, None),  # not a server we know
        (["/srv/.venv/bin/pytest", "-q"], {"WEB_CONCURRENCY": "4"}, None),
        ([], {}, None),
    ],
)
def test_the_worker_count_comes_from_the_servers_command_line_and_environment(
    argv: list[str], environ: dict[str, str], expected: str | None
) -> None:
    assert server_workers(argv, environ) == expected


def test_no_warning_outside_a_server(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = ManualScheduler()
    with caplog.at_level(logging.WARNING):
        scheduler.start()
    scheduler.shutdown()
    assert WARNING not in caplog.text


APP = """
from asyncz_like import AsyncIOScheduler

scheduler = AsyncIOScheduler(timezone="UTC"{stores})
scheduler.add_task("builtins:print", "interval", minutes=5, args=["tick"], id="tick", replace_existing=True)


async def plain(scope, receive, send) -> None:
    pass


app = scheduler.asgi(plain, handle_lifespan=True)
"""


def serve(tmp_path: Path, workers: int, stores: str = "") -> str:
    """Run ``uvicorn --workers`` on a one-task app until every worker has started; its stderr."""
    (tmp_path / "memory_app.py").write_text(textwrap.dedent(APP).format(stores=stores))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "memory_app:app", "--workers", str(workers), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("WEB_CONCURRENCY", None)
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while sum("Application startup complete" in line for line in lines) < workers:
            assert time.monotonic() < deadline, "".join(lines)
            line = server.stderr.readline()
            assert line or server.poll() is None, "".join(lines)
            lines.append(line)
    finally:
        server.send_signal(signal.SIGINT)
        rest = server.communicate(timeout=30)[1]
    return "".join(lines) + rest


def test_two_uvicorn_workers_on_the_memory_store_each_warn(tmp_path: Path) -> None:
    output = serve(tmp_path, workers=2)
    assert output.count(WARNING) == 2, output
    assert "uvicorn --workers 2" in output and "memory store 'default'" in output


def test_workers_on_a_shared_store_do_not_warn(tmp_path: Path) -> None:
    output = serve(tmp_path, workers=2, stores=', stores={"default": "sqlite:///tasks.db"}')
    assert WARNING not in output, output
    assert "Traceback" not in output, output

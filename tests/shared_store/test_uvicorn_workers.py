"""``uvicorn --workers 4`` with the lifespan wrapper and a shared store runs each job once."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.shared_store.test_shared_store import ROOT, add_tasks, read_record

pytestmark = pytest.mark.servers
TASKS, RUNS = 20, 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("shared_store", ["postgres", "redis"], indirect=True)
def test_four_uvicorn_workers_run_each_job_once(shared_store: dict[str, Any], record_path: Path) -> None:
    start = math.ceil(time.time()) + 6
    add_tasks(shared_store, start, "report", tasks=TASKS, runs=RUNS)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASYNCZ_SHARED_STORE": json.dumps(shared_store),
        "ASYNCZ_RECORD": str(record_path),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.shared_store.asgi_app:app",
            "--workers",
            "4",
            "--host",
            "127.0.0.1",
            "--port",
            str(free_port()),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(max(start + RUNS + 1.5 - time.time(), 0))
    finally:
        server.send_signal(signal.SIGINT)  # graceful: each worker's lifespan shuts its scheduler down
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr[-3000:]
    executed = read_record(record_path)["executed"]
    expected = {(f"t{n}", round(start + k, 3)) for n in range(TASKS) for k in range(RUNS)}
    assert {run: count for run, count in executed.items() if count > 1} == {}
    assert set(executed) == expected
    pids = {line.split()[3] for line in record_path.read_text().splitlines()}
    assert len(pids) >= 2, "several worker processes should share the runs"

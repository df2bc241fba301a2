"""A scheduler process started with ``asyncz-like run`` honours what other ``asyncz-like``
processes change in its store: PostgreSQL announces each change (NOTIFY), SQLite is polled."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.operations.conftest import COMMAND, ROOT, Result, StoreTarget, cli_env, run_cli

JOB = "tests.operations.jobs"
pytestmark = pytest.mark.servers


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def write_config(tmp_path: Path, target: StoreTarget, record: Path) -> Path:
    options = "".join(f'{key} = "{value}"\n' for key, value in target.options.items())
    config = tmp_path / "scheduler.toml"
    config.write_text(
        f"""
timezone = "UTC"
poll_interval = 0.5

[stores.default]
type = "sqlalchemy"
url = "{target.url}"
{options}
[executors.default]
type = "threadpool"

[[tasks]]
id = "from-config"
func = "{JOB}:record"
trigger = "interval"
trigger_args = {{ hours = 1 }}
args = ["{record}", "config"]
"""
    )
    return config


class SchedulerProcess:
    """``asyncz-like run --config FILE`` in the background (its log in a file), until ``stop()``."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.with_name(f"scheduler-{time.monotonic_ns()}.log")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(COMMAND), "run", "--config", str(config)],
                cwd=ROOT,
                env=cli_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started = wait_for(lambda: "running on" in self.output() or self.process.poll() is not None, 30)
        assert started and self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        return self.process.returncode, self.output()


@pytest.fixture
def scheduler_process(target: StoreTarget, tmp_path: Path) -> Iterator[tuple[SchedulerProcess, Path]]:
    record = tmp_path / "runs.txt"
    process = SchedulerProcess(write_config(tmp_path, target, record))
    try:
        yield process, record
    finally:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(10)


def test_a_running_scheduler_honours_cli_changes(
    cli: Callable[..., Result], scheduler_process: tuple[SchedulerProcess, Path], target: StoreTarget
) -> None:
    process, record = scheduler_process
    call = cli
    assert "from-config" in call("list").stdout

    # add: a 'date' task with no run_at is due at once; the scheduler runs it promptly
    added = call("add", f"{JOB}:record", "date", "--arg", str(record), "--arg", "now", "--id", "now", "--json")
    assert added.code == 0, added.stderr
    due = datetime.fromisoformat(added.json()["next_run_time"].replace("Z", "+00:00"))
    assert wait_for(lambda: any(line.startswith("now ") for line in lines(record)), 5), lines(record)
    ran_at = datetime.fromisoformat(next(line for line in lines(record) if line.startswith("now ")).split()[1])
    lag = (ran_at - due).total_seconds()
    print(f"\n{target.kind}: due (written by the CLI) -> run in the scheduler process: {lag * 1000:.0f} ms")
    assert lag < 3
    assert int(next(line for line in lines(record) if line.startswith("now ")).split()[2]) == process.process.pid

    # reschedule a paused task into every second, resume it: it runs; pause it: it stops
    tick = ["--arg", str(record), "--arg", "tick", "--id", "tick", "--paused"]
    assert call("add", f"{JOB}:record", "interval", "-t", "hours=1", *tick).code == 0
    assert call("reschedule", "tick", "interval", "-t", "seconds=1").code == 0
    assert wait_for(lambda: sum(line.startswith("tick ") for line in lines(record)) >= 2, 6), lines(record)
    assert call("pause", "tick").code == 0
    time.sleep(0.5)  # a run already in flight may still finish
    paused_count = sum(line.startswith("tick ") for line in lines(record))
    time.sleep(2.5)
    assert sum(line.startswith("tick ") for line in lines(record)) == paused_count
    assert call("resume", "tick").code == 0
    assert wait_for(lambda: sum(line.startswith("tick ") for line in lines(record)) > paused_count, 5)
    assert call("delete", "tick", "--yes").code == 0
    time.sleep(0.5)
    deleted_count = sum(line.startswith("tick ") for line in lines(record))
    time.sleep(2)
    assert sum(line.startswith("tick ") for line in lines(record)) == deleted_count

    # an operator's pause of a config task survives a restart of the scheduler
    assert call("pause", "from-config").code == 0
    code, stderr = process.stop()
    assert code == 0, stderr
    assert "scheduler stopped" in stderr
    again = SchedulerProcess(process.config)
    try:
        assert call("show", "from-config", "--json").json()["schedule_state"] == "paused"
    finally:
        assert again.stop()[0] == 0
    assert not any(line.startswith("config ") for line in lines(record))


def test_run_without_a_store_is_a_usage_error() -> None:
    result = run_cli("run")
    assert result.code == 2 and "no store named" in result.stderr


def test_run_stops_cleanly_on_sigterm(sqlite_target: StoreTarget, tmp_path: Path) -> None:
    process = SchedulerProcess(write_config(tmp_path, sqlite_target, tmp_path / "runs.txt"))
    process.process.send_signal(signal.SIGTERM)
    assert process.process.wait(timeout=30) == 0, process.output()
    assert "scheduler stopped" in process.output()
    assert os.path.exists(tmp_path / "tasks.db")

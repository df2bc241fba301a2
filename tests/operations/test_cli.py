"""The ``asyncz-like`` command, run as installed, in subprocesses, on a real SQLite file and
the real PostgreSQL server: every task command, tables and JSON, exit codes, one-line
errors, and secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.operations.conftest import COMMAND, ROOT, StoreTarget, cli_env, run_cli

JOB = "tests.operations.jobs"
pytestmark = pytest.mark.servers


def ids(result: Any) -> list[str]:
    return [task["id"] for task in result.json()["tasks"]]


def test_the_command_is_installed_and_python_m_runs_it_too() -> None:
    assert COMMAND.exists(), "pip install -e . installs the asyncz-like console script"
    installed = run_cli("--version")
    module = subprocess.run(
        [sys.executable, "-m", "asyncz_like", "--version"], capture_output=True, text=True, cwd=ROOT, env=cli_env()
    )
    assert installed.code == 0 and module.returncode == 0
    assert installed.stdout == module.stdout
    assert installed.stdout.startswith("asyncz-like, version ")
    help_text = run_cli("--help").stdout
    for command in ("list", "show", "add", "pause", "resume", "run-now", "reschedule", "delete", "history"):
        assert command in help_text
    assert "health" in help_text and "run" in help_text and "serve" in help_text
    assert "Exit status: 0 ok" in help_text
    bare = run_cli()
    assert (bare.code, bare.stdout) == (0, help_text)
    unknown = run_cli("frobnicate")
    assert unknown.code == 2
    assert unknown.stderr == "asyncz-like: error: No such command 'frobnicate'. (see 'asyncz-like --help')\n"


def test_add_list_show_in_table_and_json(cli: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "ran.txt")
    # due within a second, so it lists before the cron task whatever the time of day
    added = cli("add", f"{JOB}:record", "interval", "-t", "seconds=1", "--id", "every-second", "--arg", path, "--json")
    assert added.code == 0, added.stderr
    assert added.json()["trigger_description"] == "interval[0:00:01]"
    assert added.json()["callable_reference"] == f"{JOB}:record"
    cron = cli("add", f"{JOB}:noop", "cron", "-t", "hour=9-17", "-t", "minute=*/15", "--id", "office", "--name", "O")
    assert cron.code == 0, cron.stderr
    assert "cron[minute='*/15', hour='9-17']" in cron.stdout
    paused = cli("add", f"{JOB}:noop", "date", "-t", "run_at=2099-01-01T00:00:00+00:00", "--id", "later", "--paused")
    assert paused.code == 0, paused.stderr

    table = cli("list")
    assert table.code == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[:4] == ["ID", "NAME", "STATE", "NEXT"]
    assert [row.split()[0] for row in rows] == ["every-second", "office", "later"]  # by next run; paused last
    assert "paused" in rows[2]

    listed = cli("list", "--json")
    assert ids(listed) == ["every-second", "office", "later"]
    assert listed.json()["set_aside"] == []

    shown = cli("show", "office", "--json")
    assert shown.code == 0
    assert shown.json()["name"] == "O" and shown.json()["schedule_state"] == "scheduled"
    assert "trigger_description" in cli("show", "office").stdout


def test_list_filters_sorts_and_searches_like_get_task_infos(cli: Any) -> None:
    for task_id, trigger, args in (
        ("alpha", "interval", ["-t", "hours=1"]),
        ("beta", "cron", ["-t", "hour=3"]),
        ("gamma", "interval", ["-t", "hours=2", "--paused"]),
    ):
        assert cli("add", f"{JOB}:noop", trigger, *args, "--id", task_id).code == 0
    assert ids(cli("list", "--json", "--state", "paused")) == ["gamma"]
    assert ids(cli("list", "--json", "--trigger", "cron")) == ["beta"]
    assert ids(cli("list", "--json", "-q", "alp")) == ["alpha"]
    assert ids(cli("list", "--json", "--sort-by", "id", "--descending")) == ["gamma", "beta", "alpha"]
    bad = cli("list", "--state", "sleeping")
    assert bad.code == 2 and "--state" in bad.stderr


def test_pause_resume_reschedule_delete(cli: Any) -> None:
    assert cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "job").code == 0
    paused = cli("pause", "job")
    assert (paused.code, paused.stdout.strip()) == (0, "paused job")
    assert cli("show", "job", "--json").json()["schedule_state"] == "paused"
    assert cli("resume", "job").code == 0
    assert cli("show", "job", "--json").json()["schedule_state"] == "scheduled"

    moved = cli("reschedule", "job", "cron", "-t", "hour=4", "-t", "minute=30", "--timezone", "UTC", "--json")
    assert moved.code == 0, moved.stderr
    assert moved.json()["trigger_alias"] == "cron"
    assert moved.json()["next_run_time"].endswith(("04:30:00Z", "04:30:00+00:00"))

    refused = cli("delete", "job")  # stdin is not a terminal: no one to ask
    assert refused.code == 2 and "--yes" in refused.stderr
    assert cli("delete", "job", "--yes").code == 0
    assert ids(cli("list", "--json")) == []


def test_bulk_changes_select_with_filters(cli: Any) -> None:
    for index in range(4):
        assert cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", f"batch-{index}").code == 0
    assert cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "other").code == 0
    paused = cli("pause", "--all", "-q", "batch", "--json")
    assert paused.code == 0, paused.stderr
    assert sorted(item["id"] for item in paused.json()["paused"]) == [f"batch-{index}" for index in range(4)]
    assert ids(cli("list", "--json", "--state", "paused")) == [f"batch-{index}" for index in range(4)]
    assert cli("pause", "other", "--state", "paused").code == 2  # filters only with --all


def test_run_now_runs_here_reports_the_outcome_and_keeps_the_schedule(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "ran.txt"
    assert cli("add", f"{JOB}:record", "cron", "-t", "hour=3", "--id", "nightly", "--arg", str(path)).code == 0
    before = cli("show", "nightly", "--json").json()["next_run_time"]

    ran = cli("run-now", "nightly")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.strip() == "ran nightly: executed, returned 'recorded run'"
    assert path.read_text().startswith("run ")
    assert cli("show", "nightly", "--json").json()["next_run_time"] == before

    assert cli("add", f"{JOB}:fail", "cron", "-t", "hour=3", "--id", "broken").code == 0
    failed = cli("run-now", "broken", "--json")
    assert failed.code == 1
    assert failed.json()["results"] == [
        {
            "outcome": "error",
            "scheduled_run_time": failed.json()["submitted"][0],
            "exception_type": "RuntimeError",
            "message": "deliberate failure",
        }
    ]
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["show", "missing"], 3, "'missing'"),
        (["pause", "missing"], 3, "'missing'"),
        (["run-now", "missing"], 3, "'missing'"),
        (["add", f"{JOB}:noop", "cron", "-t", "hour=25"], 2, "trigger_args.hour"),
        (["add", f"{JOB}:noop", "interval", "-t", "fortnights=1"], 2, "trigger"),
        (["add", f"{JOB}:noop", "sometimes"], 2, "'sometimes'"),
        (["add", "not a reference"], 2, "func"),
        (["add", f"{JOB}:nowhere"], 2, "nowhere"),
        (["add", f"{JOB}:noop", "--args", "{not json"], 2, "--args"),
        (["add", f"{JOB}:noop", "--max-instances", "0"], 2, "max_instances"),
        (["add", f"{JOB}:noop", "-t", "novalue"], 2, "--trigger-arg"),
        (["history", "--since", "yesterday"], 2, "--since"),
    ],
)
def test_errors_are_one_line_with_a_documented_status(
    sqlite_target: StoreTarget, args: list[str], code: int, names: str
) -> None:
    result = run_cli(*args, *sqlite_target.cli_args())
    lines = result.stderr.strip().splitlines()
    assert result.code == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("asyncz-like: error: "), result.stderr
    assert names in lines[0]


def test_a_taken_id_exits_4(cli: Any) -> None:
    assert cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "same").code == 0
    again = cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "same")
    assert again.code == 4 and "'same'" in again.stderr
    replaced = cli("add", f"{JOB}:noop", "cron", "-t", "hour=1", "--id", "same", "--replace", "--json")
    assert replaced.code == 0 and replaced.json()["trigger_alias"] == "cron"


def test_the_store_comes_from_the_environment(target: StoreTarget) -> None:
    options = [arg for key, value in target.options.items() for arg in ("--store-option", f"{key}={value}")]
    env = cli_env(ASYNCZ_LIKE_STORE=target.url)
    assert run_cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "env", *options, env=env).code == 0
    assert run_cli("list", "--json", *options, env=env).json()["tasks"][0]["id"] == "env"


def test_no_store_named_is_a_usage_error() -> None:
    result = run_cli("list")
    assert result.code == 2
    assert result.stderr.strip() == (
        "asyncz-like: error: store: no store named; pass --store URL, set ASYNCZ_LIKE_STORE, or pass --config FILE"
    )


def test_an_unreachable_store_exits_5_with_its_password_masked() -> None:
    result = run_cli("list", "--store", "postgresql+psycopg://operator:s3cret-pw@127.0.0.1:9/nothing")
    assert result.code == 5, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret-pw" not in result.stderr + result.stdout
    assert "operator:***@127.0.0.1:9" in result.stderr


def test_a_config_file_names_the_stores(target: StoreTarget, tmp_path: Path) -> None:
    config = tmp_path / "scheduler.json"
    import json

    config.write_text(json.dumps({"timezone": "UTC", "stores": {"default": target.config()}}))
    assert run_cli("add", f"{JOB}:noop", "cron", "-t", "hour=2", "--id", "cfg", "--config", str(config)).code == 0
    shown = run_cli("show", "cfg", "--json", "--config", str(config))
    assert shown.code == 0, shown.stderr
    assert shown.json()["next_run_time"].endswith(("02:00:00Z", "02:00:00+00:00"))
    broken = tmp_path / "broken.toml"
    broken.write_text("timezone = \n")
    result = run_cli("list", "--config", str(broken))
    assert result.code == 2 and "broken.toml is not valid TOML" in result.stderr


def test_history_and_health_or_a_clear_unavailable(cli: Any, tmp_path: Path) -> None:
    """With run history (scheduler.get_run_history / health_check) the commands show it;
    an installation without it says so with exit status 6."""
    from asyncz_like.operations.features import has_health, has_history
    from asyncz_like.schedulers.manual import ManualScheduler

    assert cli("add", f"{JOB}:record", "cron", "-t", "hour=3", "--id", "job", "--arg", str(tmp_path / "r")).code == 0
    assert cli("run-now", "job").code == 0
    assert cli("add", f"{JOB}:fail", "cron", "-t", "hour=3", "--id", "bad").code == 0
    assert cli("run-now", "bad").code == 1
    history = cli("history", "--json")
    health = cli("health", "--json")
    if not has_history(ManualScheduler):
        assert history.code == 6 and "run history is not available" in history.stderr
    else:
        assert history.code == 0, history.stderr
        assert [(run["task_id"], run["outcome"]) for run in history.json()] == [("bad", "error"), ("job", "executed")]
        assert [run["task_id"] for run in cli("history", "job", "--json").json()] == ["job"]
        assert [run["task_id"] for run in cli("history", "--outcome", "error", "--json").json()] == ["bad"]
        table = cli("history")
        assert table.stdout.splitlines()[0].split()[:2] == ["TASK", "OUTCOME"]
        assert "RuntimeError" in table.stdout and "deliberate failure" in table.stdout
        listed = cli("list", "--json").json()["tasks"]
        assert {task["id"]: task["last_outcome"] for task in listed} == {"job": "executed", "bad": "error"}
    if not has_health(ManualScheduler):
        assert health.code == 6 and "health is not available" in health.stderr
    else:
        assert health.code == 0, health.stderr
        report = health.json()
        assert report["status"] in ("ok", "degraded")
        assert "processing is paused" not in report["reasons"]  # the CLI's own client is not the news
        assert report["stores"][0]["reachable"] is True
        assert "status:" in cli("health").stdout

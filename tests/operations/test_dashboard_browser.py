"""The dashboard in a real browser: Playwright driving Debian's chromium against
``asyncz-like serve`` on a real SQLite store. Clicks pause, run now and delete (each
confirmed in a dialog, one cancelled, one done by keyboard alone) and checks the store;
sees a task added elsewhere appear without a reload; saves screenshots for the docs."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncz_like.operations import TaskSpec, open_client
from asyncz_like.operations.client import StoreClient
from tests.operations.conftest import COMMAND, ROOT, StoreTarget, cli_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: screenshots go to a temporary folder; ASYNCZ_UPDATE_SCREENSHOTS=1 writes the docs' own
#: (docs/img) instead, so a test run leaves the tracked files alone
SCREENSHOTS = (
    ROOT / "docs" / "img"
    if os.environ.get("ASYNCZ_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="asyncz-screens-"))
)
JOB = "tests.operations.jobs"
USER, PASSWORD = "ops", "dashboard-pw-51c7e2"


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def store_client(sqlite_target: StoreTarget) -> Iterator[StoreClient]:
    client = open_client(sqlite_target.url, sqlite_target.options).start()
    yield client
    client.close()


@pytest.fixture
def server(sqlite_target: StoreTarget, tmp_path: Path) -> Iterator[str]:
    """``asyncz-like serve`` with a user and password (from the environment)."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = cli_env(ASYNCZ_LIKE_USERNAME=USER, ASYNCZ_LIKE_PASSWORD=PASSWORD)
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(COMMAND), "serve", "--port", str(port), *sqlite_target.cli_args()],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: "Uvicorn running" in log.read_text() or process.poll() is not None, 30), log.read_text()
        assert process.poll() is None, log.read_text()
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(15)
    assert PASSWORD not in log.read_text()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    need(CHROMIUM.exists(), "Debian's chromium is not installed (apt-get install chromium; scripts/test.sh does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (it is in the test extra)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            http_credentials={"username": USER, "password": PASSWORD}, viewport={"width": 1360, "height": 820}
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        yield page
        context.close()
        browser.close()
    assert errors == [], errors


def add(client: StoreClient, task_id: str, trigger: str, trigger_args: dict[str, Any], **spec: Any) -> None:
    client.add(
        TaskSpec.model_validate(
            {"func": f"{JOB}:noop", "trigger": trigger, "trigger_args": trigger_args, "id": task_id, **spec}
        )
    )


def test_the_dashboard_in_a_real_browser(
    server: str, browser_page: Any, store_client: StoreClient, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    record = tmp_path / "ran.txt"
    add(
        store_client,
        "nightly-report",
        "cron",
        {"hour": 3, "minute": 15},
        func=f"{JOB}:record",
        args=[str(record), "dashboard"],
        name="Nightly report",
    )
    add(store_client, "heartbeat", "interval", {"seconds": 30})
    add(store_client, "cleanup", "cron", {"day_of_week": "sun", "hour": 4})
    add(store_client, "invoice-run", "cron", {"day": 1, "hour": 6}, paused=True)

    page.goto(server)
    row = page.locator('tr[data-id="heartbeat"]')
    row.wait_for()
    assert page.locator("tbody tr").count() == 4
    assert "scheduled" in row.inner_text() and "interval[0:00:30]" in row.inner_text()
    # every control has a label a screen reader announces
    for label in ("Search", "State", "Live updates"):
        assert page.get_by_label(label).count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # pause, confirmed in a dialog
    page.get_by_role("button", name="Pause task heartbeat").click()
    dialog = page.locator("dialog#confirm")
    dialog.wait_for(state="visible")
    assert "will not run until it is resumed" in dialog.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-confirm.png"))
    dialog.get_by_role("button", name="Pause").click()
    assert wait_for(lambda: store_client.get("heartbeat").schedule_state.value == "paused", 5)
    page.get_by_role("button", name="Resume task heartbeat").wait_for()  # the page followed

    # delete, cancelled: nothing happens
    page.get_by_role("button", name="Delete task nightly-report").click()
    dialog.get_by_role("button", name="Cancel").click()
    time.sleep(0.5)
    assert store_client.get("nightly-report").id == "nightly-report"

    # run now, confirmed: the server process runs it; the schedule stays
    before = store_client.get("nightly-report").next_run_time
    page.get_by_role("button", name="Run task nightly-report now").click()
    dialog.get_by_role("button", name="Run now").click()
    assert wait_for(record.exists, 10)
    assert record.read_text().startswith("dashboard ")
    assert store_client.get("nightly-report").next_run_time == before

    # delete by keyboard alone: Enter opens the dialog (focus on Cancel), Tab, Enter confirms
    page.get_by_role("button", name="Delete task cleanup").focus()
    page.keyboard.press("Enter")
    dialog.wait_for(state="visible")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert wait_for(lambda: not any(info.id == "cleanup" for info in store_client.list_tasks()), 5)
    page.locator('tr[data-id="cleanup"]').wait_for(state="detached")

    # a task added by another process shows up without a reload
    add(store_client, "added-elsewhere", "interval", {"minutes": 10})
    page.locator('tr[data-id="added-elsewhere"]').wait_for(timeout=8000)

    # search filters the table
    page.get_by_label("Search").fill("invoice")
    expect(page.locator("#tasks tbody tr")).to_have_count(1)
    page.get_by_label("Search").fill("")

    # history of one task; health
    page.get_by_role("button", name="Show the run history of task nightly-report").click()
    expect(page.locator("#history-task")).to_contain_text("nightly-report")
    features = store_client.describe()["features"]
    if features["history"]:
        page.locator("#history tbody tr").first.wait_for(timeout=8000)
        assert "executed" in page.locator("#history tbody").inner_text()
    else:
        assert "not available" in page.locator("#history-note").inner_text()
    badge = page.locator("#health-badge")
    expect(badge).not_to_contain_text("checking")
    assert badge.inner_text().startswith("Health: ")
    page.get_by_label("Search").fill("")
    time.sleep(0.5)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-history.png"), full_page=True)

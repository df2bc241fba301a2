"""Priority through the operator surfaces: ``asyncz-like add --priority``, ``show``/``list
--json`` (``--sort-by priority``), and the REST API, on real stores."""

from __future__ import annotations

from typing import Any

import pytest

from tests.operations.test_api import Api, add, api, store_app  # noqa: F401  (fixtures)

JOB = "tests.operations.jobs"
pytestmark = pytest.mark.servers


def test_the_cli_adds_shows_and_sorts_by_priority(cli: Any) -> None:
    urgent = cli("add", f"{JOB}:noop", "interval", "-t", "hours=1", "--id", "urgent", "--priority", "7", "--json")
    assert urgent.code == 0, urgent.stderr
    assert urgent.json()["priority"] == 7
    plain = cli("add", f"{JOB}:noop", "interval", "-t", "minutes=5", "--id", "plain", "--json")
    assert plain.json()["priority"] == 0
    assert cli("show", "urgent", "--json").json()["priority"] == 7
    assert "priority" in cli("show", "urgent").stdout
    listed = cli("list", "--json", "--sort-by", "priority")
    assert [(task["id"], task["priority"]) for task in listed.json()["tasks"]] == [("urgent", 7), ("plain", 0)]
    bad = cli("add", f"{JOB}:noop", "--priority", "high")
    assert bad.code == 2 and "--priority" in bad.stderr


async def test_the_rest_api_takes_and_shows_it(api: Api) -> None:  # noqa: F811
    created = await add(api, "urgent", priority=5)
    assert created.status_code == 201, created.text
    assert created.json()["priority"] == 5
    await add(api, "plain")
    listed = (await api.get("/api/tasks", params={"sort_by": "priority"})).json()["tasks"]
    assert [(task["id"], task["priority"]) for task in listed] == [("urgent", 5), ("plain", 0)]
    assert (await api.get("/api/tasks/urgent")).json()["priority"] == 5
    refused = await add(api, "bad", priority="high")
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] == "priority"
    too_big = await add(api, "big", priority=2**40)
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["loc"][-1] == "priority"

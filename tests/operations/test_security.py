"""Closed to strangers: credentials on every endpoint and page, loopback only without them
(at start-up and per request), cross-site forgery refused, secrets never shown or logged."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from asyncz_like.web import Credentials, InsecureBindError, check_bind, create_app
from tests.operations.conftest import StoreTarget, run_cli

TOKEN = "tok-3f9a0c5e7b21d4"
PASSWORD = "pw-8d2e61b0c4a97f"
JOB = "tests.operations.jobs"
PATHS = ["/", "/static/dashboard.js", "/static/dashboard.css", "/openapi.json", "/api/tasks", "/api/info", "/nowhere"]


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def guarded_app(sqlite_target: StoreTarget) -> Iterator[FastAPI]:
    app = create_app(
        store=sqlite_target.url, store_options=sqlite_target.options, token=TOKEN, username="ops", password=PASSWORD
    )
    yield app
    app.state.operator_client.close()


@pytest.fixture
async def client(guarded_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=guarded_app, client=("203.0.113.7", 40000))  # a remote client
    async with httpx.AsyncClient(transport=transport, base_url="http://ops.example.org") as http:
        yield http


async def csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/", headers=basic("ops", PASSWORD))
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


@pytest.mark.parametrize("path", PATHS)
async def test_every_page_and_endpoint_needs_credentials(client: httpx.AsyncClient, path: str) -> None:
    refused = await client.get(path)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Basic realm="asyncz-like"')  # a browser asks
    for wrong in (basic("ops", "wrong-password"), basic("intruder", PASSWORD), {"Authorization": "Bearer nope"}):
        assert (await client.get(path, headers=wrong)).status_code == 401
    for right in (BEARER, basic("ops", PASSWORD), basic("anyone", TOKEN)):
        assert (await client.get(path, headers=right)).status_code != 401


async def test_changes_need_credentials_too(client: httpx.AsyncClient) -> None:
    body = {"func": f"{JOB}:noop", "trigger": "interval", "trigger_args": {"hours": 1}, "id": "x"}
    assert (await client.post("/api/tasks", json=body)).status_code == 401
    assert (await client.delete("/api/tasks/x")).status_code == 401
    assert (await client.post("/api/tasks", json=body, headers=BEARER)).status_code == 201


async def test_cross_site_forgery_is_refused(client: httpx.AsyncClient) -> None:
    """A browser sends basic-auth credentials with any request to the site, a forged one
    too: changes then need the page's CSRF token and a same-origin request."""
    body = {"func": f"{JOB}:noop", "trigger": "interval", "trigger_args": {"hours": 1}, "id": "victim"}
    assert (await client.post("/api/tasks", json=body, headers=BEARER)).status_code == 201
    token = await csrf(client)
    browser = basic("ops", PASSWORD)
    forged = [
        browser,  # no token: a form or fetch from another site cannot read it
        {**browser, "X-CSRF-Token": "0" * 64},
        {**browser, "X-CSRF-Token": token, "Origin": "https://evil.example"},
        {**browser, "X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"},
        {**browser, "X-CSRF-Token": token, "Origin": "null"},
    ]
    for headers in forged:
        response = await client.post("/api/tasks/victim/pause", headers=headers)
        assert response.status_code == 403, headers
        assert "cross-site" in response.json()["detail"]
        assert (await client.delete("/api/tasks/victim", headers=headers)).status_code == 403
    shown = await client.get("/api/tasks/victim", headers=browser)
    assert shown.json()["schedule_state"] == "scheduled"  # nothing happened

    same_site = {**browser, "X-CSRF-Token": token, "Origin": "http://ops.example.org", "Sec-Fetch-Site": "same-origin"}
    assert (await client.post("/api/tasks/victim/pause", headers=same_site)).status_code == 200
    assert (await client.post("/api/tasks/victim/resume", headers=BEARER)).status_code == 200  # scripts: no CSRF


def test_binding_beyond_loopback_without_credentials_is_refused_at_start_up() -> None:
    for host in ("0.0.0.0", "::", "192.0.2.10", "example.org"):
        with pytest.raises(InsecureBindError, match="refusing to serve on"):
            check_bind(host, Credentials())
    for host in ("127.0.0.1", "::1", "localhost"):
        check_bind(host, Credentials())
    check_bind("0.0.0.0", Credentials(token=TOKEN))


def test_serve_refuses_a_public_address_without_credentials(sqlite_target: StoreTarget) -> None:
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "0", *sqlite_target.cli_args(), timeout=30)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("asyncz-like: error: host: refusing to serve on '0.0.0.0' without credentials")


async def test_without_credentials_only_loopback_is_served(sqlite_target: StoreTarget) -> None:
    app = create_app(store=sqlite_target.url, store_options=sqlite_target.options)
    try:
        cases: list[tuple[Any, str, int]] = [
            (("127.0.0.1", 40000), "http://127.0.0.1:8000", 200),
            (("127.0.0.1", 40000), "http://localhost:8000", 200),
            (("203.0.113.7", 40000), "http://127.0.0.1:8000", 403),  # arrived from elsewhere
            (("127.0.0.1", 40000), "http://rebound.example:8000", 403),  # DNS rebinding
        ]
        for peer, base_url, status in cases:
            transport = httpx.ASGITransport(app=app, client=peer)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                assert (await http.get("/api/tasks")).status_code == status, (peer, base_url)
    finally:
        app.state.operator_client.close()


async def test_secrets_never_appear_in_pages_errors_or_logs(
    sqlite_target: StoreTarget, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(store=sqlite_target.url, store_options=sqlite_target.options, token=TOKEN)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        seen = []
        with caplog.at_level(logging.DEBUG):
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
                for path in PATHS:
                    for headers in ({}, BEARER, basic("x", "wrong")):
                        response = await http.get(path, headers=headers)
                        seen.append(response.text + str(response.headers))
                bad = {"func": f"{JOB}:noop", "trigger": "cron", "trigger_args": {"hour": TOKEN}}
                response = await http.post("/api/tasks", json=bad, headers=BEARER)
                assert response.status_code == 422
                seen.append(response.text)
        assert all(TOKEN not in text for text in seen)
        assert TOKEN not in caplog.text
        assert "token=***" in repr(Credentials(token=TOKEN)) and TOKEN not in repr(Credentials(token=TOKEN))
    finally:
        app.state.operator_client.close()


def test_credentials_must_be_sound() -> None:
    with pytest.raises(ValueError, match="username/password"):
        Credentials(username="ops")
    with pytest.raises(ValueError, match="token: use at least 8 characters"):
        Credentials(token="abc")


async def test_security_headers_forbid_framing_and_foreign_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers=BEARER)
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"

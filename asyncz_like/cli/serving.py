"""``run`` (a scheduler from a config file until Ctrl-C) and ``serve`` (the REST API and the
dashboard over a store)."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from asyncz_like.cli import logs
from asyncz_like.cli.app import cli
from asyncz_like.cli.errors import ExitCode
from asyncz_like.cli.session import Session, store_command
from asyncz_like.operations.client import NoStoreError, StoreClient
from asyncz_like.operations.redact import url_password

TOKEN_ENV = "ASYNCZ_LIKE_TOKEN"
USERNAME_ENV = "ASYNCZ_LIKE_USERNAME"
PASSWORD_ENV = "ASYNCZ_LIKE_PASSWORD"
SECRET_KEY_ENV = "ASYNCZ_LIKE_SECRET_KEY"


@cli.command("run")
@store_command
def run(session: Session) -> int:
    """Run a scheduler on the config file's stores, executors and tasks until Ctrl-C.

    Tasks the config lists are added unless the store already holds their id (an operator
    may have paused or rescheduled them); set replace_existing = true to replace them.
    """
    from asyncz_like.operations.config import scheduler_from_config
    from asyncz_like.operations.runner import run_until_stopped

    logs.configure(session.redactor, service=True)
    data = session.config_data() or {}
    if session.store is None and not data:
        raise NoStoreError()
    overrides: dict[str, Any] = {}
    if session.timezone is not None:
        overrides["timezone"] = session.timezone
    scheduler, specs = scheduler_from_config(data, **overrides)
    if session.store is not None:
        session.redactor.add(*url_password(session.store))
        if "default" in scheduler.stores:
            scheduler.remove_store("default")
        scheduler.add_store(session.store, "default", **session.options())
    client = StoreClient(scheduler, owned=False, redactor=session.redactor)
    stores = ", ".join(f"{item['alias']}={item['url'] or item['type']}" for item in client.describe()["stores"])

    def ready(added: list[str]) -> None:
        click.echo(f"scheduler {scheduler.scheduler_id} running on {stores or 'memory'}; Ctrl-C stops it", err=True)
        if added:
            click.echo(f"added {len(added)} task(s) from the config: {', '.join(added)}", err=True)

    asyncio.run(run_until_stopped(scheduler, specs, ready))
    click.echo("scheduler stopped", err=True)
    return ExitCode.OK


@cli.command("serve")
@store_command
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token", envvar=TOKEN_ENV, help=f"A bearer token every request needs (env {TOKEN_ENV}).")
@click.option("--username", envvar=USERNAME_ENV, help=f"User for HTTP basic auth (env {USERNAME_ENV}).")
@click.option("--password", envvar=PASSWORD_ENV, help=f"Password for HTTP basic auth (env {PASSWORD_ENV}).")
@click.option(
    "--secret-key",
    envvar=SECRET_KEY_ENV,
    help=f"Signs CSRF tokens; set it when several processes serve (env {SECRET_KEY_ENV}).",
)
@click.option(
    "--allowed-host", "allowed_hosts", multiple=True, help="A Host header to accept (default: any with credentials)."
)
@click.option("--root-path", default="", help="The path prefix a proxy serves this under.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    session: Session,
    host: str,
    port: int,
    token: str | None,
    username: str | None,
    password: str | None,
    secret_key: str | None,
    allowed_hosts: tuple[str, ...],
    root_path: str,
    log_level: str,
) -> int:
    """Serve the REST API and the dashboard over the store with uvicorn.

    Without --token or --username/--password it listens on loopback only: any other
    address is refused. Prefer the environment variables for secrets (the command line is
    visible to other users of the machine).
    """
    try:
        import uvicorn

        from asyncz_like.web import Credentials, check_bind, create_app
    except ImportError as exc:
        raise ImportError(f"serve needs the web extra: pip install 'asyncz-like[web]' ({exc})") from None
    logs.configure(session.redactor, service=True)
    credentials = Credentials(token=token or None, username=username or None, password=password or None)
    session.redactor.add(token, password, secret_key)
    check_bind(host, credentials)
    client = session.client(executor="threadpool")
    app = create_app(
        client=client,
        credentials=credentials,
        secret_key=secret_key,
        allowed_hosts=list(allowed_hosts) or None,
    )
    click.echo(f"serving the dashboard on http://{_url_host(host)}:{port}{root_path}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, root_path=root_path, log_level=log_level, server_header=False)
    return ExitCode.OK


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

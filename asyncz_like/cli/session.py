"""Options every store command takes, and the client they open."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click

from asyncz_like.cli import logs
from asyncz_like.operations.client import CONFIG_ENV, STORE_ENV, StoreClient, open_client
from asyncz_like.operations.config import load_config_file
from asyncz_like.operations.redact import Redactor

TIMEZONE_ENV = "ASYNCZ_LIKE_TIMEZONE"


@dataclass
class Session:
    """One command's view of the store: where it is, how to print, which secrets to mask."""

    store: str | None = None
    store_options: tuple[str, ...] = ()
    config: str | None = None
    timezone: str | None = None
    as_json: bool = False
    redactor: Redactor = field(default_factory=Redactor)

    def config_data(self) -> dict[str, Any] | None:
        return None if self.config is None else load_config_file(self.config)

    def options(self) -> dict[str, Any]:
        return parse_pairs(self.store_options, "--store-option")

    def client(self, executor: str = "debug") -> StoreClient:
        return open_client(
            self.store,
            self.options(),
            self.config_data(),
            timezone=self.timezone,
            executor=executor,
            redactor=self.redactor,
        )


#: the Session of the command being run, for the error handler's redactor
CURRENT: list[Session] = []


def store_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds ``--store``, ``--store-option``, ``--config``, ``--timezone`` and ``--json``; the
    command receives a ``session``."""

    @functools.wraps(func)
    def wrapper(
        store: str | None,
        store_option: tuple[str, ...],
        config: str | None,
        timezone: str | None,
        as_json: bool,
        **kwargs: Any,
    ) -> Any:
        session = Session(store or None, store_option, config or None, timezone or None, as_json)
        CURRENT.append(session)
        logs.configure(session.redactor)
        return func(session=session, **kwargs)

    decorators = [
        click.option(
            "--store",
            envvar=STORE_ENV,
            metavar="URL",
            help=f"The store's URL, e.g. sqlite:///tasks.db or postgresql+psycopg://user@host/db (env {STORE_ENV}).",
        ),
        click.option(
            "--store-option",
            multiple=True,
            metavar="KEY=VALUE",
            help="A store constructor option, e.g. tablename=tasks (JSON values are parsed); repeatable.",
        ),
        click.option(
            "--config",
            envvar=CONFIG_ENV,
            metavar="FILE",
            help=f"A scheduler config file (TOML, JSON or YAML) naming the stores (env {CONFIG_ENV}).",
        ),
        click.option(
            "--timezone", envvar=TIMEZONE_ENV, metavar="ZONE", help="Zone for triggers given here (default: local)."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
    ]
    for decorate in reversed(decorators):
        wrapper = decorate(wrapper)
    return wrapper


def parse_value(text: str) -> Any:
    """A JSON value if ``text`` is one (``5``, ``true``, ``[1, 2]``, ``"x"``), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Iterable[str], option: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        parsed[key.strip()] = parse_value(value)
    return parsed


def parse_json(text: str | None, option: str, kind: type) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None
    if not isinstance(value, kind):
        raise click.BadParameter(f"expected a JSON {'list' if kind is list else 'object'}", param_hint=option)
    return value

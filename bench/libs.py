"""One adapter per library, so every workload drives all three through the same few verbs.

Each adapter uses its library's natural asyncio API (asyncz: ``AsyncIOScheduler.add_task``;
APScheduler 3: ``AsyncIOScheduler.add_job``; ours: ``AsyncIOScheduler.add_task``) with the
same settings: the default asyncio executor, **each library's default misfire grace**
(1 s in all three) so that a run started too late is reported missed instead of hidden,
coalescing off so every due run counts, one instance per task. ``listen("missed", fn)``
lets a workload count the runs a library gave up on.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

LIBS = ("ours", "asyncz", "apscheduler")
#: stores each library can use in the benchmarks (APScheduler 3 has no file store)
STORES = {
    "ours": ("memory", "file", "sqlite", "postgres", "mariadb", "redis", "mongodb"),
    "asyncz": ("memory", "file", "sqlite", "postgres", "mariadb", "redis", "mongodb"),
    "apscheduler": ("memory", "sqlite", "postgres", "mariadb", "redis", "mongodb"),
}
#: the environment variable that holds each server store's URL
URL_ENV = {
    "postgres": "ASYNCZ_TEST_POSTGRES_URL",
    "mariadb": "ASYNCZ_TEST_MYSQL_URL",
    "redis": "ASYNCZ_TEST_REDIS_URL",
    "mongodb": "ASYNCZ_TEST_MONGODB_URL",
}
SQL_STORES = ("sqlite", "postgres", "mariadb")
EVENTS = ("missed", "executed")
DEFAULTS = {"coalesce": False, "max_instances": 1}  # misfire grace: each library's default


class Adapter:
    """The verbs a workload needs; subclasses map them onto one library.

    ``store`` is an alias from ``STORES``; ``url`` its location (a database URL, or the
    directory of a file store); ``name`` picks the table, keys or collection, so that runs
    that must not see each other's tasks use different names."""

    name = ""

    def __init__(self, store: str = "memory", url: str | None = None, name: str = "bench") -> None:
        if store not in STORES[self.name]:
            raise ValueError(f"store: {self.name} has no {store!r} store; expected one of {STORES[self.name]}")
        if store != "memory" and not url:
            raise ValueError(f"url: the {store!r} store needs a URL or directory")
        self.store = store
        self.url = url
        self.table = name
        self.scheduler: Any = None

    def build(self) -> Any:
        raise NotImplementedError

    def start(self, paused: bool = False) -> None:
        self.scheduler = self.scheduler or self.build()
        self.scheduler.start(paused=paused)

    def resume(self) -> None:
        self.scheduler.resume()

    def clear(self) -> None:
        """Empty the store, so a shared server starts every repetition from nothing."""
        self.scheduler.remove_all_tasks(None)

    def shutdown(self, wait: bool = False) -> None:
        self.scheduler.shutdown(wait=wait)

    def listen(self, event: str, fn: Any) -> None:
        """Call ``fn(event)`` on every ``event`` ("missed" or "executed") of this library."""
        self.scheduler = self.scheduler or self.build()
        self.scheduler.add_listener(fn, self.event_code(event))

    def count(self, event: str) -> list[int]:
        """A one-item list counting ``event``s from now on (safe from pool threads: ``next`` on
        an ``itertools.count`` is atomic under the GIL)."""
        counter, seen = itertools.count(1), [0]

        def bump(_: Any) -> None:
            seen[0] = next(counter)

        self.listen(event, bump)
        return seen

    def event_code(self, event: str) -> int:
        raise NotImplementedError

    def add_interval(
        self,
        fn: Any,
        seconds: float,
        start: datetime | None = None,
        args: tuple[Any, ...] = (),
        end: datetime | None = None,
        id: str | None = None,
    ) -> None:
        """Every ``seconds`` from ``start`` (default: one interval from now) until ``end``;
        ``id`` names the task (default: the library's)."""
        raise NotImplementedError

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        raise NotImplementedError


def _check_event(event: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"event: expected one of {EVENTS}, got {event!r}")


def _redis_options(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    db = int(parsed.path.lstrip("/") or 0)
    return {"host": parsed.hostname or "localhost", "port": parsed.port or 6379, "db": db}


def _mongo(url: str) -> tuple[Any, str]:
    """A client for ``url`` and the database its path names."""
    from pymongo import MongoClient

    return MongoClient(url), urlparse(url).path.lstrip("/") or "bench"


class AsynczApi(Adapter):
    """Ours and asyncz add tasks with the same call (our API follows asyncz's)."""

    def add_interval(
        self,
        fn: Any,
        seconds: float,
        start: datetime | None = None,
        args: tuple[Any, ...] = (),
        end: datetime | None = None,
        id: str | None = None,
    ) -> None:
        self.scheduler.add_task(fn, "interval", seconds=seconds, start_at=start, end_at=end, args=args, id=id)

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        self.scheduler.add_task(fn, "date", run_at=run_date, args=args)


class Ours(AsynczApi):
    name = "ours"

    def build(self) -> Any:
        from asyncz_like import AsyncIOScheduler

        stores: dict[str, Any] = {}
        table = f"asyncz_like_{self.table}"
        if self.store in SQL_STORES:
            stores["default"] = {"type": "sqlalchemy", "database": self.url, "tablename": table}
        elif self.store == "redis":
            stores["default"] = {
                "type": "redis",
                "url": self.url,
                "tasks_key": f"{table}.tasks",
                "run_times_key": f"{table}.run_times",
            }
        elif self.store == "mongodb":
            stores["default"] = {"type": "mongodb", "url": self.url, "collection": table}
        elif self.store == "file":
            stores["default"] = {"type": "file", "directory": os.path.join(self.url or "", table)}
        return AsyncIOScheduler(stores=stores, task_defaults=dict(DEFAULTS))

    def event_code(self, event: str) -> int:
        import asyncz_like

        _check_event(event)
        return asyncz_like.TASK_MISSED if event == "missed" else asyncz_like.TASK_EXECUTED


class Asyncz(AsynczApi):
    name = "asyncz"

    def build(self) -> Any:
        from asyncz.schedulers import AsyncIOScheduler

        stores: dict[str, Any] = {}
        table = f"asyncz_{self.table}"
        if self.store in SQL_STORES:
            from asyncz.stores.sqlalchemy import SQLAlchemyStore

            stores["default"] = SQLAlchemyStore(database=self.url, tablename=table)
        elif self.store == "redis":
            from asyncz.stores.redis import RedisStore

            options = _redis_options(self.url or "")
            stores["default"] = RedisStore(
                database=options.pop("db"), tasks_key=f"{table}.tasks", run_times_key=f"{table}.run_times", **options
            )
        elif self.store == "mongodb":
            from asyncz.stores.mongo import MongoDBStore

            client, database = _mongo(self.url or "")
            stores["default"] = MongoDBStore(database=database, collection=table, client=client)
        elif self.store == "file":
            from asyncz.stores.file import FileStore

            stores["default"] = FileStore(directory=os.path.join(self.url or "", table))
        if stores:
            return AsyncIOScheduler(stores=stores, task_defaults=dict(DEFAULTS))
        return AsyncIOScheduler(task_defaults=dict(DEFAULTS))

    def event_code(self, event: str) -> int:
        from asyncz.events import constants

        _check_event(event)
        return constants.TASK_MISSED if event == "missed" else constants.TASK_EXECUTED


class APScheduler3(Adapter):
    name = "apscheduler"

    def build(self) -> Any:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        jobstores: dict[str, Any] = {}
        table = f"apscheduler_{self.table}"
        if self.store in SQL_STORES:
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

            jobstores["default"] = SQLAlchemyJobStore(url=self.url, tablename=table)
        elif self.store == "redis":
            from apscheduler.jobstores.redis import RedisJobStore

            jobstores["default"] = RedisJobStore(
                jobs_key=f"{table}.jobs", run_times_key=f"{table}.run_times", **_redis_options(self.url or "")
            )
        elif self.store == "mongodb":
            from apscheduler.jobstores.mongodb import MongoDBJobStore

            client, database = _mongo(self.url or "")
            jobstores["default"] = MongoDBJobStore(database=database, collection=table, client=client)
        return AsyncIOScheduler(jobstores=jobstores, job_defaults=dict(DEFAULTS))

    def clear(self) -> None:
        self.scheduler.remove_all_jobs()

    def event_code(self, event: str) -> int:
        from apscheduler import events

        _check_event(event)
        return events.EVENT_JOB_MISSED if event == "missed" else events.EVENT_JOB_EXECUTED

    def add_interval(
        self,
        fn: Any,
        seconds: float,
        start: datetime | None = None,
        args: tuple[Any, ...] = (),
        end: datetime | None = None,
        id: str | None = None,
    ) -> None:
        self.scheduler.add_job(fn, "interval", seconds=seconds, start_date=start, end_date=end, args=args, id=id)

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        self.scheduler.add_job(fn, "date", run_date=run_date, args=args)


ADAPTERS: dict[str, type[Adapter]] = {"ours": Ours, "asyncz": Asyncz, "apscheduler": APScheduler3}


def adapter(lib: str, store: str = "memory", url: str | None = None, name: str = "bench") -> Adapter:
    try:
        cls = ADAPTERS[lib]
    except KeyError:
        raise ValueError(f"lib: expected one of {sorted(ADAPTERS)}, got {lib!r}") from None
    return cls(store, url, name)

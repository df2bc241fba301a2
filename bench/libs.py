"""One adapter per library, so every workload drives all three through the same few verbs.

Each adapter uses its library's natural asyncio API (asyncz: ``AsyncIOScheduler.add_task``;
APScheduler 3: ``AsyncIOScheduler.add_job``; ours: ``AsyncIOScheduler.add_task``) with the
same settings: the default asyncio executor, a misfire grace of an hour so nothing is
dropped, coalescing off so every due run counts, one instance per task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlparse

GRACE_SECONDS = 3600
LIBS = ("ours", "asyncz", "apscheduler")


class Adapter:
    """The verbs a workload needs; subclasses map them onto one library."""

    name = ""

    def __init__(self, store: str = "memory", url: str | None = None) -> None:
        self.store = store
        self.url = url
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

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def add_interval(self, fn: Any, seconds: float) -> None:
        raise NotImplementedError

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        raise NotImplementedError


def _redis_options(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    db = int(parsed.path.lstrip("/") or 0)
    return {"host": parsed.hostname or "localhost", "port": parsed.port or 6379, "db": db}


class Ours(Adapter):
    name = "ours"

    def build(self) -> Any:
        from asyncz_like import AsyncIOScheduler

        stores: dict[str, Any] = {}
        if self.store in ("sqlite", "postgres"):
            stores["default"] = {"type": "sqlalchemy", "database": self.url, "tablename": "asyncz_like_bench"}
        elif self.store == "redis":
            stores["default"] = {
                "type": "redis",
                "url": self.url,
                "tasks_key": "asyncz_like.bench.tasks",
                "run_times_key": "asyncz_like.bench.run_times",
            }
        defaults = {"mistrigger_grace_time": GRACE_SECONDS, "coalesce": False, "max_instances": 1}
        return AsyncIOScheduler(stores=stores, task_defaults=defaults)

    def add_interval(self, fn: Any, seconds: float) -> None:
        self.scheduler.add_task(fn, "interval", seconds=seconds)

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        self.scheduler.add_task(fn, "date", run_at=run_date, args=args)


class Asyncz(Adapter):
    name = "asyncz"

    def build(self) -> Any:
        from asyncz.schedulers import AsyncIOScheduler

        stores: dict[str, Any] = {}
        if self.store in ("sqlite", "postgres"):
            from asyncz.stores.sqlalchemy import SQLAlchemyStore

            stores["default"] = SQLAlchemyStore(database=self.url, tablename="asyncz_bench")
        elif self.store == "redis":
            from asyncz.stores.redis import RedisStore

            options = _redis_options(self.url or "")
            stores["default"] = RedisStore(
                database=options.pop("db"),
                tasks_key="asyncz.bench.tasks",
                run_times_key="asyncz.bench.run_times",
                **options,
            )
        defaults = {"mistrigger_grace_time": GRACE_SECONDS, "coalesce": False, "max_instances": 1}
        if stores:
            return AsyncIOScheduler(stores=stores, task_defaults=defaults)
        return AsyncIOScheduler(task_defaults=defaults)

    def add_interval(self, fn: Any, seconds: float) -> None:
        self.scheduler.add_task(fn, "interval", seconds=seconds)

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        self.scheduler.add_task(fn, "date", run_at=run_date, args=args)


class APScheduler3(Adapter):
    name = "apscheduler"

    def build(self) -> Any:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        jobstores: dict[str, Any] = {}
        if self.store in ("sqlite", "postgres"):
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

            jobstores["default"] = SQLAlchemyJobStore(url=self.url)
        elif self.store == "redis":
            from apscheduler.jobstores.redis import RedisJobStore

            jobstores["default"] = RedisJobStore(**_redis_options(self.url or ""))
        defaults = {"misfire_grace_time": GRACE_SECONDS, "coalesce": False, "max_instances": 1}
        return AsyncIOScheduler(jobstores=jobstores, job_defaults=defaults)

    def clear(self) -> None:
        self.scheduler.remove_all_jobs()

    def add_interval(self, fn: Any, seconds: float) -> None:
        self.scheduler.add_job(fn, "interval", seconds=seconds)

    def add_date(self, fn: Any, run_date: datetime, args: tuple[Any, ...] = ()) -> None:
        self.scheduler.add_job(fn, "date", run_date=run_date, args=args)


ADAPTERS: dict[str, type[Adapter]] = {"ours": Ours, "asyncz": Asyncz, "apscheduler": APScheduler3}


def adapter(name: str, store: str = "memory", url: str | None = None) -> Adapter:
    try:
        return ADAPTERS[name](store, url)
    except KeyError:
        raise ValueError(f"lib: expected one of {sorted(ADAPTERS)}, got {name!r}") from None

"""Every import path the asyncz API reference shows works under ``asyncz_like`` and gives the
library's own object, so renaming ``asyncz`` to ``asyncz_like`` is the whole change."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import asyncz_like
from asyncz_like.abc import Store, Trigger
from asyncz_like.executors.asyncio import AsyncIOExecutor
from asyncz_like.executors.debug import DebugExecutor
from asyncz_like.executors.pool import ThreadPoolExecutor
from asyncz_like.executors.process_pool import ProcessPoolExecutor
from asyncz_like.schedulers.asyncio import AsyncIOScheduler, NativeAsyncIOScheduler
from asyncz_like.schedulers.state import SchedulerState
from asyncz_like.tasks.info import TaskScheduleState
from asyncz_like.tasks.task import Task
from asyncz_like.triggers.combination import AndTrigger, OrTrigger
from asyncz_like.triggers.cron.trigger import CronTrigger
from asyncz_like.triggers.date import DateTrigger
from asyncz_like.triggers.interval import IntervalTrigger
from asyncz_like.triggers.shutdown import ShutdownTrigger

#: every dotted class path of the reference (``asyncz.`` replaced by ``asyncz_like.``)
REFERENCE_PATHS = [
    "schedulers.asyncio.AsyncIOScheduler",
    "schedulers.asyncio.NativeAsyncIOScheduler",
    "tasks.base.Task",
    "triggers.date.DateTrigger",
    "triggers.interval.IntervalTrigger",
    "triggers.cron.trigger.CronTrigger",
    "triggers.combination.AndTrigger",
    "triggers.combination.OrTrigger",
    "triggers.shutdown.ShutdownTrigger",
    "executors.asyncio.AsyncIOExecutor",
    "executors.pool.ThreadPoolExecutor",
    "executors.process_pool.ProcessPoolExecutor",
    "executors.debug.DebugExecutor",
    "stores.memory.MemoryStore",
    "stores.file.FileStore",
    "stores.mongo.MongoDBStore",
    "stores.redis.RedisStore",
    "stores.sqlalchemy.SQLAlchemyStore",
    "events.base.SchedulerEvent",
    "events.base.TaskEvent",
    "events.base.TaskSubmissionEvent",
    "events.base.TaskExecutionEvent",
    # the reference's own ``from asyncz.tasks import Task`` / ``from asyncz.utils import get_callable_name``
    "tasks.Task",
    "utils.get_callable_name",
]


def _resolve(dotted: str) -> object:
    module, _, name = f"asyncz_like.{dotted}".rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("path", REFERENCE_PATHS)
def test_every_class_path_of_the_reference_imports(path: str) -> None:
    assert _resolve(path) is not None


@pytest.mark.parametrize(
    ("package", "names", "owners"),
    [
        (
            "triggers",
            ["CronTrigger", "IntervalTrigger", "DateTrigger", "AndTrigger", "OrTrigger", "ShutdownTrigger"],
            [CronTrigger, IntervalTrigger, DateTrigger, AndTrigger, OrTrigger, ShutdownTrigger],
        ),
        (
            "executors",
            ["ThreadPoolExecutor", "ProcessPoolExecutor", "AsyncIOExecutor", "DebugExecutor"],
            [ThreadPoolExecutor, ProcessPoolExecutor, AsyncIOExecutor, DebugExecutor],
        ),
        ("enums", ["SchedulerState", "TaskScheduleState"], [SchedulerState, TaskScheduleState]),
        ("tasks.base", ["Task"], [Task]),
        (
            "schedulers.asyncio",
            ["AsyncIOScheduler", "NativeAsyncIOScheduler"],
            [AsyncIOScheduler, NativeAsyncIOScheduler],
        ),
    ],
)
def test_package_level_names_are_the_librarys_own_objects(package: str, names: list[str], owners: list[type]) -> None:
    module = importlib.import_module(f"asyncz_like.{package}")
    assert [getattr(module, name) for name in names] == owners
    assert all(getattr(module, name) is owner for name, owner in zip(names, owners, strict=True))


def test_store_classes_import_from_the_stores_package_as_the_same_classes() -> None:
    from asyncz_like.stores import FileStore, MemoryStore, MongoDBStore, RedisStore, SQLAlchemyStore
    from asyncz_like.stores.file import FileStore as OwnFile
    from asyncz_like.stores.memory import MemoryStore as OwnMemory
    from asyncz_like.stores.mongo import MongoDBStore as OwnMongo
    from asyncz_like.stores.redis import RedisStore as OwnRedis
    from asyncz_like.stores.sqlalchemy import SQLAlchemyStore as OwnSQL

    assert (FileStore, MemoryStore, MongoDBStore, RedisStore, SQLAlchemyStore) == (
        OwnFile,
        OwnMemory,
        OwnMongo,
        OwnRedis,
        OwnSQL,
    )


def test_base_classes_asyncz_users_subclass_are_the_plugin_contracts() -> None:
    from asyncz_like.stores import BaseStore
    from asyncz_like.triggers import BaseTrigger

    assert BaseTrigger is Trigger
    assert BaseStore is Store


def test_importing_the_stores_package_needs_no_optional_driver() -> None:
    """A fresh interpreter: ``import asyncz_like.stores`` loads neither redis, pymongo nor SQLAlchemy."""
    code = (
        "import sys, asyncz_like.stores, asyncz_like.triggers, asyncz_like.executors\n"
        "print(sorted(m for m in ('redis', 'pymongo', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_an_unknown_store_name_is_an_attribute_error() -> None:
    import asyncz_like.stores

    with pytest.raises(AttributeError, match="NoSuchStore"):
        asyncz_like.stores.NoSuchStore  # noqa: B018


def test_event_codes_import_from_events_constants_with_asyncz_values() -> None:
    from asyncz_like.events.constants import (
        ALL_EVENTS,
        SCHEDULER_START,
        SCHEDULER_STARTED,
        TASK_ADDED,
        TASK_EXECUTED,
        TASK_MAX_INSTANCES,
    )

    # asyncz's values: one bit each, in the same order
    assert (SCHEDULER_START, TASK_ADDED, TASK_EXECUTED, TASK_MAX_INSTANCES) == (1, 512, 4096, 65536)
    assert SCHEDULER_STARTED == SCHEDULER_START == asyncz_like.SCHEDULER_STARTED
    assert ALL_EVENTS is asyncz_like.ALL_EVENTS


def test_the_events_package_still_exports_everything_it_did() -> None:
    import asyncz_like.events as events
    import asyncz_like.events.base as base
    import asyncz_like.events.constants as constants

    for name in ("SchedulerEvent", "TaskEvent", "TaskSubmissionEvent", "TaskExecutionEvent", "TaskRestoreFailedEvent"):
        assert getattr(events, name) is getattr(base, name)
    for name in ("ALL_EVENTS", "EVENT_ALL", "TASK_RESTORE_FAILED", "TASK_RUN_ABANDONED", "EVENT_NAMES"):
        assert getattr(events, name) is getattr(constants, name)
    assert asyncz_like.TaskEvent is base.TaskEvent


def test_get_callable_name_names_a_function() -> None:
    from asyncz_like.utils import get_callable_name

    assert get_callable_name(test_get_callable_name_names_a_function) == "test_get_callable_name_names_a_function"

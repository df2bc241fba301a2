"""The plugin registry resolves aliases, references and instances, and says clearly when it cannot."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from asyncz_like import AsyncIOScheduler, plugins
from asyncz_like.executors.debug import DebugExecutor
from asyncz_like.stores.memory import MemoryStore
from asyncz_like.triggers.interval import IntervalTrigger

UTC = timezone.utc


def test_builtins_are_registered_under_the_public_entry_point_groups() -> None:
    assert {"date", "interval", "cron", "and", "or", "shutdown"} <= set(plugins.aliases(plugins.TRIGGERS))
    assert {"asyncio", "threadpool", "processpool", "debug"} <= set(plugins.aliases(plugins.EXECUTORS))
    assert {"memory", "file", "sqlalchemy", "redis", "mongodb"} <= set(plugins.aliases(plugins.STORES))


def test_an_alias_resolves_to_its_class_and_is_cached() -> None:
    first = plugins.plugin_class(plugins.TRIGGERS, "interval")
    assert first is IntervalTrigger
    assert plugins.plugin_class(plugins.TRIGGERS, "interval") is first


def test_a_module_class_string_is_imported() -> None:
    cls = plugins.plugin_class(plugins.STORES, "asyncz_like.stores.memory:MemoryStore")
    assert cls is MemoryStore


def test_an_instance_passes_through_untouched() -> None:
    store = MemoryStore()
    assert plugins.create(plugins.STORES, store) is store


def test_unknown_alias_raises_lookup_error_listing_the_known_ones() -> None:
    with pytest.raises(LookupError) as info:
        plugins.plugin_class(plugins.EXECUTORS, "warp-drive")
    message = str(info.value)
    assert "'warp-drive'" in message
    assert "threadpool" in message and "debug" in message


def test_a_reference_to_a_class_of_the_wrong_base_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"not a subclass of asyncz_like\.abc\.Store"):
        plugins.plugin_class(plugins.STORES, "asyncz_like.executors.debug:DebugExecutor")


def test_scheduler_uses_plugins_by_alias() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": "debug"}, stores={"default": {"type": "memory"}})
    assert isinstance(scheduler.executors["default"], DebugExecutor)
    assert isinstance(scheduler.stores["default"], MemoryStore)


def test_third_party_distribution_plugs_in_by_alias(tiny_plugin: str) -> None:
    assert tiny_plugin in plugins.aliases(plugins.TRIGGERS)
    scheduler = AsyncIOScheduler(timezone="UTC")
    task = scheduler.add_task(print, tiny_plugin, id="tiny")
    assert type(task.trigger).__module__ == "tiny_plugin"
    at = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)
    assert task.trigger.get_next_trigger_time(UTC, None, at) == datetime(2026, 1, 1, 10, 1, tzinfo=UTC)


def test_third_party_entry_point_of_the_wrong_base_raises_type_error(tiny_plugin: str) -> None:
    with pytest.raises(TypeError, match="tiny_not_a_trigger"):
        plugins.plugin_class(plugins.TRIGGERS, "tiny_not_a_trigger")

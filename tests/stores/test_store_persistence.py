"""What persistent stores add to the contract: the serializer is a choice, stored state
can be encrypted, and a task that cannot be restored is set aside, never deleted."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from asyncz_like.abc import SetAsideTask
from asyncz_like.serializers import JSONSerializer, PickleSerializer
from asyncz_like.stores._encryption import generate_key
from asyncz_like.triggers.cron.trigger import CronTrigger
from tests.stores._raw import raw_state, write_raw_state
from tests.stores.test_store_contract import at, ids, make_task

# -- serializers ---------------------------------------------------------------------


@pytest.mark.parametrize("serializer", ["pickle", "json"])
def test_either_serializer_round_trips_a_task_through_the_store(make_persistent_store: Any, serializer: str) -> None:
    store = make_persistent_store(serializer=serializer)
    trigger = CronTrigger(day_of_week="mon-fri", hour=9, timezone="Europe/Berlin", start_at="2026-03-01T00:00:00")
    store.add_task(make_task("a", at(10), args=(1, "x", [2.5]), kwargs={"when": at(5)}, trigger=trigger))

    found = make_persistent_store(serializer=serializer).lookup_task("a")

    assert found.args == (1, "x", [2.5])
    assert found.kwargs == {"when": at(5)}
    assert found.trigger == trigger
    assert found.next_run_time == at(10)
    stored = raw_state(store, "a")
    if serializer == "json":
        assert json.loads(stored)["fn_reference"] == "tests.stores._tasks:noop"
    else:
        assert stored[:1] == b"\x80"  # a pickle


def test_json_serializer_refuses_arguments_it_cannot_restore(make_persistent_store: Any) -> None:
    store = make_persistent_store(serializer="json")

    with pytest.raises(TypeError, match=r"JSON serializer: cannot store a builtins\.set"):
        store.add_task(make_task("a", at(10), args=({1, 2},)))

    assert store.lookup_task("a") is None


def test_serializer_instances_are_accepted_and_bad_names_are_named() -> None:
    from asyncz_like.stores.file import FileStore

    assert isinstance(FileStore("unused", serializer=JSONSerializer()).serializer, JSONSerializer)
    assert isinstance(FileStore("unused").serializer, PickleSerializer)
    with pytest.raises(ValueError, match=r"serializer: expected 'pickle', 'json'.*'yaml'"):
        FileStore("unused", serializer="yaml")


# -- encryption ----------------------------------------------------------------------


def test_encrypted_state_round_trips_with_the_right_key_and_hides_the_arguments(make_persistent_store: Any) -> None:
    key = generate_key()
    store = make_persistent_store(encryption_key=key)
    store.add_task(make_task("a", at(10), args=("very secret argument",)))

    assert b"very secret argument" not in raw_state(store, "a")
    assert make_persistent_store(encryption_key=key).lookup_task("a").args == ("very secret argument",)


def test_the_key_can_come_from_an_environment_variable(
    make_persistent_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASYNCZ_TEST_STORE_KEY", generate_key())
    store = make_persistent_store(encryption_key_env="ASYNCZ_TEST_STORE_KEY")
    store.add_task(make_task("a", at(10), args=("x",)))

    assert make_persistent_store(encryption_key_env="ASYNCZ_TEST_STORE_KEY").lookup_task("a").args == ("x",)
    assert make_persistent_store().lookup_task("a") is None  # no key: set aside, not garbage


def test_a_wrong_key_sets_the_task_aside_with_a_clear_reason_and_deletes_nothing(make_persistent_store: Any) -> None:
    make_persistent_store(encryption_key=generate_key()).add_task(make_task("a", at(10)))
    wrong = make_persistent_store(encryption_key=generate_key())

    assert wrong.get_due_tasks(at(100)) == []
    [set_aside] = wrong.get_set_aside_tasks()
    assert set_aside.task_id == "a"
    assert "encrypted with a different key" in set_aside.reason
    assert raw_state(wrong, "a") is not None


def test_bad_keys_are_refused_at_construction_naming_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    from asyncz_like.stores.file import FileStore

    with pytest.raises(ValueError, match="encryption_key: expected a Fernet key"):
        FileStore("unused", encryption_key="too short")
    monkeypatch.delenv("ASYNCZ_NO_SUCH_KEY", raising=False)
    with pytest.raises(ValueError, match="encryption_key_env: the environment variable 'ASYNCZ_NO_SUCH_KEY'"):
        FileStore("unused", encryption_key_env="ASYNCZ_NO_SUCH_KEY")


# -- set-aside -----------------------------------------------------------------------


def test_a_corrupt_task_is_set_aside_while_healthy_ones_in_the_same_pass_are_returned(
    make_persistent_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_persistent_store()
    store.add_task(make_task("broken", at(5)))
    store.add_task(make_task("healthy-1", at(10)))
    store.add_task(make_task("healthy-2", at(20)))
    write_raw_state(store, "broken", b"\x80\x05 this is not a pickle")

    with caplog.at_level(logging.ERROR, logger="asyncz_like.stores"):
        due = store.get_due_tasks(at(100))

    assert ids(due) == ["healthy-1", "healthy-2"]
    assert [task.task_id for task in store.get_set_aside_tasks()] == ["broken"]
    assert "'broken'" in caplog.text and "set aside" in caplog.text
    assert raw_state(store, "broken") == b"\x80\x05 this is not a pickle"  # untouched
    assert ids(store.get_all_tasks()) == ["healthy-1", "healthy-2"]
    # a due set-aside task does not make the scheduler spin on it
    assert store.get_next_run_time() == at(10)
    # and it is reported again the next time it is read, still not deleted
    assert ids(store.get_due_tasks(at(100))) == ["healthy-1", "healthy-2"]
    assert raw_state(store, "broken") is not None


def test_deleting_a_set_aside_task_removes_it(make_persistent_store: Any) -> None:
    store = make_persistent_store()
    store.add_task(make_task("broken", at(5)))
    write_raw_state(store, "broken", b"garbage")
    assert store.get_due_tasks(at(100)) == []

    store.delete_task("broken")

    assert raw_state(store, "broken") is None
    assert store.get_set_aside_tasks() == []
    assert store.get_next_run_time() is None


@pytest.fixture
def vanishing_module(tmp_path: Path) -> Any:
    """A real module holding a task function, which the test can then make unimportable."""
    name = f"vanishing_{tmp_path.name.replace('-', '_')}"
    source = tmp_path / f"{name}.py"
    source.write_text("def job():\n    return 'ran'\n")
    sys.path.insert(0, str(tmp_path))
    module = importlib.import_module(name)

    def vanish() -> None:
        source.unlink()
        sys.modules.pop(name, None)
        importlib.invalidate_caches()

    module.vanish = vanish  # type: ignore[attr-defined]
    yield module
    sys.path.remove(str(tmp_path))
    sys.modules.pop(name, None)


def test_a_task_whose_function_no_longer_imports_is_set_aside_not_deleted(
    make_persistent_store: Any, vanishing_module: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_persistent_store()
    store.add_task(make_task("healthy", at(10)))
    store.add_task(make_task("orphan", at(5), fn=vanishing_module.job))
    store.add_task(make_task("paused-orphan", None, fn=vanishing_module.job))
    vanishing_module.vanish()

    reopened = make_persistent_store()
    with caplog.at_level(logging.ERROR, logger="asyncz_like.stores"):
        due = reopened.get_due_tasks(at(100))

    assert ids(due) == ["healthy"]
    assert "'orphan'" in caplog.text and vanishing_module.__name__ in caplog.text
    set_aside = reopened.get_set_aside_tasks()  # reads everything: the paused one is found too
    assert [task.task_id for task in set_aside] == ["orphan", "paused-orphan"]
    assert all(isinstance(task, SetAsideTask) and vanishing_module.__name__ in task.reason for task in set_aside)
    assert raw_state(reopened, "orphan") is not None
    assert raw_state(reopened, "paused-orphan") is not None
    assert reopened.lookup_task("orphan") is None

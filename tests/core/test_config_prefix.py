"""An asyncz settings dict works unchanged: ``asyncz.`` keys are read beside ours, and ours win."""

from __future__ import annotations

from asyncz_like import ManualScheduler


def test_asyncz_prefixed_keys_configure_the_scheduler_and_our_own_keys_win() -> None:
    scheduler = ManualScheduler(
        {
            "asyncz.timezone": "Europe/Berlin",
            "asyncz.task_defaults.coalesce": "false",
            "asyncz.task_defaults.max_instances": "3",
            "asyncz_like.task_defaults.max_instances": "5",
            "unrelated.setting": 1,
        }
    )
    assert str(scheduler.timezone) == "Europe/Berlin"
    assert scheduler.task_defaults["coalesce"] is False
    assert scheduler.task_defaults["max_instances"] == 5


def test_an_explicit_prefix_reads_only_its_own_keys() -> None:
    scheduler = ManualScheduler()
    scheduler.setup({"asyncz.timezone": "Europe/Berlin", "app.timezone": "Asia/Tokyo"}, prefix="app.")
    assert str(scheduler.timezone) == "Asia/Tokyo"

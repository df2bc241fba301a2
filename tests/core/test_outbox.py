"""The event outbox: listeners see events in order, only on the thread that delivers them, and a
run's submission before its outcome; where it can, an event is delivered at once."""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable

import pytest

from asyncz_like.events import SCHEDULER_PAUSED, SCHEDULER_RESUMED, SchedulerEvent
from asyncz_like.schedulers.outbox import EventOutbox


def event(alias: str) -> SchedulerEvent:
    return SchedulerEvent(code=SCHEDULER_PAUSED, alias=alias)


class Hops:
    """A front end's ``schedule_drain`` that keeps the drains asked for, to run them later."""

    def __init__(self) -> None:
        self.queued: list[Callable[[], None]] = []

    def __call__(self, drain: Callable[[], None]) -> None:
        self.queued.append(drain)

    def run(self) -> None:
        queued, self.queued = self.queued, []
        for drain in queued:
            drain()


def test_on_the_delivering_thread_an_event_with_nothing_before_it_is_delivered_before_put_returns() -> None:
    heard: list[str | None] = []
    hops = Hops()
    outbox = EventOutbox(lambda e: heard.append(e.alias), hops, delivers_here=lambda: True)
    outbox.put(event("a"))
    assert heard == ["a"]
    assert hops.queued == [], "no drain was scheduled for it"


def test_elsewhere_events_wait_for_one_scheduled_drain_that_delivers_them_all_in_order() -> None:
    heard: list[str | None] = []
    hops = Hops()
    outbox = EventOutbox(lambda e: heard.append(e.alias), hops, delivers_here=lambda: False)
    for name in "abc":
        outbox.put(event(name))
    assert heard == []
    assert len(hops.queued) == 1, "one drain is queued at a time, however many events wait"
    hops.run()
    assert heard == ["a", "b", "c"]
    outbox.put(event("d"))
    assert len(hops.queued) == 1, "after a drain ran, the next event queues another"


def test_without_a_front_end_every_thread_delivers_at_once() -> None:
    heard: list[str | None] = []
    outbox = EventOutbox(lambda e: heard.append(e.alias))
    outbox.put(event("a"))
    other = threading.Thread(target=outbox.put, args=(event("b"),))
    other.start()
    other.join(5)
    assert heard == ["a", "b"]


def test_events_behind_an_unfilled_slot_wait_for_it_even_on_the_delivering_thread() -> None:
    heard: list[str | None] = []
    outbox = EventOutbox(lambda e: heard.append(e.alias), Hops(), delivers_here=lambda: True)
    submitted = outbox.reserve()
    nothing = outbox.reserve()
    outbox.put(event("outcome"))
    assert heard == [], "the outcome waits for the submission before it"
    nothing.fill(None)
    assert heard == [], "a later slot filled first does not release the queue"
    submitted.fill(event("submitted"))
    assert heard == ["submitted", "outcome"], "a slot filled with None says nothing"


def test_an_event_a_listener_causes_is_delivered_after_the_one_it_is_handling_not_inside_it() -> None:
    calls: list[str] = []
    outbox: EventOutbox

    def deliver(e: SchedulerEvent) -> None:
        calls.append(f"{e.alias} begins")
        if e.alias == "a":
            outbox.put(event("caused by a"))
        calls.append(f"{e.alias} ends")

    outbox = EventOutbox(deliver, Hops(), delivers_here=lambda: True)
    outbox.put(event("a"))
    assert calls == ["a begins", "a ends", "caused by a begins", "caused by a ends"]


def test_events_from_many_threads_are_delivered_on_the_delivering_thread_only_each_threads_in_order() -> None:
    """As on the event loop: producers elsewhere hand their events to one thread."""
    drains: queue.Queue[Callable[[], None] | None] = queue.Queue()
    heard: list[tuple[str | None, int]] = []

    def deliver(e: SchedulerEvent) -> None:
        heard.append((e.alias, threading.get_ident()))

    def consume() -> None:
        while (drain := drains.get()) is not None:
            drain()

    delivering = threading.Thread(target=consume)
    delivering.start()
    outbox = EventOutbox(deliver, drains.put, delivers_here=lambda: threading.current_thread() is delivering)

    def produce(name: str) -> None:
        for n in range(300):
            outbox.put(event(f"{name}:{n}"))
            if n % 50 == 0:  # now and then from the delivering thread itself, as a coroutine's outcome
                drains.put(functools.partial(outbox.put, event(f"{name}:loop{n}")))

    producers = [threading.Thread(target=produce, args=(f"p{i}",)) for i in range(6)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join(10)
    done = threading.Event()
    drains.put(done.set)
    assert done.wait(10)
    drains.put(None)
    delivering.join(10)

    assert {thread for _, thread in heard} == {delivering.ident}
    for i in range(6):
        mine = [
            int(alias.split(":")[1])
            for alias, _ in heard
            if alias and alias.startswith(f"p{i}:") and ":loop" not in alias
        ]
        assert mine == list(range(300)), f"p{i}: events lost or out of order"
    assert sum(1 for alias, _ in heard if alias and ":loop" in alias) == 6 * 6


class Stop(BaseException):
    """Something a listener cannot swallow (as KeyboardInterrupt)."""


def test_an_exception_escaping_delivery_leaves_the_undelivered_events_queued_in_order() -> None:
    heard: list[str | None] = []

    def deliver(e: SchedulerEvent) -> None:
        if e.alias == "b" and "b" not in heard:
            heard.append("b")
            raise Stop
        heard.append(e.alias)

    hops = Hops()
    outbox = EventOutbox(deliver, hops, delivers_here=lambda: False)
    for name in "abcd":
        outbox.put(event(name))
    with pytest.raises(Stop):
        hops.run()
    assert heard == ["a", "b"]
    outbox.drain()
    assert heard == ["a", "b", "c", "d"]


def test_a_drain_waits_at_a_slot_and_the_fill_schedules_the_rest() -> None:
    heard: list[int] = []
    hops = Hops()
    outbox = EventOutbox(lambda e: heard.append(e.code), hops, delivers_here=lambda: False)
    outbox.put(SchedulerEvent(code=SCHEDULER_PAUSED))
    slot = outbox.reserve()
    outbox.put(SchedulerEvent(code=SCHEDULER_RESUMED))
    hops.run()
    assert heard == [SCHEDULER_PAUSED]
    slot.fill(SchedulerEvent(code=SCHEDULER_PAUSED))
    assert heard == [SCHEDULER_PAUSED], "filled elsewhere: delivered by the drain it schedules"
    hops.run()
    assert heard == [SCHEDULER_PAUSED, SCHEDULER_PAUSED, SCHEDULER_RESUMED]

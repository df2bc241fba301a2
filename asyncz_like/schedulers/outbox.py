"""Event delivery in order, from any thread, to wherever the front end wants listeners called.

Events are produced on several threads at once: the pass (store thread), executor workers,
the event loop. Listeners must see them in the order they happened for one task — a run's
``TASK_SUBMITTED`` before its ``TASK_EXECUTED`` even when the worker finishes before the pass
has written the submission down. So producers append to one queue; a submission that is not
known to have succeeded yet holds a *slot* in it, and delivery stops at an unfilled slot until
the pass fills it (or cancels it).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from asyncz_like.events import SchedulerEvent


class Slot:
    """A place in the queue for an event that will be known a little later."""

    __slots__ = ("_outbox", "event", "filled")

    def __init__(self, outbox: EventOutbox) -> None:
        self._outbox = outbox
        self.event: SchedulerEvent | None = None
        self.filled = False

    def fill(self, event: SchedulerEvent | None) -> None:
        """Put the event in its place (None: nothing to say); delivery may pass it now."""
        self.event = event
        self.filled = True
        self._outbox.kick()


class EventOutbox:
    """A FIFO of events and slots, delivered by ``deliver`` one at a time, in order.

    ``schedule_drain`` says where a drain runs: called with ``drain`` whenever new items may be
    deliverable. The default drains at once in the calling thread; a front end with an event
    loop passes one that hops to the loop, so every listener is called on the loop thread.
    ``delivers_here`` says whether the calling thread is where listeners are called (always,
    without ``schedule_drain``): there, an event with nothing queued before it is delivered at
    once, without entering the queue (the common case on the loop: a coroutine's outcome).
    """

    def __init__(
        self,
        deliver: Callable[[SchedulerEvent], Any],
        schedule_drain: Callable[[Callable[[], None]], Any] | None = None,
        delivers_here: Callable[[], bool] | None = None,
    ) -> None:
        self._deliver = deliver
        self._schedule_drain: Callable[[Callable[[], None]], Any] = schedule_drain or _call
        #: whether the calling thread delivers (and so drains at once instead of scheduling a drain)
        self._here: Callable[[], bool] = (
            _always if schedule_drain is None else _never if delivers_here is None else delivers_here
        )
        self._items: deque[SchedulerEvent | Slot] = deque()
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._drain_queued = False

    def put(self, event: SchedulerEvent) -> None:
        """Queue ``event`` after everything before it; delivered before this returns when this
        thread delivers and nothing waits before it (no queue, lock or hop: the fire path's case)."""
        here = self._here()
        if here and not self._items and self._drain_lock.acquire(blocking=False):
            # nothing before it, nobody delivering (a listener's own event waits for the next drain)
            try:
                self._deliver(event)
            finally:
                self._drain_lock.release()
            if self._items:  # queued meanwhile by a producer that left it to us, or by the listener
                self.drain()
            return
        with self._lock:
            self._items.append(event)
        if here:
            self.drain()
        else:
            self._queue_drain()

    def reserve(self) -> Slot:
        slot = Slot(self)
        with self._lock:
            self._items.append(slot)
        return slot

    def kick(self) -> None:
        """Make sure a drain will run: now if this thread delivers, else queued."""
        if self._here():
            self.drain()
        else:
            self._queue_drain()

    def _queue_drain(self) -> None:
        """At most one drain is queued at a time: it delivers everything deliverable by then."""
        with self._lock:
            if self._drain_queued:
                return
            self._drain_queued = True
        self._schedule_drain(self._queued_drain)

    def _queued_drain(self) -> None:
        with self._lock:
            self._drain_queued = False
        self.drain()

    def drain(self) -> None:
        """Deliver everything deliverable, in order. One drainer at a time: a producer that finds
        another thread draining leaves its event to it (the drainer looks again before leaving).
        Items are taken in batches, so a drain of many events takes the lock a few times, not
        twice per event."""
        while self._drain_lock.acquire(blocking=False):
            try:
                batch = self._take()
                while batch:
                    for index, event in enumerate(batch):
                        try:
                            self._deliver(event)
                        except BaseException:  # not a listener's error (those are logged): keep the rest
                            with self._lock:
                                self._items.extendleft(reversed(batch[index + 1 :]))
                            raise
                    batch = self._take()
            finally:
                self._drain_lock.release()
            if not self._deliverable():
                return

    def _take(self) -> list[SchedulerEvent]:
        """Remove and return the events at the head of the queue, up to the first unfilled slot."""
        taken: list[SchedulerEvent] = []
        with self._lock:
            items = self._items
            while items:
                head = items[0]
                if isinstance(head, Slot):
                    if not head.filled:
                        break
                    if head.event is not None:
                        taken.append(head.event)
                else:
                    taken.append(head)
                items.popleft()
        return taken

    def _deliverable(self) -> bool:
        with self._lock:
            if not self._items:
                return False
            head = self._items[0]
            return not isinstance(head, Slot) or head.filled


def _always() -> bool:
    return True


def _never() -> bool:
    return False


def _call(drain: Callable[[], None]) -> None:
    drain()

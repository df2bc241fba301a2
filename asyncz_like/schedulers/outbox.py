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
    """A FIFO of events and slots, drained by ``deliver`` one at a time, in order.

    ``schedule_drain`` says where a drain runs: called with ``drain`` whenever new items may be
    deliverable. The default drains at once in the calling thread; a front end with an event
    loop passes one that hops to the loop, so every listener is called on the loop thread.
    """

    def __init__(
        self,
        deliver: Callable[[SchedulerEvent], Any],
        schedule_drain: Callable[[Callable[[], None]], Any] | None = None,
    ) -> None:
        self._deliver = deliver
        self._schedule_drain = schedule_drain
        self._items: deque[SchedulerEvent | Slot] = deque()
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._drain_queued = False

    def put(self, event: SchedulerEvent) -> None:
        with self._lock:
            self._items.append(event)
        self.kick()

    def reserve(self) -> Slot:
        slot = Slot(self)
        with self._lock:
            self._items.append(slot)
        return slot

    def kick(self) -> None:
        """Make sure a drain will run (at most one is queued at a time)."""
        if self._schedule_drain is None:
            self.drain()
            return
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
        another thread draining leaves its event to it (the drainer looks again before leaving)."""
        while self._drain_lock.acquire(blocking=False):
            try:
                while True:
                    event = self._next()
                    if event is _BLOCKED:
                        break
                    if event is not None:
                        self._deliver(event)  # type: ignore[arg-type]
            finally:
                self._drain_lock.release()
            if not self._deliverable():
                return

    def _next(self) -> SchedulerEvent | object | None:
        with self._lock:
            if not self._items:
                return _BLOCKED
            head = self._items[0]
            if isinstance(head, Slot):
                if not head.filled:
                    return _BLOCKED
                self._items.popleft()
                return head.event
            return self._items.popleft()

    def _deliverable(self) -> bool:
        with self._lock:
            if not self._items:
                return False
            head = self._items[0]
            return not isinstance(head, Slot) or head.filled


_BLOCKED = object()

"""Sharing the interpreter with the event loop while a store pass runs in a helper thread."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: how long a helper thread may compute before it offers the GIL to the event loop; without
#: this the loop may wait a whole switch interval (5 ms) behind a busy store pass
SLICE_SECONDS = 0.002


def sharing_gil(items: Iterable[T], slice_seconds: float = SLICE_SECONDS) -> Iterator[T]:
    """Iterate ``items``, giving up the GIL after every ``slice_seconds`` of work. Time-based
    rather than every N items, so a loop that is busy itself is not made to hand the GIL
    back and forth more often than needed."""
    clock = time.perf_counter
    deadline = clock() + slice_seconds
    for item in items:
        yield item
        if clock() >= deadline:
            time.sleep(0)
            deadline = clock() + slice_seconds


def in_slices(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: a batch handed to a server in one
    call is packed or bound while holding the GIL, so a large one is sent in slices, with
    ``sharing_gil`` between them."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

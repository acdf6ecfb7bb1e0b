"""Work run ahead on a pool, its results taken in the order it was submitted."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Handle = TypeVar("Handle")
Result = TypeVar("Result")


def in_submission_order(
    submit: Callable[[Item], Handle], collect: Callable[[Handle], Result], items: Iterable[Item], ahead: int
) -> Iterator[Result]:
    """Each item's result, in the items' order whichever finishes first. At most `ahead` items are submitted and not
    yet collected, and the next is taken from `items` only when fewer are: what the work holds stays bounded."""
    in_flight: deque[Handle] = deque()
    for item in items:
        in_flight.append(submit(item))
        del item  # the submitted work holds it for as long as it needs it, no longer
        if len(in_flight) >= ahead:
            yield collect(in_flight.popleft())
    while in_flight:
        yield collect(in_flight.popleft())

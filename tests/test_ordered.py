"""Work run ahead in submission order: the order of the results and the bound on what is in flight."""

from __future__ import annotations

from collections.abc import Iterator

from cross_sell_upsell.ordered import in_submission_order


def test_results_come_in_submission_order_with_at_most_ahead_in_flight() -> None:
    events: list[str] = []

    def items() -> Iterator[int]:
        for item in range(5):
            events.append(f"take {item}")
            yield item

    def submit(item: int) -> int:
        events.append(f"submit {item}")
        return item * 10

    def collect(handle: int) -> int:
        events.append(f"collect {handle // 10}")
        return handle + 1

    assert list(in_submission_order(submit, collect, items(), ahead=2)) == [1, 11, 21, 31, 41]
    # The third item is taken only once the first is collected: never more than two submitted and not collected.
    assert events == [
        "take 0", "submit 0", "take 1", "submit 1", "collect 0",
        "take 2", "submit 2", "collect 1", "take 3", "submit 3", "collect 2",
        "take 4", "submit 4", "collect 3", "collect 4",
    ]  # fmt: skip

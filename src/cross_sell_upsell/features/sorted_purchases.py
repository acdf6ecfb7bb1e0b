"""The keyed purchases sorted once by (customer row, day, product key), for the snapshot's per-customer groupings.

The purchase summary, the segment features' totals, the holdings and the baskets all group the same log rows by
customer (and day, or product). Grouping each with its own polars group-by hashed the 19 million rows of a
million customers four times (about 28 s); one sort of a packed integer key and runs of equal values over the
sorted arrays give all four from one pass each (numpy `reduceat` over the runs), with the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class SortedPurchases:
    """The keyed purchases (`holdings.keyed_ownership`) as arrays in (customer_row, day, product_key) order."""

    customer: np.ndarray
    """Each row's customer row (uint32)."""
    day: np.ndarray
    """Each row's purchase date as days since 1970-01-01 (int32)."""
    product: np.ndarray
    """Each row's product key (uint32)."""
    amount: np.ndarray
    """What each row cost: the amount paid where the data says, else the catalog price (NaN where neither is
    known), as `snapshot.customers.priced_purchases` values it."""

    @property
    def rows(self) -> int:
        """How many purchase rows there are."""
        return len(self.customer)

    def valid(self) -> SortedPurchases:
        """The rows the customer models and the segment features count: a finite amount at or above 0 (a return
        or an unknown amount is left out; see `purchase_summary`)."""
        keep = np.isfinite(self.amount) & (self.amount >= 0)
        if keep.all():
            return self
        return SortedPurchases(self.customer[keep], self.day[keep], self.product[keep], self.amount[keep])

    def starts(self, by_day: bool) -> np.ndarray:
        """The first row of each customer's run (`by_day`: of each customer's day) in the sorted rows."""
        return run_starts(self.customer, self.day) if by_day else run_starts(self.customer)

    def distinct(self) -> SortedPurchases:
        """One row per distinct (customer, day, product), the first of its rows (the amounts are not summed)."""
        first = run_starts(self.customer, self.day, self.product)
        return SortedPurchases(self.customer[first], self.day[first], self.product[first], self.amount[first])


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """The index of the first element of each run of equal values of `keys` taken together (arrays of one
    length, sorted together), so run i is [starts[i], starts[i + 1])."""
    changes = np.zeros(len(keys[0]), dtype=bool)
    changes[:1] = True
    for key in keys:
        changes[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(changes)


def run_ends(starts: np.ndarray, length: int) -> np.ndarray:
    """The index of the last element of each run that `starts` (`run_starts`) begins, in arrays of `length`."""
    return np.append(starts[1:], length)[: len(starts)] - 1


def sort_purchases(priced: pl.DataFrame) -> SortedPurchases:
    """`SortedPurchases` of keyed purchases (customer_row, product_key, purchase_date and, when priced, amount:
    the amount with the catalog price filled in; NaN without). Ties keep the log's order, so a day's amounts are
    summed in the log's order."""
    amount = pl.col("amount").cast(pl.Float64) if "amount" in priced.columns else pl.lit(None, pl.Float64)
    frame = priced.select(
        customer=pl.col("customer_row").cast(pl.UInt32),
        day=pl.col("purchase_date").cast(pl.Int32),
        product=pl.col("product_key").cast(pl.UInt32),
        amount=amount.fill_null(float("nan")),
    )
    columns = [frame.get_column(name).to_numpy() for name in frame.columns]
    keys, order = sort_rows(columns[:3], with_order=True)
    return SortedPurchases(*keys, columns[3][order])


def sort_rows(keys: Sequence[np.ndarray], with_order: bool = False) -> tuple[list[np.ndarray], np.ndarray | None]:
    """`keys` (integer arrays of one length) with their rows sorted by the first, then the second, and so on,
    and (`with_order`) the stable order that sorts them, else None.

    The keys are packed in one unsigned 64-bit integer (each less its smallest value, in as few bits as its
    range needs) and the row numbers in its lowest bits when they fit: a sort of plain integers is four times
    as fast as an argsort, and makes the order stable. Else an argsort of the packed keys, or a lexsort of the
    keys when even they do not fit."""
    rows = np.arange(len(keys[0]), dtype=np.int64) if with_order else None
    lows, bits = _ranges([*keys, rows] if rows is not None else keys)
    if bits.sum() <= 64:
        packed = _packed([*keys, rows] if rows is not None else keys, lows, bits)
        packed.sort()
        unpacked = _unpacked(packed, lows, bits, [key.dtype for key in keys] + [np.dtype(np.int64)] * with_order)
        return unpacked[: len(keys)], unpacked[-1] if with_order else None
    if bits[: len(keys)].sum() <= 64:
        order = np.argsort(_packed(keys, lows[: len(keys)], bits[: len(keys)]), kind="stable")
    else:
        order = np.lexsort(keys[::-1])
    return [key[order] for key in keys], order if with_order else None


def _ranges(keys: Sequence[np.ndarray]) -> tuple[list[int], np.ndarray]:
    """Each key's smallest value and the bits its range (largest - smallest) takes."""
    lows = [int(key.min()) if len(key) else 0 for key in keys]
    highs = [int(key.max()) if len(key) else 0 for key in keys]
    return lows, np.array([(high - low).bit_length() for low, high in zip(lows, highs, strict=True)], dtype=np.int64)


def _packed(keys: Sequence[np.ndarray], lows: Sequence[int], bits: np.ndarray) -> np.ndarray:
    """The rows of `keys` as one unsigned 64-bit integer each, the first key in the highest bits, each less its
    smallest value (`lows`) in `bits` bits (64 at most in all)."""
    packed = np.zeros(len(keys[0]), dtype=np.uint64)
    field = np.empty_like(packed)  # one buffer for every key: fresh pages cost as much as the arithmetic
    for key, low, width in zip(keys, lows, bits, strict=True):
        field[...] = key  # a key at or above its smallest value, so the wrap-around below cancels out
        field -= np.uint64(low % (1 << 64))
        packed <<= np.uint64(width)
        packed |= field
    return packed


def _unpacked(
    packed: np.ndarray, lows: Sequence[int], bits: np.ndarray, dtypes: Sequence[np.dtype]
) -> list[np.ndarray]:
    """The keys `_packed` packed, each as `dtypes` says."""
    keys = []
    field = np.empty_like(packed)
    for index, (low, dtype) in enumerate(zip(lows, dtypes, strict=True)):
        np.right_shift(packed, np.uint64(bits[index + 1 :].sum()), out=field)
        field &= np.uint64((1 << int(bits[index])) - 1)
        field += np.uint64(low % (1 << 64))  # modulo 2^64: back to the key's value in its own type
        keys.append(field.astype(dtype))
    return keys

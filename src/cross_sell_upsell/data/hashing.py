"""A hash of ids that never changes, and the partition of customers it gives.

Samples, segment orders and the partitions of a partitioned run must not move when a library is upgraded or
the run moves to another machine, so the hash is computed here from the ids' bytes rather than by polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def stable_hash(ids: pl.Series) -> np.ndarray:
    """A 64-bit hash of each id's UTF-8 text that depends on nothing else (no library version, no platform, no
    process): the polynomial sum of (byte + 1) x P^position modulo 2^64 (P the FNV prime), the length mixed in,
    then the splitmix64 finaliser. Vectorised by byte position, each pass over the ids still that long."""
    text = ids.cast(pl.String).fill_null("")
    lengths = text.str.len_bytes().to_numpy().astype(np.int64)
    data = np.frombuffer(text.str.join("").item().encode("utf-8"), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    total = np.zeros(len(lengths), dtype=np.uint64)
    rows = np.arange(len(lengths))
    power = 1
    for position in range(int(lengths.max(initial=0))):
        rows = rows[lengths[rows] > position]
        terms = (data[starts[rows] + position].astype(np.uint64) + np.uint64(1)) * np.uint64(power)
        if len(rows) == len(total):
            total += terms
        else:
            total[rows] += terms
        power = power * 0x100000001B3 % 2**64
    mixed = total ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def customer_partition(ids: pl.Series, partitions: int) -> pl.Series:
    """The partition of each customer id, `stable_hash(id) % partitions` (UInt32): one formula for the ingest
    that splits the log and every later step that splits customers, so a customer's rows and attributes always
    meet in the same partition. The ids must already be normalised (`values.customer_key`): `Ben@X.com` and
    `ben@x.com` are one customer only once lower-cased."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    return pl.Series(ids.name, stable_hash(ids) % np.uint64(partitions), dtype=pl.UInt32)

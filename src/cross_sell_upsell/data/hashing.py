"""A hash of ids that never changes, and the partition of customers it gives.

Samples, segment orders and the partitions of a partitioned run must not move when a library is upgraded or
the run moves to another machine, so the hash is computed here from the ids' bytes rather than by polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_BLOCK_ROWS = 1 << 16
"""Ids hashed at a time: a block's bytes widened to 64 bits stay a few MiB whatever the ids' length."""


def stable_hash(ids: pl.Series) -> np.ndarray:
    """A 64-bit hash of each id's UTF-8 text that depends on nothing else (no library version, no platform, no
    process): the polynomial sum of (byte + 1) x P^position modulo 2^64 (P the FNV prime), the length mixed in,
    then the splitmix64 finaliser. Ids of one byte length at a time, a block of them as a matrix of bytes whose
    product with the powers of P is the polynomial (numpy's integer products wrap modulo 2^64)."""
    text = ids.cast(pl.String).fill_null("")
    lengths = text.str.len_bytes().to_numpy().astype(np.uint64)
    total = np.zeros(len(lengths), dtype=np.uint64)
    by_length = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[by_length])) + 1
    for rows in np.split(by_length, bounds):
        length = int(lengths[rows[0]]) if len(rows) else 0
        if length == 0:
            continue  # the empty id: nothing to add
        powers = np.array([pow(0x100000001B3, position, 2**64) for position in range(length)], dtype=np.uint64)
        same_length = text if len(rows) == len(text) else text.gather(rows)
        for start in range(0, len(rows), _BLOCK_ROWS):
            block = same_length.slice(start, _BLOCK_ROWS).str.join("").item().encode("utf-8")
            data = np.frombuffer(block, dtype=np.uint8).reshape(-1, length)
            total[rows[start : start + _BLOCK_ROWS]] = (data.astype(np.uint64) + np.uint64(1)) @ powers
    mixed = total ^ (lengths * np.uint64(0x9E3779B97F4A7C15))
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

"""Positions within groups of rows (`offers/keys.py`): the same numbers as polars' `over()` windows they replace,
on keys laid out by hand."""

from __future__ import annotations

import polars as pl

from cross_sell_upsell.offers.keys import position_within, rank_in_runs


def test_position_within_counts_earlier_rows_with_the_same_key_nulls_as_one_key():
    keys = pl.Series("key", [7, 3, 7, None, 3, 7, None, 1], dtype=pl.UInt64)
    assert position_within(keys).to_list() == [0, 0, 1, 0, 1, 2, 1, 0]
    window = keys.to_frame().select(pl.int_range(pl.len()).over("key")).to_series()
    assert position_within(keys).to_list() == window.to_list()


def test_position_within_an_empty_series_is_empty():
    assert position_within(pl.Series("key", [], dtype=pl.UInt64)).to_list() == []


def test_rank_in_runs_numbers_each_run_of_equal_values_from_one():
    frame = pl.DataFrame({"customer_key": [0, 0, 0, 2, 5, 5, None, None]}, schema={"customer_key": pl.UInt32})
    ranks = frame.select(rank_in_runs()).to_series()
    assert ranks.dtype == pl.UInt32
    assert ranks.to_list() == [1, 2, 3, 1, 1, 2, 1, 2]

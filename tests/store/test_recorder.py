"""The recorder spills each chunk's rows to Parquet as they arrive; the priority rank is computed over every chunk,
the chat model's rationales are swapped in, and the rows go into the store from the files, run id added."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.io.database import connect
from cross_sell_upsell.store.writer import RunRecorder, recorded

SUMMARY = "customer_id | segment | loyalty_tier | missing_essentials | potential_revenue | expected_revenue | predicted_clv | churn_probability | p_alive"
# With no predicted CLV the value factor is 1: the priority is the expected revenue. C2 has most likely left.
CHUNKS = [
    (
        rows(
            SUMMARY,
            'C1 | A | gold | ["toner", "cleanser"] | 100.0 | 50.0 | 0.0 | 0.2  | 0.9',
            "C2 | A | null | []                    | 30.0  | 90.0 | 0.0 | 0.9  | 0.1",
        ),
        rows(
            "customer_id | rank | offer_id | product_ids  | name  | category | type     | source | segment | price | score | acceptance_probability | expected_revenue | rationale",
            "C1          | 1    | P1       | []           | One   | toner    | gap      | rules  | A       | 10.0  | 0.9   | 0.5                    | 5.0              | template one",
            'C1          | 2    | B1       | ["P1", "P2"] | Duo   | null     | bundle   | rules  | A       | 30.0  | 0.8   | 0.2                    | 6.0              | template two',
            "C1          | 6    | P3       | []           | Three | serum    | gap      | rules  | A       | 20.0  | 0.1   | 0.1                    | 2.0              | not sent",
        ),
    ),
    (
        rows(SUMMARY, "C3 | B | silver | [] | 80.0 | 80.0 | 0.0 | 0.1 | 0.95"),
        rows(
            "customer_id | rank | offer_id | product_ids | name  | category | type    | source | segment | price | score | acceptance_probability | expected_revenue | rationale",
            "C3          | 1    | P7       | []          | Seven | mask     | upgrade | signals | B      | 40.0  | 0.7   | 0.4                    | 16.0             | template seven",
        ),
    ),
]
SUMMARY_TYPES = {"missing_essentials": pl.List(pl.String), "loyalty_tier": pl.String}
OFFER_TYPES = {"product_ids": pl.List(pl.String), "category": pl.String}


@pytest.fixture()
def recorder(tmp_path: Path) -> RunRecorder:
    recorder = RunRecorder(OrchestratorConfig())
    recorder.spill_to(tmp_path / "spill")
    (tmp_path / "spill").mkdir()
    for summaries, offers in CHUNKS:
        recorder.append(
            pl.DataFrame(offers, schema_overrides=OFFER_TYPES), pl.DataFrame(summaries, schema_overrides=SUMMARY_TYPES)
        )
    return recorder


def test_each_chunk_is_spilled_and_the_rank_spans_every_chunk(recorder: RunRecorder, tmp_path: Path) -> None:
    spilled = sorted(path.name for path in (tmp_path / "spill").iterdir())
    assert spilled == [
        "customers-000000.parquet",
        "customers-000001.parquet",
        "offers-000000.parquet",
        "offers-000001.parquet",
    ]
    customers = pl.read_parquet(recorder.customer_file()).sort("customer_id")
    assert customers.select("customer_id", "loyalty_tier", "priority_rank", "gaps", "gap_categories").rows() == [
        ("C1", "gold", 2, 2, "cleanser;toner"),
        ("C2", "(none)", None, 0, ""),  # lapsed: on the win-back list, not ranked
        ("C3", "silver", 1, 0, ""),  # the second chunk's customer comes first
    ]


def test_the_chat_models_rationales_replace_the_spilled_ones(recorder: RunRecorder) -> None:
    recorder.replace_rationales(pl.DataFrame(rows("customer_id | offer_id | rationale", "C3 | P7 | model seven")))
    offers = pl.read_parquet(recorder.offer_files()).sort("customer_id", "rank")
    assert offers.select("customer_id", "rank", "product_ids", "rationale").rows() == [
        ("C1", 1, "P1", "template one"),
        ("C1", 2, "P1;P2", "template two"),  # rank 6 is past top_n: not sent, not stored
        ("C3", 1, "P7", "model seven"),
    ]


def test_the_spilled_rows_go_into_the_store_with_the_run_id(recorder: RunRecorder, target: str) -> None:
    tables = {"run_customers": [recorder.customer_file()], "run_offers": recorder.offer_files()}
    with recorded(target, "run-1", tables):
        pass
    with connect(target, read_only=True) as db:
        customers = db.query("SELECT run_id, customer_id, priority_rank FROM run_customers ORDER BY customer_id")
        offers = db.query("SELECT run_id, COUNT(*) AS n, SUM(price) AS price FROM run_offers GROUP BY run_id")
    assert customers.rows() == [("run-1", "C1", 2), ("run-1", "C2", None), ("run-1", "C3", 1)]
    assert offers.rows() == [("run-1", 3, pytest.approx(80.0))]

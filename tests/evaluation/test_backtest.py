"""The backtest on a tiny hand-built log: no purchase from the cutoff on reaches any method, the splits and
metrics come out as computed by hand, and the command line's errors are one line with exit 2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import write_grocery_log

from cross_sell_upsell.cli.backtest import main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.evaluation.backtest import METHODS, evaluate, method_lists, run_backtest, temporal_split

CUTOFF = date(2024, 3, 1)
BEFORE = """customer_id,product_id,date,amount,basket_id
C1,P1,2024-02-01,3.0,B1
C1,P2,2024-02-01,4.0,B1
C1,P1,2024-02-15,3.0,B2
C2,P1,2024-02-03,3.0,B3
C2,P2,2024-02-03,4.0,B3
C3,P1,2024-02-05,3.0,B4
"""
# In the 7-day horizon: C1 rebuys P1; C3 buys P2, new to them; C2 buys P1 and the never-seen P4 together, three
# times: if these leaked, P1 -> P4 would be a rule and P4 a popular product. After the horizon: C3 buys P3.
AFTER = """C1,P1,2024-03-02,3.0,B5
C3,P2,2024-03-03,4.0,B6
C2,P1,2024-03-04,3.0,B7
C2,P4,2024-03-04,5.0,B7
C2,P1,2024-03-05,3.0,B8
C2,P4,2024-03-05,5.0,B8
C2,P1,2024-03-06,3.0,B9
C2,P4,2024-03-06,5.0,B9
C3,P3,2024-03-20,2.0,B10
"""
CONFIG = OrchestratorConfig(essential_categories=())


def _dataset(folder: Path, log: str):
    transactions, catalog = write_grocery_log(folder, log)
    return load_transactions_dataset(transactions, catalog, as_of=date(2024, 2, 29))


def test_no_purchase_from_the_cutoff_on_reaches_a_method(tmp_path):
    planted = temporal_split(_dataset(tmp_path / "full", BEFORE + AFTER), CUTOFF, 7)
    clean = temporal_split(_dataset(tmp_path / "clean", BEFORE), CUTOFF, 7)
    assert planted.train.ownership.get_column("purchase_date").max() < CUTOFF
    with_future, without = method_lists(planted, CONFIG, 2), method_lists(clean, CONFIG, 2)
    for method in METHODS:
        assert_frame_equal(with_future[method], without[method])
    assert "P4" not in pl.concat(with_future.values()).get_column("product_id").to_list()
    # The horizon holds the 8 purchases dated 2024-03-02 to 03-06; the one on 03-20 is beyond it.
    assert planted.future.height == 8


def test_new_and_repeat_items_and_their_metrics(tmp_path):
    split = temporal_split(_dataset(tmp_path, BEFORE + AFTER), CUTOFF, 7)
    result = evaluate(split, method_lists(split, CONFIG, 2), 2)
    # New: C3 bought P2 (never before), C2 bought P4. Repeat: C1 and C2 rebought P1.
    assert result["users"] == {"new": 2, "repeat": 2}
    # Buy-again lists C1's P1 (2 days) then P2, and C2's P1 then P2 (1 day each, same day, lower id first): both
    # hit at rank 1 of 2. Precision 1/2, recall 1, NDCG 1, revenue 2 x $3. Flag precision counts every active
    # customer's list: C3 lists P1 too, not rebought: 2 hits of 5 listed = 0.4.
    assert result["methods"]["buy_again"]["repeat"] == pytest.approx(
        {
            "hit_rate": 1.0,
            "precision": 0.5,
            "recall": 1.0,
            "ndcg": 1.0,
            "revenue": 6.0,
            "flag_precision": 0.4,
            "date_error_days": None,
        }
    )
    # Popularity: P1 (3 buyers), P2 (2). C3 lacks P2: a hit at rank 1; C2 lacks neither, so lists no new item.
    # Means over C2 and C3: hit rate 1/2, precision (1/2 + 0) / 2, recall (1 + 0) / 2, NDCG (1 + 0) / 2; $4.
    assert result["methods"]["popularity"]["new"] == pytest.approx(
        {"hit_rate": 0.5, "precision": 0.25, "recall": 0.5, "ndcg": 0.5, "revenue": 4.0}
    )
    # The orchestrator flags C1's P1 (14-day cycle, last bought 02-15: due 02-29) and C2's P1 (due 02-17, overdue:
    # predicted for the cutoff). Rebought 03-02 and 03-04: 1 and 3 days off the predicted 03-01, mean 2.
    assert result["methods"]["orchestrator"]["repeat"]["date_error_days"] == pytest.approx(2.0)


def test_category_level_counts_categories(tmp_path):
    result = run_backtest(_dataset(tmp_path, BEFORE + AFTER), CUTOFF, 7, 2, "category", CONFIG)
    # New categories: C3 bakery, C2 pantry; repeat: C1 and C2 dairy.
    assert result["users"] == {"new": 2, "repeat": 2}
    assert result["methods"]["buy_again"]["repeat"]["hit_rate"] == 1.0


def test_json_output_has_every_metric_of_every_method(tmp_path, capsys):
    transactions, catalog = write_grocery_log(tmp_path, BEFORE + AFTER)
    code = main(
        [
            "--transactions",
            str(transactions),
            "--catalog",
            str(catalog),
            "--cutoff",
            "2024-03-01",
            "--horizon-days",
            "7",
            "--k",
            "2",
            "--format",
            "json",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["methods"]) == list(METHODS)
    for scores in result["methods"].values():
        assert set(scores["new"]) == {"hit_rate", "precision", "recall", "ndcg", "revenue"}
        assert set(scores["repeat"]) == {
            "hit_rate",
            "precision",
            "recall",
            "ndcg",
            "revenue",
            "flag_precision",
            "date_error_days",
        }
    assert (result["cutoff"], result["horizon_days"], result["k"], result["level"]) == ("2024-03-01", 7, 2, "product")
    for method, scores in result["methods"].items():
        expected = set() if method == "orchestrator" else {"vs_orchestrator"}
        assert set(scores) - {"new", "repeat"} == expected
        if expected:
            assert set(scores["vs_orchestrator"]) == {"new", "repeat"}
            interval = scores["vs_orchestrator"]["new"]["ndcg"]
            assert interval["low"] <= interval["difference"] <= interval["high"]
            assert set(scores["vs_orchestrator"]["repeat"]["precision"]) == {
                "difference",
                "low",
                "high",
                "better",
                "worse",
            }


def test_markdown_output_is_written_atomically(tmp_path, capsys):
    transactions, catalog = write_grocery_log(tmp_path, BEFORE + AFTER)
    output = tmp_path / "out" / "backtest.md"
    arguments = [
        "--transactions",
        str(transactions),
        "--catalog",
        str(catalog),
        "--cutoff",
        "2024-03-01",
        "--horizon-days",
        "7",
        "--k",
        "2",
        "--output",
        str(output),
    ]
    assert main(arguments) == 0
    text = output.read_text(encoding="utf-8")
    assert "| orchestrator |" in text and "## Repeat items" in text
    assert main(arguments) == 0
    assert output.read_text(encoding="utf-8") == text  # deterministic


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--cutoff", "2024-03-01"], "error: --transactions needs --catalog"),
        (["--catalog", "CATALOG", "--cutoff", "2024-01-01"], "error: no purchase before the cutoff 2024-01-01"),
        (["--catalog", "CATALOG", "--cutoff", "2024-03-01", "--weight", "affinity=-1"], "error: --weight/--signal"),
    ],
)
def test_errors_are_one_line_and_write_nothing(tmp_path, capsys, arguments, message):
    transactions, catalog = write_grocery_log(tmp_path, BEFORE + AFTER)
    output = tmp_path / "out" / "backtest.md"
    arguments = [str(catalog) if argument == "CATALOG" else argument for argument in arguments]
    code = main(
        ["--transactions", str(transactions), *arguments, "--horizon-days", "7", "--k", "2", "--output", str(output)]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(message) and captured.err.count("\n") == 1
    assert not output.exists() and not output.parent.exists()

"""`python -m cross_sell_upsell.models` (and `cross-sell models`): a hand-built log through the command, the
fallback and its reason, the holdout figures worked by hand, the same figures as the library on a simulated log
where the models hold, and every bad input as one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import polars as pl
import pytest
from model_data import AS_OF, simulated_purchases
from support import ROOT

from cross_sell_upsell.cli.app import main as cross_sell
from cross_sell_upsell.cli.models import main
from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.purchase_summary import purchase_summary
from cross_sell_upsell.models.fit import fit_customer_models
from cross_sell_upsell.models.holdout import evaluate_holdout
from cross_sell_upsell.models.scoring import score_customers

# As of 2024-03-01 (the last day seen is 2024-02-29) with a 10-day holdout, 2024-03-01 .. 2024-03-10:
#   A: 3 purchase days, first 01-01, last 02-20: x = 2, t_x = 50, T = 59; bought once in the holdout (03-05)
#   B: x = 1, t_x = 14, T = 28; the return of 02-15 is rejected; two holdout days (03-02 and 03-09, two rows)
#   C: one purchase, x = 0, T = 19; nothing in the holdout
#   D: x = 1, t_x = 44, T = 45; bought on the holdout's last day
#   E: first bought in the holdout: not scored
LOG = """
    customer_id,product_id,date,quantity,amount
    A,P1,2024-01-01,1,10.00
    A,P1,2024-01-31,2,20.00
    A,P1,2024-02-20,1,10.00
    B,P1,2024-02-01,1,5.00
    B,P1,2024-02-15,1,7.00
    B,P1,2024-02-15,1,-5.00
    C,P1,2024-02-10,1,8.00
    D,P1,2024-01-15,1,12.00
    D,P1,2024-02-28,1,12.00
    A,P1,2024-03-05,1,10.00
    B,P1,2024-03-02,1,5.00
    B,P1,2024-03-09,1,5.00
    B,P1,2024-03-09,1,6.00
    E,P1,2024-03-03,1,9.00
    D,P1,2024-03-10,1,12.00
"""
CATALOG = """
    product_id,name,category,price
    P1,House Blend,coffee,10.00
"""
CUSTOMERS = """
    customer_id,name
    A,Ann
    F,Fay
"""
FALLBACK = "too little data: 4 customers with a purchase, the models need at least 500"


def _write(path: Path, table: str) -> Path:
    path.write_text(dedent(table).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture()
def log(tmp_path: Path) -> list[str]:
    """The options naming the hand-built log and its catalog."""
    return [
        "--transactions",
        str(_write(tmp_path / "log.csv", LOG)),
        "--catalog",
        str(_write(tmp_path / "catalog.csv", CATALOG)),
    ]


def _json(capsys: pytest.CaptureFixture, argv: list[str]) -> dict:
    assert main([*argv, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert err == "note: 1 transaction rows rejected (non_positive_amount 1)\n"
    return json.loads(out)


def test_a_tiny_log_gets_the_fallback_with_its_reason_and_exit_0(log, capsys):
    document = _json(capsys, [*log, "--as-of", "2024-03-01"])
    assert document == {
        "as_of": "2024-03-01",
        "source": f"{log[1]} + {log[3]}",
        "rows": {"read": 15, "used": 14, "rejected": {"non_positive_amount": 1}},
        "customers": 4,
        "bgnbd": None,
        "gamma_gamma": None,
        "fallback": FALLBACK,
        "diagnostics": {
            "repeat_customers": 3,
            "frequent_customers": 1,
            "history_days": 60,  # A's T + 1: 2024-01-01 .. 2024-02-29
            "collapsed_rows": 4,
            "bgnbd_fit": None,
            "gamma_gamma_fit": None,
            "spend_frequency_correlation": None,
        },
    }


def test_the_holdout_is_scored_by_hand(log, capsys):
    holdout = _json(capsys, [*log, "--as-of", "2024-03-01", "--holdout-days", "10"])["holdout"]
    # The fallback predicts the naive rate x / T x 10: A 20/59, B 10/28, C 0, D 10/45; actual A 1, B 2, C 0, D 1.
    predicted = {"A": 20 / 59, "B": 10 / 28, "C": 0.0, "D": 10 / 45}
    actual = {"A": 1.0, "B": 2.0, "C": 0.0, "D": 1.0}
    mae = sum(abs(predicted[c] - actual[c]) for c in predicted) / 4
    assert holdout["fallback"] == FALLBACK
    assert (holdout["days"], holdout["customers"]) == (10, 4)  # E, new in the holdout, is not scored
    assert holdout["purchases"] == pytest.approx(
        {"predicted_total": sum(predicted.values()), "actual_total": 4.0, "mae": mae, "naive_mae": mae}
    )
    # Only C lapsed. Days since the last purchase: A 9, B 14, C 19, D 1, so recency ranks C first (AUC 1).
    # The fallback churn 1 - exp(-days since / (2 x mean gap)), C's gap the median of 25, 14 and 44 days:
    # D 0.011 < A 0.165 < C 0.316 < B 0.393: C is above two of the three buyers.
    assert holdout["churn"] == pytest.approx({"auc": 2 / 3, "recency_auc": 1.0, "p_alive_auc": 2 / 3})
    # Next order = last purchase + mean gap, not before the as-of date: A 02-20 + 25 = 03-16 (first bought
    # 03-05: 11 days off), B 02-15 + 14 = 02-29 -> 03-01 (03-02: 1), D 02-28 + 44 = 04-12 (03-10: 33).
    assert holdout["next_order"] == pytest.approx({"customers": 3, "mae_days": 15.0, "naive_mae_days": 15.0})
    # Ranked by predicted purchases B, A, D, C; rank k of 4 goes to decile (k - 1) x 10 // 4 + 1.
    deciles = [(row["decile"], row["customers"], row["predicted"], row["actual"]) for row in holdout["deciles"]]
    assert deciles == [
        (1, 1, pytest.approx(10 / 28), 2.0),
        (3, 1, pytest.approx(20 / 59), 1.0),
        (6, 1, pytest.approx(10 / 45), 1.0),
        (8, 1, 0.0, 0.0),
    ]


def test_the_markdown_has_the_same_figures_as_tables(log, tmp_path, capsys):
    customers = str(_write(tmp_path / "customers.csv", CUSTOMERS))
    argv = [*log, "--customers-file", customers, "--as-of", "2024-03-01", "--holdout-days", "10"]
    assert main(argv) == 0
    assert capsys.readouterr().out == dedent(
        f"""\
        # Customer models as of 2024-03-01

        - **Data:** {log[1]} + {log[3]} + {customers}
        - **Transaction rows:** 15 read, 14 used, rejected: non_positive_amount 1
        - **Customers:** 4 with a purchase before 2024-03-01; 3 with a repeat purchase worth more than 0, 1 with three or more purchase days; 60 days of history; 1 in the customers file without a purchase
        - **Models:** fallback: {FALLBACK}

        ## Holdout: the 10 days from the as-of date, 4 customers

        Scored with the fallback values: {FALLBACK}

        Purchases in the window: 1 predicted, 4 actual (-77.0%).

        | measure | fallback | naive | naive prediction |
        |---|---:|---:|---|
        | purchases, mean absolute error per customer | 0.7704 | 0.7704 | past rate x days |
        | no purchase in the window, AUC of the churn probability | 0.6667 | 1.0000 | days since the last purchase |
        | no purchase in the window, AUC of 1 - P(alive) | 0.6667 |  |  |
        | next order, mean absolute error in days (3 customers who bought) | 15.00 | 15.00 | last purchase + mean gap |

        | decile (by predicted purchases) | customers | predicted | actual |
        |---:|---:|---:|---:|
        | 1 | 1 | 0.4 | 2 |
        | 3 | 1 | 0.3 | 1 |
        | 6 | 1 | 0.2 | 1 |
        | 8 | 1 | 0.0 | 0 |
        """
    )


def test_where_the_models_hold_the_command_gives_the_librarys_figures(tmp_path, capsys):
    purchases = simulated_purchases(customers=1500, history_days=400).with_columns(product_id=pl.lit("P1"))
    purchases = purchases.filter(pl.col("amount") > 0)  # the ingestion rejects what is not positive
    log = tmp_path / "log.parquet"
    purchases.rename({"purchase_date": "date"}).write_parquet(log)
    catalog = _write(tmp_path / "catalog.csv", CATALOG)
    as_of = AS_OF.replace(month=1)  # two months of the log held out
    argv = ["--transactions", str(log), "--catalog", str(catalog), "--as-of", as_of.isoformat()]
    assert main([*argv, "--holdout-days", "60", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    summary = purchase_summary(purchases, as_of)
    models = fit_customer_models(summary, CustomerModelSettings())
    holdout = evaluate_holdout(score_customers(models, summary, 60), summary, purchases, as_of, 60)
    assert models.fallback is None and document["fallback"] is None
    # The same figures up to rounding (the log comes back sorted by customer, so sums run in another order).
    library = {**models.as_dict(), "diagnostics": models.diagnostics.as_dict()}
    # The optimiser may take one step more or less on sums that differ in their last digits: iterations aside.
    for fit in ("bgnbd_fit", "gamma_gamma_fit"):
        del document["diagnostics"][fit]["iterations"], library["diagnostics"][fit]["iterations"]
    _assert_same_figures(_leaves(document, library.keys()), _leaves(library, library.keys()))
    assert document["diagnostics"]["bgnbd_fit"]["converged"] is True
    keys = ["purchases", "churn", "next_order", "deciles"]
    _assert_same_figures(_leaves(document["holdout"], keys), _leaves(holdout.as_dict(), keys))


def _leaves(value: object, keys: object = None) -> list:
    """The keys, numbers, texts and flags of a JSON document (of its `keys` when given), in order, in one list."""
    if isinstance(value, dict):
        return [leaf for key in keys or value for leaf in (key, *_leaves(value[key]))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _assert_same_figures(got: list, expected: list) -> None:
    """Floats equal to 1e-9 (relative), everything else exactly."""
    assert [type(leaf) for leaf in got] == [type(leaf) for leaf in expected]
    assert [leaf for leaf in got if not isinstance(leaf, float)] == [
        leaf for leaf in expected if not isinstance(leaf, float)
    ]
    floats = [leaf for leaf in got if isinstance(leaf, float)]
    assert floats == pytest.approx([leaf for leaf in expected if isinstance(leaf, float)], rel=1e-9)
    assert floats  # something was compared


def test_the_cross_sell_subcommand_and_python_m_print_the_same(log, capsys):
    argv = [*log, "--as-of", "2024-03-01"]
    assert cross_sell(["models", *argv]) == 0
    printed = capsys.readouterr().out
    completed = subprocess.run(
        [sys.executable, "-m", "cross_sell_upsell.models", *argv],
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (completed.returncode, completed.stdout) == (0, printed)
    assert printed.startswith("# Customer models as of 2024-03-01\n")


def test_output_writes_the_file(log, tmp_path, capsys):
    target = tmp_path / "out" / "models.json"
    assert main([*log, "--as-of", "2024-03-01", "--format", "json", "--output", str(target)]) == 0
    assert capsys.readouterr().out == f"{target}\n"
    assert json.loads(target.read_text(encoding="utf-8"))["fallback"] == FALLBACK


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--as-of", "2024-02-30"], "argument --as-of: '2024-02-30' is not a date in YYYY-MM-DD form"),
        (["--as-of", "2024-03-01", "--holdout-days", "0"], "argument --holdout-days: '0' must be at least 1"),
        (
            ["--as-of", "2024-03-01", "--holdout-days", "11"],
            (
                "--holdout-days 11: the purchases end on 2024-03-10, before the holdout's last day 2024-03-11; "
                "give an earlier --as-of or fewer days"
            ),
        ),
        (
            ["--as-of", "2024-03-01", "--dataset", "completejourney"],
            "--transactions and --dataset are alternatives: give one",
        ),
        (
            ["--as-of", "2024-03-01", "--strict"],
            "LOG_PATH: record row 6 (customer B, product P1): field 'amount': the amount is zero or negative",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(log, capsys, argv, message):
    assert _exit_code([*log, *argv]) == 2
    assert capsys.readouterr() == ("", f"error: {message.replace('LOG_PATH', log[1])}\n")


def _exit_code(argv: list[str]) -> int:
    """The command's exit code, also where argparse exits for a bad option."""
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


def test_a_missing_file_is_one_line_and_exit_2(tmp_path, log, capsys):
    missing = tmp_path / "nowhere.csv"
    assert main(["--transactions", str(missing), "--catalog", log[3], "--as-of", "2024-03-01"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and str(missing) in err and err.count("\n") == 1


def test_no_data_source_is_one_line_and_exit_2(capsys):
    assert main(["--as-of", "2024-03-01"]) == 2
    assert capsys.readouterr() == ("", "error: no data: give --transactions with its --catalog, or --dataset\n")

"""`--config PATH`: a TOML file over the code-level defaults and under the flags; every bad file is one line
naming the file and the key, exit 2, nothing written."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from textwrap import dedent

import pytest
from support import AS_OF, ROOT, TIER1

from cross_sell_upsell.cli.backtest import _config, backtest_parser
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.common import data_options, run_settings
from cross_sell_upsell.cli.config_file import config_from_file
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import IngestSettings, OrchestratorConfig, ScoringWeights

EXAMPLE = ROOT / "examples" / "personal-care.toml"


def toml(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_the_personal_care_example_loads_as_documented() -> None:
    config, keys = config_from_file(EXAMPLE, OrchestratorConfig())
    assert config == OrchestratorConfig(
        essential_categories=("shampoo", "conditioner", "soap", "deodorant"),
        bundle_discount=0.10,
        weights=ScoringWeights(concern_match=0.0, affinity=30.0),
        ingest=IngestSettings(
            transaction_columns={"product_id": "sku", "quantity": "qty"},
            catalog_columns={
                "product_id": "sku",
                "name": "title",
                "category": "dept",
                "replenishment_cycle_days": "cycle",
            },
            category_mapping={
                "hair_wash": "shampoo",
                "hair_care": "conditioner",
                "body_wash": "soap",
                "deo": "deodorant",
            },
        ),
    )
    assert keys == {
        "essential_categories",
        "bundle_discount",
        "weights.concern_match",
        "weights.affinity",
        "ingest.transaction_columns",
        "ingest.catalog_columns",
        "ingest.category_mapping",
    }


CATALOG = """
    sku,title,dept,price,cycle
    H1,Daily Shampoo,hair_wash,8.00,30
    H2,Silk Conditioner,hair_care,9.00,30
    D1,Fresh Deodorant,deo,6.00,40
"""
LOG = """
    customer_id,sku,date,qty,amount
    K1,H1,2024-01-20,1,8.00
"""


def test_a_personal_care_shop_runs_with_the_example_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = [toml(tmp_path, CATALOG, "catalog.csv"), toml(tmp_path, LOG, "log.csv")]
    argv = ["--customer", "K1", "--as-of", AS_OF.isoformat(), "--format", "json", "--config", str(EXAMPLE)]
    argv += ["--catalog", str(files[0]), "--transactions", str(files[1])]
    assert orchestrator_main(argv, OrchestratorConfig(), TIER1, tmp_path / "out") == 0
    report = json.loads(capsys.readouterr().out)
    # K1 owns the shampoo; conditioner, soap (none in the catalog) and deodorant are missing.
    assert report["missing_essentials"] == ["conditioner", "soap", "deodorant"]
    bundle = next(offer for offer in report["opportunities"] if offer["type"] == "bundle")
    assert bundle["price"] == pytest.approx((9.00 + 6.00) * 0.90)  # the file's 10% bundle discount


def parsed(*argv: str) -> argparse.Namespace:
    return data_options(TIER1).parse_args(list(argv))


def test_the_file_overrides_the_code_defaults_and_the_flags_override_the_file(tmp_path: Path) -> None:
    rules = toml(
        tmp_path,
        """
        bundle_discount = 0.2
        [llm]
        enabled = true
        [margin_multipliers]
        premium = 2.5
        """,
    )
    code_level = OrchestratorConfig(bundle_discount=0.1, due_soon_days=3)  # as a retailer's config.py might say
    settings = run_settings(parsed("--config", str(rules), "--no-llm", "--column", "product_id=sku"), code_level)
    config = settings.config
    assert (config.bundle_discount, config.due_soon_days, config.llm.enabled) == (0.2, 3, False)
    # A table changes only the keys it names.
    assert config.margin_multipliers == {"low": 0.75, "medium": 1.0, "high": 1.5, "premium": 2.5}
    assert config.ingest.transaction_columns == {"product_id": "sku"}
    assert settings.from_file == {"bundle_discount", "llm.enabled", "margin_multipliers"}
    assert settings.from_flags == {"llm.enabled", "ingest.transaction_columns", "ingest.catalog_columns"}


def test_without_a_file_the_code_defaults_stay() -> None:
    code_level = OrchestratorConfig(top_n=7)
    settings = run_settings(parsed(), code_level)
    assert settings.config == code_level and settings.from_file == settings.from_flags == frozenset()


BAD_FILES = [
    ("bogus = 1\n", "unknown key 'bogus'; the keys: see the README's configuration section"),
    ("[llm]\nzzz = 1\n", "unknown key 'llm.zzz'; the keys in [llm]: see the README's configuration section"),
    (
        "[weights]\nzzz = 1\n",
        (
            "unknown key 'weights.zzz'; the keys in [weights]: business_value, customer_fit, routine_completeness, "
            "replenishment_urgency, concern_match, affinity, lift"
        ),
    ),
    ("[weights]\nafinity = 3\n", "unknown key 'weights.afinity'; did you mean 'affinity'?"),
    ("[ingest]\nencodin = 'latin-1'\n", "unknown key 'ingest.encodin'; did you mean 'encoding'?"),
    ("bundle_discount = 1.5\n", "key 'bundle_discount': Input should be less than 1"),
    (
        "[signals]\nmin_count = 'many'\n",
        "key 'signals.min_count': Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "[margin_multipliers]\nlow = 'cheap'\n",
        "key 'margin_multipliers.low': Input should be a valid number, unable to parse string as a number",
    ),
    ("weights = 3\n", "key 'weights': Input should be a valid dictionary or instance of ScoringWeights"),
    (
        "[ingest.loyalty_thresholds]\ngold = 5000\n",
        "key 'ingest': loyalty_thresholds must rise from silver to platinum",
    ),
    ("bundle_discount = \n", "not valid TOML: Invalid value (at line 1, column 19)"),
    (
        "ranking = 'margin'\n",
        "key 'ranking': Input should be 'acceptance', 'expected_value' or 'score'",
    ),
    ("[acceptance]\nenabeld = false\n", "unknown key 'acceptance.enabeld'; did you mean 'enabled'?"),
]


def test_the_file_sets_the_acceptance_model_and_the_ranking_policy(tmp_path: Path) -> None:
    rules = toml(
        tmp_path,
        """
        ranking = "expected_value"
        [acceptance]
        enabled = false
        horizon_days = 14
        """,
    )
    config, keys = config_from_file(rules, OrchestratorConfig())
    assert config.ranking == "expected_value"
    assert (config.acceptance.enabled, config.acceptance.horizon_days) == (False, 14)
    assert config.acceptance.min_positives == 30  # the rest keep their defaults
    assert keys == {"ranking", "acceptance.enabled", "acceptance.horizon_days"}


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_is_one_line_naming_the_file_and_key_exit_2_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str, message: str
) -> None:
    rules = toml(tmp_path, text)
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(tmp_path / "out" / "r.md"), "--config", str(rules)]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path / "default") == 2
    assert capsys.readouterr().err == f"error: {rules}: {message}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["rules.toml"]


def test_a_missing_or_binary_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["--customer", "C001", "--as-of", AS_OF.isoformat(), "--format", "json"]
    missing = tmp_path / "missing.toml"
    assert orchestrator_main([*argv, "--config", str(missing)], OrchestratorConfig(), TIER1, tmp_path) == 2
    assert capsys.readouterr().err == f"error: --config {missing}: No such file or directory\n"
    binary = tmp_path / "rules.toml"
    binary.write_bytes(b"bundle_discount = 0.1 # \xff\xfe\n")
    assert orchestrator_main([*argv, "--config", str(binary)], OrchestratorConfig(), TIER1, tmp_path) == 2
    assert capsys.readouterr() == ("", f"error: {binary}: not UTF-8 text, so not a TOML file\n")


def test_the_backtest_reads_the_file_and_its_flags_override_it(tmp_path: Path) -> None:
    rules = toml(tmp_path, "[weights]\naffinity = 25\nlift = 7\n")
    argv = ["--transactions", "t.csv", "--catalog", "c.csv", "--cutoff", "2024-03-01", "--horizon-days", "28"]
    args = backtest_parser().parse_args([*argv, "--k", "5", "--config", str(rules), "--weight", "lift=9"])
    assert (_config(args).weights.affinity, _config(args).weights.lift) == (25.0, 9.0)

"""`cross-sell status`: the data, the learned signals and every setting with its source, without writing anything."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support import AS_OF, TIER1

from cross_sell_upsell.cli.app import main

CATALOG = """product_id,name,category,price
P1,Gentle Cleanser,cleanser,10.00
P2,Daily SPF,spf,15.00
"""
# Six rows: one for an unknown product, one with a bad date.
LOG = """customer_id,product_id,date,amount
C1,P1,2024-01-05,10.00
C1,P2,2024-01-05,15.00
C2,P1,2024-02-01,10.00
C2,P9,2024-02-01,5.00
C3,P2,2024-02-30,15.00
C3,P2,2024-02-10,15.00
"""


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no `.env` and an environment without LLM settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        os, "environ", {name: value for name, value in os.environ.items() if not name.startswith("LLM_")}
    )
    (tmp_path / "catalog.csv").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    (tmp_path / "rules.toml").write_text("bundle_discount = 0.2\n[weights]\naffinity = 25\n", encoding="utf-8")
    return tmp_path


def status(capsys: pytest.CaptureFixture, *args: str, warning: str = "") -> dict:
    assert main(["status", "--as-of", AS_OF.isoformat(), "--format", "json", *args]) == 0
    out, err = capsys.readouterr()
    assert err == warning
    return json.loads(out)


def test_status_of_a_log_counts_rows_customers_and_products(folder: Path, capsys: pytest.CaptureFixture) -> None:
    # The two-product catalog lacks three essentials of the default routine: the shop check says so.
    warning = (
        "warning: catalog.csv: essential categories 'toner', 'serum', 'moisturizer' match no catalog category; the "
        "catalog has cleanser, spf (map yours with ingest.category_mapping, or set essential_categories)\n"
    )
    report = status(capsys, "--transactions", "log.csv", "--catalog", "catalog.csv", warning=warning)
    data = report["data"]
    assert (data["customers"], data["products"], data["as_of"]) == (3, 2, "2024-03-01")
    assert (data["first_purchase"], data["last_purchase"]) == ("2024-01-05", "2024-02-10")
    rows = data["rows"]
    assert (rows["rows_read"], rows["rows_used"], rows["total"]) == (6, 4, 2)
    assert {reason: count for reason, count in rows["by_reason"].items() if count} == {
        "unknown_product": 1,
        "unparseable_date": 1,
    }
    # Baskets: C1 on 2024-01-05, C2 on 2024-02-01, C3 on 2024-02-10.
    assert report["learned"]["signals"]["baskets"] == 3
    assert report["learned"]["customer_models"] == {
        "customers": 3,
        "bgnbd": None,
        "gamma_gamma": None,
        "fallback": "too little data: 3 customers with a purchase, the models need at least 500",
    }
    assert sorted(path.name for path in folder.iterdir()) == ["catalog.csv", "log.csv", "rules.toml"]


def test_every_setting_says_where_it_came_from(folder: Path, capsys: pytest.CaptureFixture) -> None:
    report = status(capsys, "--data-dir", str(TIER1), "--config", "rules.toml", "--llm", "--encoding", "latin-1")
    settings = report["settings"]
    assert settings["bundle_discount"] == {"value": 0.2, "source": "file rules.toml"}
    assert settings["weights.affinity"] == {"value": 25.0, "source": "file rules.toml"}
    assert settings["weights.lift"] == {"value": 5.0, "source": "default"}
    assert settings["llm.enabled"] == {"value": True, "source": "flag"}
    assert settings["ingest.encoding"] == {"value": "latin-1", "source": "flag"}
    # `cross-sell` caches model answers under output/ unless LLM_CACHE_DIR says otherwise.
    assert settings["llm.cache_dir"] == {"value": "output/.llm_cache", "source": "environment"}
    assert report["data"]["rows"] is None  # JSON profiles, no log


def test_status_as_text(folder: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["status", "--as-of", AS_OF.isoformat(), "--transactions", "log.csv", "--catalog", "catalog.csv"]
    assert main([*argv, "--config", "rules.toml"]) == 0
    text = capsys.readouterr().out
    assert "  customers: 3\n" in text
    assert "  rows: 6 read, 4 used, 2 rejected (unparseable_date 1, unknown_product 1)\n" in text
    assert "  bundle_discount = 0.2  [file rules.toml]\n" in text
    assert "  due_soon_days = 7  [default]\n" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "error: argument --format: invalid choice: 'yaml' (choose from 'text', 'json')\n"),
        (["--config", "missing.toml"], "error: --config missing.toml: No such file or directory\n"),
        (["--transactions", "log.csv"], "error: --transactions needs --catalog\n"),
    ],
)
def test_bad_status_options_are_one_line_and_exit_2(
    folder: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    try:
        code = main(["status", "--as-of", AS_OF.isoformat(), *args])
    except SystemExit as exited:  # an argparse error exits from the parser
        code = exited.code
    assert code == 2
    assert capsys.readouterr() == ("", message)
    assert sorted(path.name for path in folder.iterdir()) == ["catalog.csv", "log.csv", "rules.toml"]

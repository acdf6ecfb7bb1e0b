"""`--campaigns` end to end on the shipped tier1 data (as of 2024-03-01): the boosted offers in the per-offer
CSV, the report's section and the summary's figures, the note on rows left out, and --strict."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from support import AS_OF, TIER1

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig

CAMPAIGNS = """campaign_id,name,start_date,end_date,product_id,category,discount,boost
SPR,Spring Glow,2024-02-01,2024-03-31,,toner,0.15,1.5
OLD,Winter,2023-12-01,2024-01-31,P001,,0.1,
BAD,Bad,2024-03-05,2024-03-01,P001,,0.1,
"""


def run(folder: Path, *args: str) -> int:
    folder.mkdir(exist_ok=True)
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(folder / "report.md"), *args]
    return batch_main(argv, OrchestratorConfig(), TIER1, folder / "default-output")


def offers(folder: Path) -> list[dict[str, str]]:
    with open(folder / "report.recommendations.csv", newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture
def campaigns_file(tmp_path: Path) -> Path:
    path = tmp_path / "campaigns.csv"
    path.write_text(CAMPAIGNS, encoding="utf-8")
    return path


def test_toner_offers_are_boosted_and_the_report_counts_them(
    tmp_path: Path, campaigns_file: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run(tmp_path / "plain", "--quiet") == 0
    assert run(tmp_path / "promo", "--campaigns", str(campaigns_file)) == 0
    assert "note: campaigns: 2 of 3 rows left out (end_before_start 1, inactive 1)" in capsys.readouterr().err
    before = {(row["customer_id"], row["product_id"]): row for row in offers(tmp_path / "plain")}
    after = offers(tmp_path / "promo")
    toners = [row for row in after if row["category"] == "toner"]
    assert toners and all(row["campaign_id"] == "SPR" and row["campaign_discount"] == "0.1500" for row in toners)
    for row in toners:  # every toner offer is boosted (at most one per customer: under the cap of 2)
        unboosted = float(before[(row["customer_id"], row["product_id"])]["score"])
        assert float(row["score"]) == pytest.approx(unboosted * 1.5, abs=0.0051)  # rounded to cents
        assert row["campaign_boost"] == "1.5000"
        assert row["rationale"].endswith("On promotion in Spring Glow: 15% off.")
    assert all(row["campaign_id"] == "" and row["campaign_boost"] == "1.0000" for row in after if row not in toners)
    # The figures: each toner in a top 5 is worth 12.99 x 0.85 = 11.04 (cents rounded), with and without the boost.
    top_with = sum(int(row["rank"]) <= 5 for row in toners)
    top_without = sum(int(row["rank"]) <= 5 for row in before.values() if row["category"] == "toner")
    summary = json.loads((tmp_path / "promo" / "report.summary.json").read_text(encoding="utf-8"))["campaigns"]
    spring = summary["campaigns"][0]
    assert (spring["campaign_id"], spring["offers"], spring["boosted"]) == ("SPR", len(toners), len(toners))
    assert (spring["top_with"], spring["top_without"]) == (top_with, top_without)
    assert top_with > top_without
    assert spring["value_with"] == pytest.approx(11.04 * top_with)
    assert spring["value_without"] == pytest.approx(11.04 * top_without)
    assert (summary["rows_read"], summary["rows_used"], summary["max_boosted_per_customer"]) == (3, 1, 2)
    report = (tmp_path / "promo" / "report.md").read_text(encoding="utf-8")
    assert f"| Spring Glow | {len(toners)} | {len(toners)} |" in report
    assert "| end before start | 1 |" in report


def test_strict_refuses_a_bad_campaign_row_and_writes_nothing(
    tmp_path: Path, campaigns_file: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run(tmp_path / "out", "--campaigns", str(campaigns_file), "--strict") == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {campaigns_file}: record row 3 (campaign BAD): field 'end_date': the campaign ends before it starts"
    )
    assert list((tmp_path / "out").iterdir()) == []

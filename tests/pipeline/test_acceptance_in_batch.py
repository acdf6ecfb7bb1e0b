"""The acceptance model in a batch: trained once per run (not per chunk), its expected revenue independent of the
chunk size, and on the Tier 1 sample, whose history is far too short, the fallback: no expected revenue, and why."""

from __future__ import annotations

import pickle

import polars as pl
import pytest
from support import AS_OF, synthetic_dataset

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.models.acceptance import predict_acceptance
from cross_sell_upsell.pipeline import acceptance
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.executive.summary import acceptance_dict

CONFIG = OrchestratorConfig()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """300 synthetic customers with a year of purchases: history enough to train on."""
    return synthetic_dataset(tmp_path_factory.mktemp("synth"), 300, 7)


def test_the_model_is_trained_once_per_batch_and_the_money_does_not_depend_on_the_chunks(synthetic, monkeypatch):
    calls = []
    training_set = acceptance.training_set

    def counted(*args, **kwargs):
        calls.append(args[1])
        return training_set(*args, **kwargs)

    monkeypatch.setattr(acceptance, "training_set", counted)
    summaries: list[pl.DataFrame] = []
    chunked = run_batch(
        synthetic, None, SUGGESTED_AS_OF, CONFIG, chunk_size=70, on_results=lambda _, rows: summaries.append(rows)
    )
    assert calls == [SUGGESTED_AS_OF]  # five chunks, one training
    assert chunked.acceptance is not None and chunked.acceptance.fallback_reason is None
    assert chunked.acceptance_note is None
    per_customer = pl.concat(summaries).get_column("expected_revenue")
    assert per_customer.null_count() == 0
    assert chunked.total_expected_revenue == pytest.approx(per_customer.sum(), abs=0.005)
    # an upper bound: no customer is expected to spend more than every offer's price
    assert 0 < chunked.total_expected_revenue < chunked.total_potential_revenue
    # the fitted model pickles (a worker receives it with the snapshot) and predicts the same after
    offers = pl.DataFrame(
        {
            **{name: [0.0, 0.5, 1.0] for name in chunked.acceptance.features},
            "type": ["replenishment", "bundle", "product_cross_sell"],
            "source": ["replenishment", "routine_gap", "basket_rule"],
        }
    )
    restored = pickle.loads(pickle.dumps(chunked.acceptance))
    assert predict_acceptance(restored, offers).equals(predict_acceptance(chunked.acceptance, offers))
    assert predict_acceptance(restored, offers).null_count() == 0
    whole = run_batch(synthetic, None, SUGGESTED_AS_OF, CONFIG, chunk_size=300)
    assert whole.totals.expected_revenue_cents == chunked.totals.expected_revenue_cents
    assert whole.totals.priority.equals(chunked.totals.priority)


def test_tier1_is_too_short_to_train_so_there_is_no_expected_revenue_and_the_note_says_why(tier1):
    result = run_batch(tier1, None, AS_OF, CONFIG, chunk_size=4)
    assert result.total_expected_revenue is None
    assert result.average_expected_revenue is None
    # Tier 1's customers bought 6 products from 2024-02-02 to 02-29, the window the replay's offers are labelled
    # from: fewer than the 30 bought offers needed, so no replay even runs.
    assert result.acceptance.fallback_reason == (
        "6 products bought in the 28 days the replayed offers are labelled from, fewer than the 30 bought offers "
        "needed to train"
    )
    assert result.acceptance.training_offers == 0
    assert result.acceptance_note == (
        "Offers are ranked by the weighted score: expected revenue needs the acceptance model: "
        f"{result.acceptance.fallback_reason}."
    )
    assert result.priority_customers().get_column("expected_revenue").null_count() == result.priority_customers().height


def test_switched_off_nothing_is_trained(tier1, monkeypatch):
    monkeypatch.setattr(acceptance, "training_set", lambda *args, **kwargs: pytest.fail("trained while switched off"))
    off = CONFIG.model_copy(update={"acceptance": CONFIG.acceptance.model_copy(update={"enabled": False})})
    result = run_batch(tier1, None, AS_OF, off)
    assert result.acceptance.fallback_reason == "switched off (acceptance.enabled = false)"
    assert result.total_expected_revenue is None


def test_the_summary_says_how_new_products_were_scored(synthetic):
    result = run_batch(synthetic, None, SUGGESTED_AS_OF, CONFIG, chunk_size=300)
    calibration = result.acceptance.new_products
    new = acceptance.training_set(synthetic, SUGGESTED_AS_OF, CONFIG).filter(pl.col("new_product"))
    assert (calibration.training_offers, calibration.positives) == (new.height, new.get_column("bought").sum())
    assert acceptance_dict(result)["new_products"] == {
        "score_calibrated": calibration.calibrator is not None,
        "ease_calibrated": calibration.ease_calibrator is not None,
        "training_offers": new.height,
        "bought": new.get_column("bought").sum(),
        "fallback_reason": calibration.fallback_reason,
    }

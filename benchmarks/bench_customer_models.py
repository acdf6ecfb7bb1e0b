"""How long the customer models take on a large synthetic purchase log (a benchmark script, not a test).

    python benchmarks/bench_customer_models.py [--customers 1000000] [--rows-per-purchase 4]

Draws customers from a BG/NBD process (first purchases spread over two years before the as-of date, a purchase
about every 50 days while active) with Gamma-Gamma spend, writes each purchase day as several rows with string
customer ids (about 20 million rows for a million customers), then times the purchase summary, the fit
(`fit_customer_models`) and the scoring (`score_customers`). The target is at most 3 s for fit and score.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.purchase_summary import purchase_summary
from cross_sell_upsell.models import beta_geo
from cross_sell_upsell.models.beta_geo import BetaGeoParams
from cross_sell_upsell.models.fit import fit_customer_models
from cross_sell_upsell.models.scoring import score_customers

AS_OF = date(2026, 1, 1)
PURCHASES = BetaGeoParams(r=0.8, alpha=40.0, a=0.8, b=4.0)
SPEND_SHAPE, SPEND_RATE_SHAPE, SPEND_RATE_SCALE = 4.0, 3.0, 20.0


def purchase_log(customers: int, rows_per_purchase: float, generator: np.random.Generator) -> pl.DataFrame:
    """customer_id, purchase_date, amount rows of `customers` simulated customers."""
    T = np.floor(generator.uniform(0, 730, customers))
    x, t_x = beta_geo.simulate(PURCHASES, T, generator)
    days = x + 1
    customer = np.repeat(np.arange(customers), days)
    position = np.arange(len(customer)) - np.repeat(np.cumsum(days) - days, days)
    # The first purchase on day 0, the last at t_x, the ones between uniform on (0, t_x).
    when = generator.uniform(0, 1, len(customer)) * t_x[customer]
    when = np.where(position == 0, 0.0, np.where(position == x[customer], t_x[customer], when))
    day = (AS_OF.toordinal() - date(1970, 1, 1).toordinal() - 1 - T[customer] + np.floor(when)).astype(np.int32)
    rows = 1 + generator.poisson(rows_per_purchase - 1, len(customer))
    spend_rate = generator.gamma(SPEND_RATE_SHAPE, 1.0 / SPEND_RATE_SCALE, customers)
    customer, day = np.repeat(customer, rows), np.repeat(day, rows)
    amount = generator.gamma(SPEND_SHAPE / rows_per_purchase, 1.0, len(customer)) / spend_rate[customer]
    return pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.String).str.zfill(8),
            "purchase_date": pl.Series(day).cast(pl.Date),
            "amount": np.round(amount, 2),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rows-per-purchase", type=float, default=4.0)
    args = parser.parse_args()
    purchases = purchase_log(args.customers, args.rows_per_purchase, np.random.default_rng(11))
    print(f"{purchases.height:,} rows, {args.customers:,} customers drawn")

    started = time.perf_counter()
    summary = purchase_summary(purchases, AS_OF)
    print(f"purchase summary: {summary.height:,} customers in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    models = fit_customer_models(summary, CustomerModelSettings())
    fitted = time.perf_counter() - started
    diagnostics = models.diagnostics
    print(
        f"fit: {fitted:.2f} s on {diagnostics.collapsed_rows:,} collapsed rows; fallback {models.fallback}; "
        f"BG/NBD {models.bgnbd} (true {PURCHASES}), {diagnostics.bgnbd.iterations} iterations; "
        f"Gamma-Gamma {models.gamma_gamma}, {diagnostics.gamma_gamma.iterations} iterations"
    )
    started = time.perf_counter()
    scores = score_customers(models, summary)
    scored = time.perf_counter() - started
    print(f"score: {scored:.2f} s for {scores.height:,} customers; fit and score {fitted + scored:.2f} s (target 3 s)")


if __name__ == "__main__":
    main()

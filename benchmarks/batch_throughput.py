"""Throughput of the weekly batch on synthetic transaction logs, and its speedup over a per-customer loop.

    python benchmarks/batch_throughput.py --customers 1000000
    python benchmarks/batch_throughput.py --customers 10000000 --partitions 40 --sample 0   # no per-customer loop
    python benchmarks/batch_throughput.py --customers 1000000 --sample 0 --weekly   # with last week's run stored

1. Generates (once, cached in benchmarks/.data/, ignored by git) N synthetic customers with
   `python -m cross_sell_upsell.cli.synth`, as Parquet.
2. Runs the whole batch in a fresh process, as `run_batch_analysis.py` does: load the log, derive the customers,
   train the acceptance model (unless `--no-acceptance`), run the graph chunk by chunk, write the executive report, charts, JSON and per-offer CSV (no LLM). Wall time
   and that process's peak RSS are measured, and the phases the batch logs with --verbose printed; the outputs go
   to a temporary folder that is deleted afterwards.
3. Runs the same graph one customer per invocation (the source documents' design) on a sample of the same
   customers, timing only the graph invocations, and extrapolates to N customers: the speedup is that time over
   the batch's whole wall time, so it is a lower bound.

The last line reads `customers_per_second=X peak_rss_mb=Y speedup_vs_per_customer_loop=Z`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / ".data"

BATCH_CHILD = """
import json, sys
from pathlib import Path
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.progress import peak_rss_mib
from cross_sell_upsell.configuration import OrchestratorConfig
config = OrchestratorConfig.model_validate(json.loads(sys.argv[1]))
code = batch_main(sys.argv[2:], config, Path("."), Path("."))
print(peak_rss_mib(), code)
"""


def synthetic_data(customers: int, seed: int) -> Path:
    folder = DATA / f"synth_{customers}_seed{seed}"
    if not (folder / "transactions.parquet").is_file():
        command = [sys.executable, "-m", "cross_sell_upsell.cli.synth", "--customers", str(customers)]
        subprocess.run([*command, "--seed", str(seed), "--out", str(folder)], check=True)
    return folder


def synthetic_options(parser: argparse.ArgumentParser, customers: int | None = None) -> None:
    """The options of every benchmark on synthetic data: --customers (required when `customers` is None, else its
    default), --seed and --as-of."""
    if customers is None:
        parser.add_argument("--customers", type=int, required=True, help="synthetic customers, e.g. 1000000")
    else:
        parser.add_argument(
            "--customers", type=int, default=customers, help=f"synthetic customers (default {customers:,})"
        )
    parser.add_argument("--seed", type=int, default=7, help="synthetic data seed (default 7)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=date(2024, 12, 31), help="as-of date (default 2024-12-31)"
    )


def synthetic_dataset(folder: Path, as_of: date) -> Any:
    """The synthetic log of `folder` (`synthetic_data`) loaded as of `as_of`, as the batch loads a log."""
    from cross_sell_upsell.data.ingest import load_transactions_dataset

    return load_transactions_dataset(
        folder / "transactions.parquet", folder / "catalog.parquet", folder / "customers.parquet", as_of=as_of
    )


def data_args(folder: Path, as_of: date) -> list[str]:
    return [
        "--transactions",
        str(folder / "transactions.parquet"),
        "--catalog",
        str(folder / "catalog.parquet"),
        "--customers-file",
        str(folder / "customers.parquet"),
        "--as-of",
        as_of.isoformat(),
    ]


def run_batch(
    folder: Path, as_of: date, chunk_size: int, config: dict, options: list[str], week_before: bool = False
) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one batch run in a fresh process, with the batch's `options` besides
    the data and output; prints the phases it logs (--verbose). With `week_before`, a run as of seven days
    earlier is recorded in the same store first, untimed, so the timed run compares with it as a weekly job does."""
    with tempfile.TemporaryDirectory(dir=DATA) as outputs:
        if "--no-store" not in options and "--store" not in options:
            # The run store beside the run's files, so it is written (as by default) and thrown away with them.
            options = [*options, "--store", str(Path(outputs) / "history.duckdb")]
        if week_before:
            _batch_child(folder, as_of - timedelta(days=7), chunk_size, config, options, Path(outputs) / "before.md")
        started = time.perf_counter()
        child = _batch_child(folder, as_of, chunk_size, config, options, Path(outputs) / "weekly.md")
        wall = time.perf_counter() - started
    for line in child.stderr.splitlines():
        if ", peak RSS " in line:
            print(f"  {line}")
    return wall, int(child.stdout.strip().splitlines()[-1].split()[0])


def _batch_child(
    folder: Path, as_of: date, chunk_size: int, config: dict, options: list[str], report: Path
) -> subprocess.CompletedProcess[str]:
    """The batch run in a fresh process, stopped with its output when it fails."""
    argv = [*data_args(folder, as_of), "--chunk-size", str(chunk_size), "--verbose", *options, "--output", str(report)]
    child = subprocess.run(
        [sys.executable, "-c", BATCH_CHILD, json.dumps(config), *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    last_line = child.stdout.strip().splitlines()[-1] if child.stdout.strip() else ""
    if child.returncode != 0 or not last_line.endswith(" 0"):
        sys.exit(f"the batch failed:\n{child.stdout}\n{child.stderr}")
    return child


def per_customer_seconds(folder: Path, as_of: date, sample: int, config: dict) -> float:
    """Mean seconds of one graph invocation for one customer, over `sample` customers spread over the data."""
    from cross_sell_upsell.configuration import OrchestratorConfig
    from cross_sell_upsell.pipeline.acceptance import with_acceptance
    from cross_sell_upsell.pipeline.context import Context
    from cross_sell_upsell.pipeline.graph import graph
    from cross_sell_upsell.snapshot.build import build_snapshot

    dataset = synthetic_dataset(folder, as_of)
    ids = dataset.customer_ids()
    chosen = ids[:: max(1, len(ids) // sample)][:sample]
    run_config = OrchestratorConfig.model_validate(config)
    # Built once, as a batch does: the loop times the graph, not what every run shares.
    snapshot = with_acceptance(build_snapshot(dataset, as_of, run_config), dataset, run_config)
    context = Context(dataset=dataset, snapshot=snapshot, config=run_config)
    started = time.perf_counter()
    for customer_id in chosen:
        graph.invoke({"customer_ids": [customer_id], "as_of": as_of}, context=context)
    return (time.perf_counter() - started) / len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    synthetic_options(parser)
    parser.add_argument("--chunk-size", type=int, default=50_000, help="the batch's chunk size (default 50,000)")
    parser.add_argument(
        "--sample", type=int, default=200, help="customers in the per-customer loop, 0 for no loop (default 200)"
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="run the batch with --partitions N, 1 for the log whole (default: the batch's own, one partition per "
        "2.5M log rows)",
    )
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--no-store", action="store_true", help="run the batch with --no-store")
    store.add_argument(
        "--keep-store", type=Path, help="record the run in this store and keep it (default: a store thrown away)"
    )
    parser.add_argument(
        "--weekly",
        action="store_true",
        help="first record a run as of a week before --as-of in the store (untimed): the timed run then reads it "
        "back and compares, as a weekly job does from its second week",
    )
    parser.add_argument(
        "--no-signals", action="store_true", help="switch the learned signals off (signals.enabled = false)"
    )
    parser.add_argument(
        "--no-acceptance",
        action="store_true",
        help="switch the acceptance model off (acceptance.enabled = false): no training, ranked by the score",
    )
    parser.add_argument(
        "--no-ease", action="store_true", help="switch the EASE item-item model off (signals.ease_products = 0)"
    )
    args = parser.parse_args()
    if args.weekly and args.no_store:
        parser.error("--weekly compares with the run before in the store: it needs one (drop --no-store)")

    config = {"signals": {"enabled": False}} if args.no_signals else {}
    if args.no_ease and not args.no_signals:
        config["signals"] = {"ease_products": 0}
    if args.no_acceptance:
        config["acceptance"] = {"enabled": False}
    folder = synthetic_data(args.customers, args.seed)
    options = ["--partitions", str(args.partitions)] if args.partitions else []
    options += ["--no-store"] if args.no_store else []
    options += ["--store", str(args.keep_store.resolve())] if args.keep_store else []
    wall, peak_mb = run_batch(folder, args.as_of, args.chunk_size, config, options, week_before=args.weekly)
    rate = args.customers / wall
    print(f"batch: {args.customers:,} customers in {wall:.1f} s ({rate:,.0f} customers/s), peak RSS {peak_mb:,} MiB")
    if args.sample == 0:  # the loop loads the whole log, which a partitioned run is there to avoid
        print(f"customers_per_second={rate:.0f} peak_rss_mb={peak_mb}")
        return
    loop = per_customer_seconds(folder, args.as_of, args.sample, config)
    speedup = loop * args.customers / wall
    print(
        f"per-customer loop: {loop * 1000:.1f} ms per customer over {args.sample} customers, "
        f"{loop * args.customers / 3600:.1f} h extrapolated to {args.customers:,}"
    )
    print(f"customers_per_second={rate:.0f} peak_rss_mb={peak_mb} speedup_vs_per_customer_loop={speedup:.0f}")


if __name__ == "__main__":
    main()

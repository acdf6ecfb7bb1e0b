"""What the acceptance model adds to the weekly batch (issue #12's cost goal: at most 15 s at a million customers),
measured where whole runs are too noisy to tell: one process, one snapshot, the same chunk of customers run with
and without the model, alternately.

    python benchmarks/acceptance_cost.py --customers 100000 --chunk 50000 --repeats 3

Whole 1M runs with and without the model (`batch_throughput.py --no-acceptance`) varied by 10 s from one run to the
next on the 2-core machine, more than the model costs (docs/benchmarks.md, "Ninth session"). Here the snapshot is
built once; the model is trained once (timed: the training's share); then one chunk of `--chunk` customers
(after a warm-up chunk) runs through the graph (`executors.graph_run`, as the batch runs a chunk) with the model
and without, `--repeats` times each, alternating. The cost per million customers is the chunk's difference
scaled by 1,000,000 / chunk, plus the training. The last line reads `training_s=T chunk_with_s=A chunk_without_s=B
per_million_s=C`, with the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from batch_throughput import synthetic_data, synthetic_dataset, synthetic_options

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.pipeline.acceptance import with_acceptance
from cross_sell_upsell.pipeline.executors import ChunkJob, graph_run
from cross_sell_upsell.pipeline.totals import Limits
from cross_sell_upsell.snapshot.build import build_snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    synthetic_options(parser, customers=100_000)
    parser.add_argument("--chunk", type=int, default=50_000, help="customers in the measured chunk (default 50,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the chunk with and without (default 3)")
    args = parser.parse_args()

    dataset = synthetic_dataset(synthetic_data(args.customers, args.seed), args.as_of)
    config = OrchestratorConfig()
    off = config.model_copy(update={"acceptance": config.acceptance.model_copy(update={"enabled": False})})
    snapshot = build_snapshot(dataset, args.as_of, config)
    started = time.perf_counter()
    trained = with_acceptance(snapshot, dataset, config)
    training = time.perf_counter() - started
    jobs = {
        "with": ChunkJob(snapshot=trained, campaigns=None, as_of=args.as_of, config=config, limits=Limits()),
        "without": ChunkJob(
            snapshot=with_acceptance(snapshot, dataset, off),
            campaigns=None,
            as_of=args.as_of,
            config=off,
            limits=Limits(),
        ),
    }
    ids = dataset.customer_ids()
    warm_up, measured = ids[: args.chunk], ids[args.chunk : 2 * args.chunk]
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for name, job in jobs.items():
        graph_run(job, warm_up)
    for _ in range(args.repeats):
        for name, job in jobs.items():
            started = time.perf_counter()
            graph_run(job, measured)
            times[name].append(time.perf_counter() - started)
    with_model, without_model = statistics.median(times["with"]), statistics.median(times["without"])
    per_million = (with_model - without_model) * 1_000_000 / len(measured) + training
    print(
        f"training {training:.1f} s; a {len(measured):,}-customer chunk: with {times['with']}, without {times['without']}"
    )
    print(
        f"training_s={training:.2f} chunk_with_s={with_model:.2f} chunk_without_s={without_model:.2f} "
        f"per_million_s={per_million:.1f}"
    )


if __name__ == "__main__":
    main()

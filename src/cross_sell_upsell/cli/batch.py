"""`run_batch_analysis.py`: the weekly batch from the command line."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import polars as pl

from cross_sell_upsell.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_PARTIAL,
    Invocation,
    checked_dataset,
    data_options,
    dataset_from_args,
    effective_config,
    positive_int,
    print_error,
    rejected_rows_note,
    run_guarded,
)
from cross_sell_upsell.cli.history import add_store_option
from cross_sell_upsell.cli.interrupts import finish_uninterrupted
from cross_sell_upsell.cli.progress import batch_progress, partition_progress, timed_phase
from cross_sell_upsell.cli.shop_options import ingest_settings
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest import learned_cycles_note
from cross_sell_upsell.data.ingest.partitioned import ROWS_PER_PARTITION, auto_partitions, load_partitioned_dataset
from cross_sell_upsell.errors import DataValidationError, elided
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.pipeline.batch import DEFAULT_CHUNK_SIZE, priority_rationales, run_batch
from cross_sell_upsell.pipeline.executors import LOCAL_WORKERS, DaskExecutor, Executor, InProcessExecutor
from cross_sell_upsell.pipeline.naming import named_snapshot
from cross_sell_upsell.pipeline.partitioned import BatchInputs, customers_only
from cross_sell_upsell.pipeline.totals import DEFAULT_TOP_PRIORITY, BatchResult, Limits
from cross_sell_upsell.reporting.executive import BatchFiles, RecommendationsExport, stage_report
from cross_sell_upsell.reporting.executive.customer_export import CRM_FORMATS, DEFAULT_EXPORT_TOP, CustomerExport
from cross_sell_upsell.reporting.text import money_text
from cross_sell_upsell.snapshot.build import Snapshot
from cross_sell_upsell.store.run import StoreRun

ENGINES = ("local", "dask")
"""The --engine choices: `executors.InProcessExecutor` and `executors.DaskExecutor`."""

SCRIPT = Invocation("run_batch_analysis.py", "python run_batch_analysis.py")
"""How the top-level script is started."""


def batch_parser(
    default_data_dir: Path, default_output_dir: Path, invocation: Invocation = SCRIPT
) -> argparse.ArgumentParser:
    """The options of the weekly batch, for the script or the `cross-sell batch` subcommand."""
    parser = invocation.parser(
        description="Analyse every customer (or the ones listed) and write the weekly executive report, its charts,\n"
        "a per-offer and a per-customer CSV for marketing tools and a JSON summary, all with the same file stem.",
        **invocation.epilog(
            "--data-dir data/tiered --as-of 2024-03-01",
            exit_codes="exit codes: 0 every customer analysed; 1 some could not be (the report lists them); 2 bad input, "
            "arguments or settings (one line on stderr, nothing written); 130 interrupted (Ctrl-C); 143 terminated "
            "(SIGTERM)",
        ),
        parents=[data_options(default_data_dir)],
    )
    parser.add_argument("--customers", nargs="+", metavar="ID", help="customer ids to analyse (default: everyone)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="PATH.md",
        help=f"report to write (default: {default_output_dir}/batch_reports/batch_analysis_<as-of>_<timestamp>.md)",
    )
    parser.add_argument(
        "--top-priority",
        type=int,
        default=DEFAULT_TOP_PRIORITY,
        metavar="N",
        help="priority customers, and customers to win back, to list (default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        metavar="N",
        help="customers per graph run; memory grows with it, not with the customer count (default: %(default)s)",
    )
    _export_options(parser)
    _execution_options(parser)
    history = parser.add_argument_group("run store (docs/store.md)").add_mutually_exclusive_group()
    add_store_option(history, default_output_dir, "record the run in this store and compare with the run before")
    history.add_argument("--no-store", action="store_true", help="record nothing and compare with nothing")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument(
        "--verbose", action="store_true", help="log every chunk's timing and each phase's time and peak memory"
    )
    noise.add_argument("--quiet", action="store_true", help="print nothing but errors (for cron)")
    return parser


def _export_options(parser: argparse.ArgumentParser) -> None:
    """The options of the files for marketing tools and data teams."""
    exports = parser.add_argument_group("exports for marketing tools and data teams")
    exports.add_argument(
        "--export-top",
        type=positive_int,
        default=DEFAULT_EXPORT_TOP,
        metavar="N",
        help="offers per customer in <stem>.customers.csv (default: %(default)s)",
    )
    exports.add_argument(
        "--crm",
        choices=sorted(CRM_FORMATS),
        default=None,
        help="write <stem>.customers.csv with the id and email headers that tool's import expects, split into "
        "numbered parts over its file size limit",
    )
    exports.add_argument(
        "--offers-per-customer",
        type=positive_int,
        default=None,
        metavar="N",
        help="offers per customer in <stem>.recommendations.csv and its Parquet copy, the best N (default: all)",
    )
    exports.add_argument("--parquet", action="store_true", help="also write <stem>.recommendations.parquet")


def _execution_options(parser: argparse.ArgumentParser) -> None:
    """Where the chunks run (docs/scale.md)."""
    execution = parser.add_argument_group("execution (docs/scale.md)")
    execution.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="run the chunks in this process (local) or on a Dask cluster (dask; needs the dask extra) "
        "(default: %(default)s)",
    )
    execution.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="the Dask scheduler to run on, e.g. tcp://10.0.0.5:8786 (only with --engine dask; default: start a "
        f"local cluster of {LOCAL_WORKERS} worker processes)",
    )
    execution.add_argument(
        "--partitions",
        type=_partitions_option,
        default=AUTO,
        metavar="N",
        help="split the transaction log into N partitions of customers (a streaming pass, files beside the report, "
        "deleted after the run) and read one at a time, so no step holds the whole log; the same files for any N; "
        f"1 reads it whole (default: {AUTO}, one per {ROWS_PER_PARTITION:,} rows of a --transactions file, the "
        "log whole when it has fewer)",
    )


AUTO = "auto"


def _partitions_option(text: str) -> int | str:
    return AUTO if text == AUTO else positive_int(text)


def _with_partitions(args: argparse.Namespace) -> argparse.Namespace:
    """`args` with --partitions as a count, or None to read the log whole."""
    if args.partitions == AUTO:
        partitions = auto_partitions(args.transactions) if args.transactions is not None else None
    else:
        partitions = args.partitions if args.partitions > 1 else None
    return argparse.Namespace(**{**vars(args), "partitions": partitions})


def _executor(args: argparse.Namespace) -> Executor:
    return DaskExecutor(args.scheduler) if args.engine == "dask" else InProcessExecutor()


def _batch_argument_problem(args: argparse.Namespace) -> str | None:
    if args.chunk_size < 1:
        return "--chunk-size must be at least 1"
    if args.top_priority < 1:
        return "--top-priority must be at least 1"
    if args.scheduler is not None and args.engine != "dask":
        return "--scheduler needs --engine dask"
    if args.partitions != AUTO and args.partitions > 1 and args.transactions is None:
        return "--partitions splits a transaction log: give --transactions with its --catalog"
    if args.output is not None and args.output.suffix != ".md":
        return f"--output must name a .md file, not '{args.output}'"
    if args.output is not None:
        try:
            is_folder = args.output.is_dir()
        except OSError as error:  # a name too long for the file system, a path through a file
            return f"--output '{elided(str(args.output))}' cannot be written: {error.strerror}"
        if is_folder:
            return f"--output '{args.output}' is a folder; name the report file"
    return None


def batch_main(
    argv: Sequence[str] | None, config: OrchestratorConfig, default_data_dir: Path, default_output_dir: Path
) -> int:
    """`run_batch_analysis.py`: the weekly batch over many customers."""
    args = batch_parser(default_data_dir, default_output_dir).parse_args(argv)
    return batch_command(args, config, default_output_dir)


def batch_command(args: argparse.Namespace, config: OrchestratorConfig, default_output_dir: Path) -> int:
    """Runs the batch the parsed options ask for and publishes its files together; returns the exit code."""
    problem = _batch_argument_problem(args)
    if problem:
        print_error(problem)
        return EXIT_BAD_INPUT

    def run() -> int:
        run_config = effective_config(args, config)
        run_args = _with_partitions(args)
        with _partition_folder(run_args, default_output_dir) as folder:
            dataset, result, files = _analysed(run_args, run_config, default_output_dir, folder)
        if result.customers_failed:
            print_error(
                f"{result.customers_failed:,} of {result.customers_requested:,} customers could not be "
                f"analysed; the report's Errors section lists them: {files.report}"
            )
        if not args.quiet:
            _print_outcome(dataset, result, files)
        return EXIT_PARTIAL if result.customers_failed else EXIT_OK

    return run_guarded(run)


def _analysed(
    args: argparse.Namespace, config: OrchestratorConfig, default_output_dir: Path, folder: Path | None
) -> tuple[Dataset, BatchResult, BatchFiles]:
    """Reads the data (split into partitions under `folder` with --partitions), builds the snapshot and runs the
    batch, each phase timed under --verbose; returns the dataset run over, the result and the files written."""

    def phase(name: str):
        return timed_phase(sys.stderr, name, verbose=args.verbose)

    as_of = args.as_of or date.today()
    with phase("read the data"):
        inputs = _batch_inputs(args, config, as_of, folder)
    # Read before the batch's work, so a store that cannot be opened stops the run at once.
    store = None if args.no_store else StoreRun(args.store or default_output_dir / "history.duckdb", as_of, config)
    # Connected (or the local cluster started) before the snapshot is built, so a scheduler that cannot be
    # reached stops the run at once.
    with _executor(args) as executor:
        # The batch's and the chat model's cohorts share it, with the acceptance model trained once, its
        # segments named by the chat model when it is on.
        with phase("built the snapshot (holdings, signals, customer models, segments)"):
            built = inputs.snapshot(as_of, config)
        with phase("trained the acceptance model"):
            built = inputs.with_acceptance(built, config)
        snapshot = named_snapshot(built, config, None)
        generated_at = datetime.now()
        stem = f"batch_analysis_{as_of}_{generated_at:%Y%m%d_%H%M%S}"
        files = BatchFiles(args.output or _reports_folder(args, default_output_dir) / f"{stem}.md")
        with phase("analysed the customers and wrote the files"):
            result = _write_batch(args, inputs, snapshot, config, files, generated_at, store, executor)
    return inputs.dataset, result, files


def _reports_folder(args: argparse.Namespace, default_output_dir: Path) -> Path:
    return args.output.parent if args.output is not None else default_output_dir / "batch_reports"


@contextmanager
def _partition_folder(args: argparse.Namespace, default_output_dir: Path) -> Iterator[Path | None]:
    """With --partitions, a folder for the log's partitions beside the report, deleted after the run; else None."""
    if args.partitions is None:
        yield None
        return
    reports = _reports_folder(args, default_output_dir)
    reports.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partitions-", dir=reports) as folder:
        yield Path(folder)


def _batch_inputs(
    args: argparse.Namespace, config: OrchestratorConfig, as_of: date, folder: Path | None
) -> BatchInputs:
    """The data options' dataset whole, or with --partitions its log split into partitions under `folder`."""
    if folder is None:
        return BatchInputs(dataset_from_args(args, config))
    progress = partition_progress(sys.stderr, quiet=args.quiet)
    partitioned = load_partitioned_dataset(
        args.transactions,
        args.catalog,
        args.customers_file,
        as_of=as_of,
        folder=folder,
        partitions=args.partitions,
        settings=ingest_settings(args, config.ingest),
        strict=args.strict,
        on_partition=progress,
    )
    customers = checked_dataset(customers_only(partitioned), args.catalog, args, config)
    return BatchInputs(customers, partitioned, progress)


def _write_batch(
    args: argparse.Namespace,
    inputs: BatchInputs,
    snapshot: Snapshot,
    config: OrchestratorConfig,
    files: BatchFiles,
    generated_at: datetime,
    store: StoreRun | None,
    executor: Executor,
) -> BatchResult:
    """Runs the batch over `snapshot` (the chat model's cohort reads it too) on `executor`, staging the exports
    chunk by chunk, and publishes every file at the end or none; the run is recorded in `store` only when they
    are published."""
    dataset = inputs.dataset
    with StagedOutputs() as staged:
        progress = batch_progress(sys.stderr, quiet=args.quiet, verbose=args.verbose)
        customers = CustomerExport(
            staged,
            files.customers,
            args.export_top,
            email=bool(dataset.customers.get_column("email").is_not_null().any()),
            crm=CRM_FORMATS.get(args.crm),
        )
        with RecommendationsExport(staged, files.recommendations, args.offers_per_customer) as export:
            if store:
                store.spill_to(staged.scratch(files.report))
            with progress as on_progress:
                result = run_batch(
                    dataset,
                    args.customers,
                    snapshot.as_of,
                    config,
                    args.chunk_size,
                    on_progress,
                    limits=Limits(top_priority=args.top_priority, top_win_back=args.top_priority),
                    on_chunk=export.append,
                    on_results=_both(customers.append, store.recorder.append if store else None),
                    snapshot=snapshot,
                    executor=executor,
                )
            if config.llm.enabled:
                result = _with_chat_rationales(result, dataset, config, snapshot, export, store)
            if not result.customers_processed:
                raise DataValidationError(dataset.source, "-", "-", _nobody_analysed(result))
            if args.parquet:
                export.stage_parquet(files.recommendations_parquet)
            parts = customers.close()
            files = replace(files, customer_parts=parts if len(parts) > 1 else (), parquet=args.parquet)
            if result.rows_rejected["total"]:
                staged.add(files.rejected_rows, dataset.rejected_rows.write_csv())
            history = store.history(result, dataset.products, generated_at, inputs.purchases()) if store else None
            # Drawn while the export's last chunk is still being written (unless the Parquet copy waited for it).
            stage_report(staged, files, result, generated_at, history)
        # The run's rows are inserted while an interrupt can still stop it (and roll them back); once the files
        # are published, the store's transaction commits.
        with store.recorded() if store else nullcontext():
            finish_uninterrupted()
            staged.commit()
    _note_left_out(customers, args.quiet)
    return result


def _with_chat_rationales(
    result: BatchResult,
    dataset: Dataset,
    config: OrchestratorConfig,
    snapshot: Snapshot,
    export: RecommendationsExport,
    store: StoreRun | None,
) -> BatchResult:
    """The result with the chat model's rationales for the priority customers' lead offers, swapped into the
    per-offer export and the store's rows too."""
    result, rationales = priority_rationales(result, dataset, config, snapshot=snapshot)
    export.replace_rationales(rationales)
    if store:
        store.recorder.replace_rationales(rationales)
    return result


def _both(
    first: Callable[[pl.DataFrame, pl.DataFrame], None], second: Callable[[pl.DataFrame, pl.DataFrame], None] | None
) -> Callable[[pl.DataFrame, pl.DataFrame], None]:
    """One `on_results` callback that hands each chunk to both (the second may be None)."""

    def both(opportunities: pl.DataFrame, summaries: pl.DataFrame) -> None:
        first(opportunities, summaries)
        if second is not None:
            second(opportunities, summaries)

    return both


def _nobody_analysed(result: BatchResult) -> str:
    """Why a batch that analysed no customer writes nothing (a cron job would send an empty report)."""
    if not result.customers_requested:
        return f"no customer can be analysed: none has a valid purchase on or before {result.as_of} or a profile"
    first = result.errors.row(0, named=True)
    return (
        f"no customer can be analysed: all {result.customers_requested:,} requested failed, the first "
        f"({first['customer_id']}) with: {first['error']}"
    )


def _note_left_out(customers: CustomerExport, quiet: bool) -> None:
    left_out = {reason: count for reason, count in customers.left_out.items() if count}
    if left_out and not quiet:
        reasons = ", ".join(f"{count:,} with {reason}" for reason, count in left_out.items())
        print(f"note: {sum(left_out.values()):,} customers left out of the CRM file ({reasons})", file=sys.stderr)


def _print_outcome(dataset: Dataset, result: BatchResult, files: BatchFiles) -> None:
    """The notes and the one-line summary on stderr, and the report's path on stdout."""
    cycles = learned_cycles_note(dataset)
    if cycles:
        print(f"note: {cycles}", file=sys.stderr)
    if result.rows_rejected["total"]:
        print(rejected_rows_note(dataset, files.rejected_rows), file=sys.stderr)
    for note in result.rationale_notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"analysed {result.customers_processed:,} of {result.customers_requested:,} customers; "
        f"potential revenue {money_text(result.total_potential_revenue)}",
        file=sys.stderr,
    )
    print(files.report)

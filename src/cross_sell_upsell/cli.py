"""Command-line front ends. Thin: parse options, call the library, turn domain errors into one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from .api import analyze_customer
from .batch import DEFAULT_CHUNK_SIZE, DEFAULT_TOP_PRIORITY, Limits, priority_rationales, run_batch
from .batch_report import BatchFiles, RecommendationsExport, StagedOutputs, stage_report
from .configuration import OrchestratorConfig
from .dataset import Dataset, load_dataset
from .errors import ConfigurationError, CrossSellError
from .ingest import (
    learned_cycles_note,
    load_transactions_dataset,
    rows_rejected_summary,
    with_column_overrides,
    write_rejected_rows,
)
from .progress import batch_progress
from .report import money_text, render_json, render_markdown, write_atomic

EXIT_OK, EXIT_PARTIAL, EXIT_BAD_INPUT = 0, 1, 2


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in YYYY-MM-DD form") from None


def column_option(text: str) -> tuple[str, str]:
    name, separator, source = text.partition("=")
    if not separator or not name.strip() or not source.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=SOURCE, e.g. product_id=sku")
    return name.strip(), source.strip()


class _NoteGiven(argparse.Action):
    """Stores the value and records that the option was given, which tells `--data-dir data/tier1` from the
    default. (argparse's own mutually exclusive groups lose their help heading when used through parents.)"""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def data_options(default_data_dir: Path) -> argparse.ArgumentParser:
    """Options every command shares: where the data is (a folder of JSON profiles, or a transaction log with
    its catalog), the as-of date, and the LLM switch."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("data")
    group.add_argument(
        "--data-dir", type=Path, default=default_data_dir, action=_NoteGiven,
        help="folder with catalog.json and customers.json (default: %(default)s)",
    )
    group.add_argument(
        "--transactions", type=Path, default=None,
        help="transaction log (CSV or Parquet: customer id, product id, date, quantity, amount) instead of --data-dir",
    )
    group.add_argument(
        "--catalog", type=Path, default=None, help="catalog (CSV, JSON or Parquet) for --transactions; required with it"
    )
    group.add_argument(
        "--customers-file", type=Path, default=None,
        help="optional customer attributes (CSV, JSON or Parquet) for --transactions; missing ones are derived",
    )
    group.add_argument(
        "--column", type=column_option, action="append", default=[], metavar="NAME=SOURCE",
        help="read field NAME from column SOURCE (repeatable), e.g. product_id=sku or catalog.name=title",
    )
    group.add_argument(
        "--strict", action="store_true", help="treat any bad transaction row as an error (exit 2) instead of rejecting it"
    )
    group.add_argument(
        "--as-of", type=iso_date, default=None, help="date the analysis is relative to, YYYY-MM-DD (default: today)"
    )
    llm = parent.add_argument_group("rationales")
    llm.add_argument(
        "--llm", action=argparse.BooleanOptionalAction, default=None,
        help="have a chat model write the top rationales (needs OPENAI_API_KEY; default: the config's llm.enabled)",
    )
    return parent


def dataset_from_args(args: argparse.Namespace, config: OrchestratorConfig | None = None) -> Dataset:
    """The dataset the shared data options name. A transaction log's customer attributes are derived as of
    `--as-of` (default today) with the config's ingest settings and the `--column` mappings."""
    if args.transactions is not None and getattr(args, "data_dir_given", False):
        raise ConfigurationError("--data-dir and --transactions are alternatives: give one")
    if args.transactions is None:
        if args.catalog is not None or args.customers_file is not None or args.column:
            raise ConfigurationError("--catalog, --customers-file and --column go with --transactions, not --data-dir")
        return load_dataset(args.data_dir)
    if args.catalog is None:
        raise ConfigurationError("--transactions needs --catalog")
    settings = with_column_overrides((config or OrchestratorConfig()).ingest, args.column)
    return load_transactions_dataset(
        args.transactions, args.catalog, args.customers_file, as_of=args.as_of or date.today(), settings=settings,
        strict=args.strict,
    )


def note_ingest(dataset: Dataset, path: Path) -> None:
    """For a dataset from a log: names the learned replenishment cycles on stderr and, when the log had bad
    rows, writes them to `path` and says so in one line."""
    cycles = learned_cycles_note(dataset)
    if cycles:
        print(f"note: {cycles}", file=sys.stderr)
    summary = rows_rejected_summary(dataset)
    if summary["total"]:
        reasons = ", ".join(f"{reason} {count}" for reason, count in summary["by_reason"].items() if count)
        written = write_rejected_rows(dataset, path)
        print(f"note: {summary['total']} transaction rows rejected ({reasons}); see {written}", file=sys.stderr)


def with_llm_switch(config: OrchestratorConfig, llm: bool | None) -> OrchestratorConfig:
    if llm is None:
        return config
    return config.model_copy(update={"llm": config.llm.model_copy(update={"enabled": llm})})


def run_guarded(action: Callable[[], int]) -> int:
    """Runs a command body; a domain error becomes one line on stderr and exit code 2, never a traceback."""
    try:
        return action()
    except CrossSellError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130


def orchestrator_parser(default_data_dir: Path, default_output_dir: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_orchestrator.py",
        description="Recommend what to offer one customer next, and why.",
        epilog="example: python run_orchestrator.py --customer C001 --data-dir data/tier1 --as-of 2024-03-01",
        parents=[data_options(default_data_dir)],
    )
    parser.add_argument("--customer", required=True, help="customer id, e.g. C001")
    parser.add_argument("--top", type=int, default=None, help="recommendations to detail (default: config top_n, 5)")
    parser.add_argument(
        "--format", choices=("markdown", "json"), default="markdown",
        help="markdown writes a report file and prints its path; json prints the result to stdout",
    )
    parser.add_argument(
        "--output", type=Path, default=None,
        help=f"file to write (markdown default: {default_output_dir}/reports/report_<customer>_<as-of>.md)",
    )
    return parser


def orchestrator_main(
    argv: Sequence[str] | None, config: OrchestratorConfig, default_data_dir: Path, default_output_dir: Path
) -> int:
    """`run_orchestrator.py`: one customer's report."""
    args = orchestrator_parser(default_data_dir, default_output_dir).parse_args(argv)
    if args.top is not None and args.top < 1:
        print("error: --top must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT

    def run() -> int:
        run_config = with_llm_switch(config, args.llm)
        as_of = args.as_of or date.today()
        dataset = dataset_from_args(args, run_config)
        report = analyze_customer(args.customer, as_of=as_of, dataset=dataset, config=run_config)
        for note in report.run_notes:
            print(f"note: {note}", file=sys.stderr)
        report_folder = args.output.parent if args.output else default_output_dir / "reports"
        note_ingest(dataset, report_folder / f"rejected_rows_{as_of}.csv")
        if args.format == "json":
            text = render_json(report)
            if args.output is None:
                sys.stdout.write(text)
            else:
                print(write_atomic(args.output, text))
            return EXIT_OK
        output = args.output or report_folder / f"report_{report.customer_id}_{as_of}.md"
        text = render_markdown(report, args.top or run_config.top_n, datetime.now())
        print(write_atomic(output, text))
        return EXIT_OK

    return run_guarded(run)


def batch_parser(default_data_dir: Path, default_output_dir: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_batch_analysis.py",
        description="Analyse every customer (or the ones listed) and write the weekly executive report, its charts,\n"
        "a per-offer CSV for marketing tools and a JSON summary, all with the same file stem.",
        epilog="exit codes: 0 every customer analysed; 1 some could not be (the report lists them); "
        "2 bad input or arguments (nothing written).\n"
        "example: python run_batch_analysis.py --data-dir data/tiered --as-of 2024-03-01",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[data_options(default_data_dir)],
    )
    parser.add_argument("--customers", nargs="+", metavar="ID", help="customer ids to analyse (default: everyone)")
    parser.add_argument(
        "--output", type=Path, default=None, metavar="PATH.md",
        help=f"report to write (default: {default_output_dir}/batch_reports/batch_analysis_<as-of>_<timestamp>.md)",
    )
    parser.add_argument(
        "--top-priority", type=int, default=DEFAULT_TOP_PRIORITY, metavar="N",
        help="priority customers to list (default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, metavar="N",
        help="customers per graph run; memory grows with it, not with the customer count (default: %(default)s)",
    )
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--verbose", action="store_true", help="log every chunk with its timing")
    noise.add_argument("--quiet", action="store_true", help="print nothing but errors (for cron)")
    return parser


def _batch_argument_problem(args: argparse.Namespace) -> str | None:
    if args.chunk_size < 1:
        return "--chunk-size must be at least 1"
    if args.top_priority < 1:
        return "--top-priority must be at least 1"
    if args.output is not None and args.output.suffix != ".md":
        return f"--output must name a .md file, not '{args.output}'"
    if args.output is not None and args.output.is_dir():
        return f"--output '{args.output}' is a folder; name the report file"
    return None


def batch_main(
    argv: Sequence[str] | None, config: OrchestratorConfig, default_data_dir: Path, default_output_dir: Path
) -> int:
    """`run_batch_analysis.py`: the weekly batch over many customers."""
    args = batch_parser(default_data_dir, default_output_dir).parse_args(argv)
    problem = _batch_argument_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def run() -> int:
        run_config = with_llm_switch(config, args.llm)
        dataset = dataset_from_args(args, run_config)
        as_of = args.as_of or date.today()
        generated_at = datetime.now()
        stem = f"batch_analysis_{as_of}_{generated_at:%Y%m%d_%H%M%S}"
        files = BatchFiles(args.output or default_output_dir / "batch_reports" / f"{stem}.md")
        try:
            with StagedOutputs() as staged:
                progress = batch_progress(sys.stderr, quiet=args.quiet, verbose=args.verbose)
                with RecommendationsExport(staged, files.recommendations) as export:
                    with progress as on_progress:
                        result = run_batch(
                            dataset, args.customers, as_of, run_config, args.chunk_size, on_progress,
                            limits=Limits(top_priority=args.top_priority), on_chunk=export.append,
                        )
                    if run_config.llm.enabled:
                        result, rationales = priority_rationales(result, dataset, run_config)
                        export.replace_rationales(rationales)
                    if result.rows_rejected["total"]:
                        staged.add(files.rejected_rows, dataset.rejected_rows.write_csv())
                    # Drawn while the export's last chunk is still being written.
                    stage_report(staged, files, result, generated_at)
                staged.commit()
        except OSError as error:
            print(f"error: cannot write the batch files: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if result.customers_failed:
            print(
                f"error: {result.customers_failed:,} of {result.customers_requested:,} customers could not be "
                f"analysed; the report's Errors section lists them: {files.report}",
                file=sys.stderr,
            )
        if not args.quiet:
            cycles = learned_cycles_note(dataset)
            if cycles:
                print(f"note: {cycles}", file=sys.stderr)
            if result.rows_rejected["total"]:
                print(
                    f"note: {result.rows_rejected['total']:,} input rows rejected; see {files.rejected_rows}",
                    file=sys.stderr,
                )
            for note in result.rationale_notes:
                print(f"note: {note}", file=sys.stderr)
            print(
                f"analysed {result.customers_processed:,} of {result.customers_requested:,} customers; "
                f"potential revenue {money_text(result.total_potential_revenue)}",
                file=sys.stderr,
            )
            print(files.report)
        return EXIT_PARTIAL if result.customers_failed else EXIT_OK

    return run_guarded(run)

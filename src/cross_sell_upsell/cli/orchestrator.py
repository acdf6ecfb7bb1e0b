"""`run_orchestrator.py`: one customer's report from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from cross_sell_upsell.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    Invocation,
    data_options,
    dataset_from_args,
    effective_config,
    emit,
    note_ingest,
    print_error,
    run_guarded,
)
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.io.files import write_atomic
from cross_sell_upsell.io.names import file_in, name_part

SCRIPT = Invocation("run_orchestrator.py", "python run_orchestrator.py")
"""How the top-level script is started."""


def orchestrator_parser(
    default_data_dir: Path, default_output_dir: Path, invocation: Invocation = SCRIPT
) -> argparse.ArgumentParser:
    """The options of one customer's report, for the script or the `cross-sell report` subcommand."""
    parser = invocation.parser(
        description="Recommend what to offer one customer next, and why.",
        **invocation.epilog("--customer C001 --data-dir data/tier1 --as-of 2024-03-01"),
        parents=[data_options(default_data_dir)],
    )
    parser.add_argument("--customer", required=True, help="customer id, e.g. C001")
    parser.add_argument("--top", type=int, default=None, help="recommendations to detail (default: config top_n, 5)")
    parser.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        help="markdown writes a report file and prints its path; json prints the result to stdout",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"file to write (markdown default: {default_output_dir}/reports/report_<customer>_<as-of>.md)",
    )
    return parser


def orchestrator_main(
    argv: Sequence[str] | None, config: OrchestratorConfig, default_data_dir: Path, default_output_dir: Path
) -> int:
    """`run_orchestrator.py`: one customer's report."""
    args = orchestrator_parser(default_data_dir, default_output_dir).parse_args(argv)
    return report_command(args, config, default_output_dir)


def report_command(args: argparse.Namespace, config: OrchestratorConfig, default_output_dir: Path) -> int:
    """Writes (or prints) the report the parsed options ask for; returns the exit code."""
    if args.top is not None and args.top < 1:
        print_error("--top must be at least 1")
        return EXIT_BAD_INPUT

    def run() -> int:
        # Imported once a report runs: the graph's stack (LangGraph, LangChain) takes seconds to import, which
        # --help and a usage error need not pay.
        from cross_sell_upsell.pipeline.api import analyze_customer
        from cross_sell_upsell.reporting.customer import render_json, render_markdown

        run_config = effective_config(args, config)
        as_of = args.as_of or date.today()
        dataset = dataset_from_args(args, run_config)
        report = analyze_customer(args.customer, as_of=as_of, dataset=dataset, config=run_config)
        for note in report.run_notes:
            print(f"note: {note}", file=sys.stderr)
        report_folder = args.output.parent if args.output else default_output_dir / "reports"
        note_ingest(dataset, report_folder / f"rejected_rows_{as_of}.csv")
        if args.format == "json":
            text = render_json(report)
            emit(text, args.output)
            return EXIT_OK
        output = args.output or file_in(report_folder, f"report_{name_part(report.customer_id)}_{as_of}.md")
        text = render_markdown(report, args.top or run_config.top_n, datetime.now())
        print(write_atomic(output, text))
        return EXIT_OK

    return run_guarded(run)

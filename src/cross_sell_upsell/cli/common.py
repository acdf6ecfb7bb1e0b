"""Command-line front ends. Thin: parse options, call the library, turn domain errors into one line and exit 2."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NoReturn, get_args

from cross_sell_upsell.cli.campaigns import add_campaigns_option, with_campaigns
from cross_sell_upsell.cli.config_file import config_from_file, settings_in_effect
from cross_sell_upsell.cli.interrupts import interrupts_raised, report_interrupt
from cross_sell_upsell.cli.shop_options import SHOP_OPTIONS, add_shop_options, ingest_settings
from cross_sell_upsell.configuration import (
    CATALOG_FIELDS,
    CUSTOMER_FIELDS,
    TRANSACTION_FIELDS,
    OrchestratorConfig,
)
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import (
    learned_cycles_note,
    load_transactions_dataset,
    reasons_text,
    rows_rejected_summary,
    unmatched_essentials,
    write_rejected_rows,
)
from cross_sell_upsell.data.ingest.tables import table_source
from cross_sell_upsell.errors import (
    LINE_HEAD,
    LINE_TAIL,
    ConfigurationError,
    CrossSellError,
    DataValidationError,
    elided,
)
from cross_sell_upsell.io.files import write_atomic

EXIT_OK, EXIT_PARTIAL, EXIT_BAD_INPUT = 0, 1, 2

EXIT_CODES_HELP = (
    "exit codes: 0 done; 2 bad input, arguments or settings (one line on stderr, nothing written); "
    "130 interrupted (Ctrl-C); 143 terminated (SIGTERM)"
)
"""The exit codes every command shares, as its --help lists them."""

COLUMN_FIELDS_HELP = (
    f"fields --column NAME=SOURCE maps: {', '.join(TRANSACTION_FIELDS)} (transaction log); "
    f"catalog.{', catalog.'.join(CATALOG_FIELDS)}; customers.{', customers.'.join(CUSTOMER_FIELDS)}"
)
"""The field names a `--column` option accepts, for every --help."""

HELP_WIDTH = 100
"""Characters per line of a --help's closing paragraphs."""


def print_error(message: str) -> None:
    """`error: <message>` on stderr: one line, however long or many-lined the message (see `errors.elided`)."""
    print(f"error: {elided(message, LINE_HEAD, LINE_TAIL)}", file=sys.stderr)


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors (a bad date, a missing option) are one line, `error: ...`, and exit code 2,
    like every other bad input, instead of the usage block; `--help` is argparse's own."""

    def error(self, message: str) -> NoReturn:
        print_error(message)
        self.exit(EXIT_BAD_INPUT)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date in YYYY-MM-DD form") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def column_option(text: str) -> tuple[str, str]:
    name, separator, source = text.partition("=")
    if not separator or not name.strip() or not source.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=SOURCE, e.g. product_id=sku")
    return name.strip(), source.strip()


@dataclass(frozen=True)
class Invocation:
    """How a command is started, for its parser: the name its usage line shows, the command line its help's
    example starts with (default: the name), and what makes the parser: ArgumentParser for a script, a
    subparsers' add_parser for a `cross-sell` subcommand. One parser builder serves every way in."""

    prog: str
    """The name the usage line shows, e.g. `run_orchestrator.py` or `cross-sell report`."""
    command: str = ""
    """What a shell runs, e.g. `python run_orchestrator.py`; empty when it is `prog` itself."""
    new_parser: Callable[..., argparse.ArgumentParser] = CommandParser
    """Makes the parser from ArgumentParser's keyword arguments."""

    def parser(self, **options: Any) -> argparse.ArgumentParser:
        """A parser for this command with ArgumentParser's `options` (description, epilog, parents...)."""
        return self.new_parser(prog=self.prog, **options)

    def example(self, arguments: str) -> str:
        """The help's closing line: this command run with `arguments`."""
        return f"example: {self.command or self.prog} {arguments}"

    def epilog(self, arguments: str, exit_codes: str = EXIT_CODES_HELP, column_fields: bool = True) -> dict[str, Any]:
        """The parser options for the help's closing paragraphs: the exit codes, the fields `--column` accepts
        (unless `column_fields` is false: a command that reads no data) and an example run with `arguments`, each
        kept on its own line."""
        paragraphs = (exit_codes, *([COLUMN_FIELDS_HELP] if column_fields else []), self.example(arguments))
        return {
            "epilog": "\n\n".join(
                textwrap.fill(text, HELP_WIDTH, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)
                for text in paragraphs
            ),
            "formatter_class": argparse.RawDescriptionHelpFormatter,
        }


class _NoteGiven(argparse.Action):
    """Stores the value and records that the option was given, which tells `--data-dir data/tier1` from the
    default. (argparse's own mutually exclusive groups lose their help heading when used through parents.)"""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def add_log_options(group: argparse._ArgumentGroup, alternative: str) -> None:
    """The options that name a transaction log and its companions, read instead of the `alternative` option."""
    group.add_argument(
        "--transactions",
        type=table_source,
        default=None,
        help="transaction log (CSV or Parquet: customer id, product id, date, quantity, amount; or a database table, "
        f"duckdb:PATH::TABLE or postgresql://...::TABLE) instead of {alternative}",
    )
    group.add_argument(
        "--catalog", type=Path, default=None, help="catalog (CSV, JSON or Parquet) for --transactions; required with it"
    )
    group.add_argument(
        "--customers-file",
        type=Path,
        default=None,
        help="optional customer attributes (CSV, JSON or Parquet) for --transactions; missing ones are derived",
    )
    group.add_argument(
        "--column",
        type=column_option,
        action="append",
        default=[],
        metavar="NAME=SOURCE",
        help="read field NAME from column SOURCE (repeatable), e.g. product_id=sku or catalog.name=title; the "
        "fields are listed below",
    )
    add_shop_options(group)


def add_config_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """`--config PATH`: settings from a TOML file, between the code-level defaults and the flags."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH.toml",
        help="business rules from a TOML file: any OrchestratorConfig field, nested settings as tables "
        "(command-line flags override it)",
    )


def add_dataset_option(group: argparse._ArgumentGroup) -> None:
    """`--dataset`: a packaged data set, read instead of a transaction log."""
    group.add_argument(
        "--dataset", choices=["completejourney"], help="a packaged data set (needs the backtest extra) instead of a log"
    )


def add_reading_options(group: argparse._ArgumentGroup) -> None:
    """The options that say how input files are read: strictly or not, and in which encoding."""
    group.add_argument(
        "--strict",
        action="store_true",
        help="treat any bad transaction or campaign row as an error (exit 2) instead of rejecting it",
    )
    group.add_argument(
        "--encoding",
        default=None,
        help="encoding of input files that are not UTF-8, e.g. latin-1 or cp1252 (default: the config's ingest.encoding)",
    )


def data_options(default_data_dir: Path) -> argparse.ArgumentParser:
    """Options the report and the batch share: where the data is (a folder of JSON profiles, or a transaction
    log with its catalog), the as-of date, and the LLM switch."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("data")
    group.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir,
        action=_NoteGiven,
        help="folder with catalog.json and customers.json (default: %(default)s)",
    )
    add_log_options(group, alternative="--data-dir")
    add_reading_options(group)
    group.add_argument(
        "--as-of", type=iso_date, default=None, help="date the analysis is relative to, YYYY-MM-DD (default: today)"
    )
    add_campaigns_option(group)
    add_config_option(parent.add_argument_group("settings"))
    llm = parent.add_argument_group("rationales")
    llm.add_argument(
        "--llm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="have a chat model write the top rationales (needs OPENAI_API_KEY; default: the config's llm.enabled)",
    )
    return parent


DataSource = Literal["data_dir", "transactions", "dataset"]
"""Where a command's data comes from: a folder of JSON profiles, a transaction log, or a packaged data set."""


def data_source(args: argparse.Namespace) -> DataSource:
    """The one check of every command's data options: which source they name, after making sure they name
    one and that the log's companions (--catalog, --customers-file, --column) come with a log and the log with
    its catalog. A --data-dir left at its default is not counted as given. Raises ConfigurationError."""
    given = [source for source in get_args(DataSource) if _given(args, source)]
    if len(given) > 1:
        raise ConfigurationError(f"{' and '.join(map(_option, given))} are alternatives: give one")
    if not given and not hasattr(args, "data_dir"):
        raise ConfigurationError("no data: give --transactions with its --catalog, or --dataset")
    source = given[0] if given else "data_dir"
    if source != "transactions" and (args.catalog is not None or args.customers_file is not None or args.column):
        raise ConfigurationError(
            f"--catalog, --customers-file and --column go with --transactions, not {_option(source)}"
        )
    shop = [option for field, option in SHOP_OPTIONS.items() if getattr(args, field, None) is not None]
    if source != "transactions" and shop:
        raise ConfigurationError(
            f"{', '.join(shop)} go{'es' if len(shop) == 1 else ''} with --transactions, not {_option(source)}"
        )
    if source == "transactions" and args.catalog is None:
        raise ConfigurationError("--transactions needs --catalog")
    return source


def _given(args: argparse.Namespace, source: DataSource) -> bool:
    if source == "data_dir":
        return getattr(args, "data_dir_given", False)
    return getattr(args, source, None) is not None


def _option(source: DataSource) -> str:
    return "--" + source.replace("_", "-")


def dataset_from_args(args: argparse.Namespace, config: OrchestratorConfig | None = None) -> Dataset:
    """The dataset the shared data options name, its files read in `--encoding` when not UTF-8. A transaction
    log's customer attributes are derived as of `--as-of` (default today) with the config's ingest settings and
    the `--column` mappings and the shop options. An essential category the catalog lacks is a warning on stderr
    (not with --quiet), an error with --strict."""
    config = config or OrchestratorConfig()
    source = data_source(args)
    settings = ingest_settings(args, config.ingest)
    if source == "data_dir":
        dataset = load_dataset(args.data_dir, encoding=settings.encoding)
        return checked_dataset(dataset, args.data_dir / "catalog.json", args, config)
    dataset = load_transactions_dataset(
        args.transactions,
        args.catalog,
        args.customers_file,
        as_of=args.as_of or date.today(),
        settings=settings,
        strict=args.strict,
    )
    return checked_dataset(dataset, args.catalog, args, config)


def checked_dataset(
    dataset: Dataset, catalog: str | Path, args: argparse.Namespace, config: OrchestratorConfig
) -> Dataset:
    """A loaded dataset as the data options ask: an essential category the `catalog` file lacks is a warning on
    stderr (not with --quiet), an error with --strict; with the campaigns of `--campaigns`."""
    problem = unmatched_essentials(dataset.products, config.essential_categories)
    if problem and args.strict:
        raise DataValidationError(str(catalog), "-", "category", problem)
    quiet = getattr(args, "quiet", False)
    if problem and not quiet:
        print(f"warning: {catalog}: {problem}", file=sys.stderr)
    return with_campaigns(dataset, args, config, args.as_of or date.today(), quiet=quiet)


def note_ingest(dataset: Dataset, path: Path) -> None:
    """For a dataset from a log: names the learned replenishment cycles on stderr and, when the log had bad
    rows, writes them to `path` and says so in one line."""
    cycles = learned_cycles_note(dataset)
    if cycles:
        print(f"note: {cycles}", file=sys.stderr)
    if rows_rejected_summary(dataset)["total"]:
        print(rejected_rows_note(dataset, write_rejected_rows(dataset, path)), file=sys.stderr)


def rejected_rows_note(dataset: Dataset, written: Path) -> str:
    """The note on a log's rejected rows: how many, by reason, and the file that lists them."""
    summary = rows_rejected_summary(dataset)
    reasons = reasons_text(summary["by_reason"])
    return f"note: {summary['total']:,} transaction rows rejected ({reasons}); see {written}"


def with_llm_switch(config: OrchestratorConfig, llm: bool | None) -> OrchestratorConfig:
    if llm is None:
        return config
    return config.model_copy(update={"llm": config.llm.model_copy(update={"enabled": llm})})


@dataclass(frozen=True)
class RunSettings:
    """The settings a command runs with, and which of them the --config file and the flags set."""

    config: OrchestratorConfig
    """The code-level defaults, then the --config file, then the flags."""
    from_file: frozenset[str]
    """Dotted keys (`weights.affinity`) the --config file set."""
    from_flags: frozenset[str]
    """Dotted keys a flag set (--llm, --encoding, --column)."""


def run_settings(args: argparse.Namespace, base: OrchestratorConfig) -> RunSettings:
    """`base` (config.py's or the library's defaults) with the --config file's settings and then the flags'."""
    config, from_file = (base, frozenset()) if args.config is None else config_from_file(args.config, base)
    flagged = with_llm_switch(config, args.llm)
    flagged = flagged.model_copy(update={"ingest": ingest_settings(args, flagged.ingest)})
    before, after = settings_in_effect(config), settings_in_effect(flagged)
    given = {"llm.enabled": args.llm is not None, "ingest.encoding": args.encoding is not None}
    changed = {key for key, value in after.items() if value != before[key]}
    return RunSettings(flagged, from_file, frozenset(changed | {key for key, set_ in given.items() if set_}))


def effective_config(args: argparse.Namespace, base: OrchestratorConfig) -> OrchestratorConfig:
    """The settings the shared data options' command runs with (see `run_settings`)."""
    return run_settings(args, base).config


def run_guarded(action: Callable[[], int]) -> int:
    """Runs a command body behind the one error boundary every command has. A domain error, including a file that
    cannot be written (OutputError), becomes one line on stderr and exit code 2, never a traceback; so does any
    other OSError, naming its file. SIGINT and SIGTERM stop it cleanly (see `cli.interrupts`): exit 130 or 143."""
    with interrupts_raised():
        try:
            return action()
        except CrossSellError as error:
            print_error(str(error))
            return EXIT_BAD_INPUT
        except OSError as error:
            reason = error.strerror or str(error)
            print_error(f"{error.filename}: {reason}" if error.filename else reason)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt as interrupt:
            return report_interrupt(interrupt)


def emit(text: str, output: Path | None) -> None:
    """`text` on stdout, or written atomically to `output` (whose path is then printed)."""
    if output is None:
        sys.stdout.write(text)
    else:
        print(write_atomic(output, text))

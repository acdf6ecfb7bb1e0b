"""`cross-sell dashboard`: serve the web dashboard over a run store (docs/dashboard.md).

Dash and Plotly are the optional `dashboard` extra (and a PostgreSQL store the `postgres` extra), imported only
when the command runs, so every other command starts without them."""

from __future__ import annotations

import argparse
import socket

from cross_sell_upsell.cli.common import EXIT_OK, Invocation, run_guarded
from cross_sell_upsell.errors import ConfigurationError

DEFAULT_PORT = 8050
"""The port the dashboard listens on unless --port says otherwise (Dash's own default)."""


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number from 1 to 65535")
    return value


def dashboard_parser(invocation: Invocation) -> argparse.ArgumentParser:
    """The options of `cross-sell dashboard`: the store, and where to listen."""
    parser = invocation.parser(
        description="Serve the dashboard over a run store: KPIs, trends across runs, filters by run date, segment,\n"
        "loyalty tier and offer type, one customer's offers, and the sales views. Open the printed address in a\n"
        "browser; Ctrl-C stops it.",
        **invocation.epilog("--store output/history.duckdb --port 8050", column_fields=False),
    )
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        required=True,
        help="the run store the batch wrote: a DuckDB file, or a postgresql://user@host/db URL",
    )
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only; 0.0.0.0 for every interface)",
    )
    return parser


def check_address(host: str, port: int) -> None:
    """A ConfigurationError naming --host and --port when nothing can listen there (the port is taken, the host is
    not this machine's): the web server would print several lines and exit 1 instead."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
            probe.bind((host, port))
    except OSError as error:
        raise ConfigurationError(f"--host {host} --port {port}: {error.strerror or error}") from None


def dashboard_command(args: argparse.Namespace) -> int:
    """Serves the dashboard until interrupted; a store that cannot be read is one line and exit 2."""

    def run() -> int:
        try:
            from cross_sell_upsell.dashboard.app import serve
        except ModuleNotFoundError as missing:
            raise ConfigurationError(
                f"the dashboard needs the 'dashboard' extra (pip install 'cross-sell-upsell[dashboard]'): {missing}"
            ) from None
        check_address(args.host, args.port)
        serve(args.store, args.host, args.port)
        return EXIT_OK

    return run_guarded(run)

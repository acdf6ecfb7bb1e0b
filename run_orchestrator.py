"""One customer's report. Run with --help for the options."""

import sys

import config
from cross_sell_upsell.cli.common import run_guarded
from cross_sell_upsell.cli.orchestrator import orchestrator_main

if __name__ == "__main__":
    # Guarded too, so a bad setting in the environment or .env is one line on stderr and exit 2.
    sys.exit(
        run_guarded(
            lambda: orchestrator_main(sys.argv[1:], config.orchestrator_config(), config.DATA_DIR, config.OUTPUT_DIR)
        )
    )

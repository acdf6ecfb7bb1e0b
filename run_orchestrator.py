"""One customer's report. Run with --help for the options."""

import sys

from cross_sell_upsell.cli.interrupts import run_interruptible


def main() -> int:
    """Loads the settings and the library and runs the command, with Ctrl-C and SIGTERM handled from the start."""
    import config
    from cross_sell_upsell.cli.common import run_guarded
    from cross_sell_upsell.cli.orchestrator import orchestrator_main

    # Guarded too, so a bad setting in the environment or .env is one line on stderr and exit 2.
    return run_guarded(
        lambda: orchestrator_main(sys.argv[1:], config.orchestrator_config(), config.DATA_DIR, config.OUTPUT_DIR)
    )


if __name__ == "__main__":
    sys.exit(run_interruptible(main))

"""The weekly batch: every customer's offers, the executive report and the marketing exports. Run with --help."""

import sys

from cross_sell_upsell.cli.interrupts import run_interruptible


def main() -> int:
    """Loads the settings and the library and runs the command, with Ctrl-C and SIGTERM handled from the start."""
    import config
    from cross_sell_upsell.cli.batch import batch_main
    from cross_sell_upsell.cli.common import run_guarded

    # Guarded too, so a bad setting in the environment or .env is one line on stderr and exit 2.
    return run_guarded(
        lambda: batch_main(sys.argv[1:], config.orchestrator_config(), config.DATA_DIR, config.OUTPUT_DIR)
    )


if __name__ == "__main__":
    sys.exit(run_interruptible(main))

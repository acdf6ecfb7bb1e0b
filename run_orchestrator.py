"""One customer's cross-sell and upsell report. Run with --help for the options."""

import sys

import config
from cross_sell_upsell.cli import orchestrator_main

if __name__ == "__main__":
    sys.exit(orchestrator_main(sys.argv[1:], config.orchestrator_config(), config.DATA_DIR, config.OUTPUT_DIR))

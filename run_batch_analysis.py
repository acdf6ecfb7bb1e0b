"""The weekly batch: every customer's offers, the executive report and the marketing exports. Run with --help."""

import sys

import config
from cross_sell_upsell.cli.batch import batch_main

if __name__ == "__main__":
    sys.exit(batch_main(sys.argv[1:], config.orchestrator_config(), config.DATA_DIR, config.OUTPUT_DIR))

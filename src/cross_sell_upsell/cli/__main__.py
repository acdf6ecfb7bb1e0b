"""`python -m cross_sell_upsell.cli`: the `cross-sell` command without installing its script."""

import sys

from cross_sell_upsell.cli.app import main

if __name__ == "__main__":
    sys.exit(main())

"""The command-line layer: thin commands over the library (`cross-sell`, run_batch_analysis.py, ...).

Every command imports this package first, so the allocator setting below is made before any of them loads polars,
whose allocator reads its settings once (cli/allocator.py)."""

from cross_sell_upsell.cli.allocator import keep_freed_pages

keep_freed_pages()

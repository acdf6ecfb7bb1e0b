"""Building a `Dataset` from a retailer's files: the transaction log, the catalog and an optional customers file,
each in CSV or Parquet (and the small ones in JSON too).

`tables` reads a file and types its columns, `catalog`, `customers` and `transactions` check one kind of file
each, and `assembly` puts the three together. These are the names the other layers use.
"""

from cross_sell_upsell.data.ingest.assembly import (
    learned_cycles_note,
    load_transactions_dataset,
    rows_rejected_summary,
    with_column_overrides,
    write_rejected_rows,
)
from cross_sell_upsell.data.ingest.catalog import load_catalog
from cross_sell_upsell.data.ingest.customers import load_customer_attributes
from cross_sell_upsell.data.ingest.guards import reasons_text, unmatched_essentials
from cross_sell_upsell.data.ingest.transactions import REJECT_REASONS, REJECTED_SCHEMA

__all__ = [
    "REJECTED_SCHEMA",
    "REJECT_REASONS",
    "learned_cycles_note",
    "load_catalog",
    "load_customer_attributes",
    "load_transactions_dataset",
    "reasons_text",
    "rows_rejected_summary",
    "unmatched_essentials",
    "with_column_overrides",
    "write_rejected_rows",
]

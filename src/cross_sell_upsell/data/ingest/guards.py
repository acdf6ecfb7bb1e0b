"""Guard rails for unattended runs: a log whose rows are mostly rejected, and a routine the catalog cannot
fill, are told apart from a quiet week before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from cross_sell_upsell.errors import DataValidationError


def reasons_text(by_reason: Mapping[str, int]) -> str:
    """The reasons that occurred with their counts, in the order given: `unparseable_date 600, duplicate 2`."""
    return ", ".join(f"{reason} {count:,}" for reason, count in by_reason.items() if count)


def check_rejected_share(path: Path, rows_read: int, by_reason: Mapping[str, int], max_share: float) -> None:
    """Raises DataValidationError when more than `max_share` of the `rows_read` rows of the log at `path` were
    rejected (`by_reason` counts them), naming the counts by reason."""
    rejected = sum(by_reason.values())
    if rows_read == 0 or rejected <= max_share * rows_read:
        return
    problem = (
        f"{rejected:,} of {rows_read:,} rows rejected ({rejected / rows_read:.0%}), more than the {max_share:.0%} "
        f"allowed (--max-rejected-share, ingest.max_rejected_share): {reasons_text(by_reason)}"
    )
    raise DataValidationError(str(path), "-", "-", problem)


def unmatched_essentials(products: pl.DataFrame, essentials: Sequence[str]) -> str | None:
    """The problem when an essential category of the routine is no category of the catalog (`products`), so
    that every customer would miss it: naming those essentials and the catalog's categories. None when every
    essential matches."""
    categories = sorted(set(products.get_column("category").to_list()))
    missing = [category for category in essentials if category not in categories]
    if not missing:
        return None
    names = ", ".join(f"'{category}'" for category in missing)
    return (
        f"essential categor{'ies' if len(missing) > 1 else 'y'} {names} match{'' if len(missing) > 1 else 'es'} "
        f"no catalog category; the catalog has {', '.join(categories)} "
        "(map yours with ingest.category_mapping, or set essential_categories)"
    )

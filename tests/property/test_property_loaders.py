"""The loaders on generated files, well-formed and hostile: a data set that loads holds only finite numbers and
accounts for every log row; a file that does not load is refused with one line naming it, and naming the row
when only rows are at fault, or the encoding when only the encoding is."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl
from command_contract import MAX_ERROR_LINE, check_rows_accounted
from hostile_data import DataFolder, data_folder_sources
from hostile_logs import LogFiles, log_file_sources
from hostile_values import AS_OF, budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset, rows_rejected_summary
from cross_sell_upsell.errors import CrossSellError, DataValidationError

ANY_SHARE = IngestSettings(max_rejected_share=1)
"""Every row is to be accounted for however many are bad: the rejected-share guard rail has its own tests."""


def loaded_or_refused(
    load: Callable[[], Dataset], files: Iterable[Path]
) -> tuple[Dataset | None, CrossSellError | None]:
    """The data set, or the domain error refusing it, checked to be one bounded line naming one of `files`.
    Any other exception propagates and fails the test."""
    try:
        return load(), None
    except CrossSellError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, f"multi-line error: {message[:500]!r}"
        assert len(message) <= MAX_ERROR_LINE, f"{len(message):,}-character error: {message[:300]!r}..."
        assert any(path.name in message for path in files), f"error names no input file: {message[:500]!r}"
        return None, error


def non_finite(frames: dict[str, pl.DataFrame | None]) -> list[str]:
    """The float columns holding NaN or an infinity, as frame.column."""
    return [
        f"{name}.{column.name}"
        for name, frame in frames.items()
        if frame is not None
        for column in frame.select(pl.selectors.float()).iter_columns()
        if not column.drop_nulls().is_finite().all()
    ]


def loaded_frames(dataset: Dataset) -> dict[str, pl.DataFrame | None]:
    """The frames made from the input's numbers: products, customers and the purchase features."""
    return {"products": dataset.products, "customers": dataset.customers, "features": dataset.customer_features}


@settings(max_examples=budget(300))
@given(folder=data_folder_sources())
def test_a_data_folder_loads_with_finite_numbers_or_is_refused_in_one_line(folder: DataFolder) -> None:
    with tempfile.TemporaryDirectory() as temp:
        path = folder.write(Path(temp) / "data")
        dataset, _ = loaded_or_refused(lambda: load_dataset(path), [path / "catalog.json", path / "customers.json"])
    if dataset is not None:
        assert non_finite(loaded_frames(dataset)) == [], f"NaN or infinity loaded: {non_finite(loaded_frames(dataset))}"
        assert dataset.products.get_column("price").min() > 0, "a price that is not positive loaded"


def check_refusal(files: LogFiles, paths: dict[str, Path], error: CrossSellError) -> None:
    """A file whose only defects are in its rows is refused naming the row; one whose only defect is its
    encoding, naming the encoding."""
    if not isinstance(error, DataValidationError):
        return
    role = next((role for role, path in paths.items() if error.file == str(path)), None)
    if role is None:
        return
    defects = files.defects(role)
    if not defects:
        assert error.record_id != "-", f"a defect in some rows refused the whole {role} file: {error}"
    if defects == {"encoding"}:
        assert "encoding" in str(error).lower(), (
            f"a {role} file that is not UTF-8, refused without a word on its encoding: {error}"
        )


@settings(max_examples=budget(300))
@given(files=log_file_sources(), strict=st.booleans())
def test_a_log_loads_with_every_row_used_or_rejected_or_is_refused_in_one_line(files: LogFiles, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as temp:
        paths = files.write(Path(temp))
        dataset, error = loaded_or_refused(
            lambda: load_transactions_dataset(
                paths["log"], paths["catalog"], paths.get("customers"), as_of=AS_OF, settings=ANY_SHARE, strict=strict
            ),
            paths.values(),
        )
    if error is not None:
        check_refusal(files, paths, error)
        return
    assert non_finite(loaded_frames(dataset)) == [], f"NaN or infinity loaded: {non_finite(loaded_frames(dataset))}"
    rows = rows_rejected_summary(dataset)
    # MERGE CHECK: needs rows_read and rows_used in rows_rejected_summary
    check_rows_accounted(rows, files.log_records, used=dataset.ownership.height)
    if strict:
        assert rows["total"] == 0, f"strict mode kept rejected rows: {rows}"

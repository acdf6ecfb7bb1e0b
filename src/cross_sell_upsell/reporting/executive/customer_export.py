"""The per-customer CSV for marketing tools: one row per analysed customer with their top offers as columns,
written chunk by chunk, in the headers a CRM's import expects and split into parts under its size limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.offers.results import CUSTOMER_PREDICTION_COLUMNS
from cross_sell_upsell.reporting.executive.cells import safe_text_cells

DEFAULT_EXPORT_TOP = 3
"""Offers per customer the file carries as columns when `--export-top` is not given."""


OFFER_FIELDS: dict[str, str] = {
    "product_id": "offer_id",
    "name": "name",
    "price": "price",
    "type": "type",
    "campaign": "campaign_name",
}
"""Each offer's columns in the file (`offer_<k>_<field>`), and the opportunities column each comes from; the
campaign is empty for an offer no campaign covers."""


@dataclass(frozen=True)
class CrmFormat:
    """How one marketing tool's CSV import wants its file."""

    tool: str
    """The tool's name, for messages."""
    id_header: str
    """Header of the customer id column."""
    email_header: str
    """Header of the email column."""
    email_required: bool
    """Every row needs an email (the tool keys profiles by it): rows without one, and repeats of an email, are
    left out, and the email column comes first."""
    max_bytes: int
    """Largest file the import takes, in bytes; bigger exports are split into numbered parts."""


CRM_FORMATS: dict[str, CrmFormat] = {
    # Klaviyo list upload: the first column `Email` (or `Phone Number`), every row with one, no duplicates,
    # 50 MB at most (help.klaviyo.com, "Create and add contacts to a new list").
    "klaviyo": CrmFormat(
        "Klaviyo", id_header="customer_id", email_header="Email", email_required=True, max_bytes=50_000_000
    ),
    # Braze attribute import: `external_id` identifies the user, `email` is a default attribute, 500 MB at most
    # (braze.com/docs, "CSV import").
    "braze": CrmFormat(
        "Braze", id_header="external_id", email_header="email", email_required=False, max_bytes=500_000_000
    ),
}
"""The `--crm` choices."""


_NO_OFFERS = pl.DataFrame(
    schema={"customer_id": pl.String, "rank": pl.UInt32, "offer_id": pl.String, "name": pl.String}
    | {"price": pl.Float64, "type": pl.String, "campaign_name": pl.String}
)
_NO_CUSTOMERS = pl.DataFrame(
    schema={"customer_id": pl.String, "email": pl.String, "potential_revenue": pl.Float64}
    | {"expected_revenue": pl.Float64}
)


def customer_rows(opportunities: pl.DataFrame, summaries: pl.DataFrame, top: int, *, email: bool) -> pl.DataFrame:
    """One row per customer of `summaries`, in their order: customer_id, email (when `email`), the `top`
    best-ranked offers' OFFER_FIELDS as `offer_<k>_<field>` (empty past a customer's last offer),
    potential_revenue, expected_revenue (empty without an acceptance model), and the CUSTOMER_PREDICTION_COLUMNS
    the summaries carry. Money has exactly two decimals."""
    offers = opportunities.filter(pl.col("rank") <= top).select(
        "customer_id",
        "rank",
        *(pl.col(source).alias(field) for field, source in OFFER_FIELDS.items()),
    )
    wide = summaries.select("customer_id", *(["email"] if email else []))
    for k in range(1, top + 1):
        kth = offers.filter(pl.col("rank") == k).drop("rank")
        wide = wide.join(
            kth.rename({field: f"offer_{k}_{field}" for field in OFFER_FIELDS}),
            on="customer_id",
            how="left",
            maintain_order="left",
        )
    models = [name for name in CUSTOMER_PREDICTION_COLUMNS if name in summaries.columns]
    money = ["potential_revenue", "expected_revenue", *(f"offer_{k}_price" for k in range(1, top + 1))]
    return wide.with_columns(summaries.select("potential_revenue", "expected_revenue", *models)).with_columns(
        pl.col(money).round(2).cast(pl.Decimal(14, 2))
    )


def _one_line_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text without line breaks (a marketing import reads one line per profile), safe from formula injection."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return safe_text_cells(frame.with_columns(pl.col(text).str.replace_all(r"[\r\n]+", " ")))


def in_crm_headers(rows: pl.DataFrame, crm: CrmFormat | None) -> pl.DataFrame:
    """`rows` with the id and email headers `crm` expects, the email first when it keys profiles."""
    if crm is None:
        return rows
    renamed = rows.rename({"customer_id": crm.id_header, "email": crm.email_header}, strict=False)
    first = crm.email_header if crm.email_required else crm.id_header
    return renamed.select(first, pl.exclude(first))


class CustomerExport:
    """The per-customer file, appended chunk by chunk to staged files: `<stem>.customers.csv`, or, when a CRM's
    size limit is passed, `<stem>.customers.part1.csv`, `.part2.csv`, ... each with the header and whole rows.
    Published with the run's other files (see StagedOutputs), so a failed run leaves no part behind."""

    def __init__(
        self,
        staged: StagedOutputs,
        target: Path,
        top: int,
        *,
        email: bool,
        crm: CrmFormat | None = None,
        max_bytes: int | None = None,
    ) -> None:
        if crm is not None and crm.email_required and not email:
            raise ConfigurationError(f"--crm {crm.tool.lower()}: {crm.tool} imports need an email; the data has none")
        self._staged, self._target, self._top, self._email, self._crm = staged, target, top, email, crm
        self._max_bytes = max_bytes or (crm.max_bytes if crm else None)
        self._parts: list[Path] = []
        self._header = b""
        self._size = 0
        self._seen_emails = pl.Series("email", [], pl.String)
        self.left_out = {"no email": 0, "repeated email": 0}
        """Customers a CRM that keys profiles by email cannot take, by reason."""

    def append(self, opportunities: pl.DataFrame, summaries: pl.DataFrame) -> None:
        """Writes a chunk's customers (their summaries, and their offers for the offer columns)."""
        rows = _one_line_cells(customer_rows(opportunities, summaries, self._top, email=self._email))
        rows = in_crm_headers(self._profiles(rows), self._crm)
        if not self._parts:
            self._header = rows.head(0).write_csv().encode()
            self._new_part()
        lines = rows.write_csv(include_header=False).encode()
        while lines:
            lines = lines[self._write_fitting(lines) :]

    def _profiles(self, rows: pl.DataFrame) -> pl.DataFrame:
        """For a CRM keyed by email: the rows with an email not seen before (compared in lower case)."""
        if self._crm is None or not self._crm.email_required:
            return rows
        key = pl.col("email").str.strip_chars().str.to_lowercase()
        with_email = rows.filter(key.is_not_null() & (key != ""))
        fresh = with_email.filter(key.is_first_distinct() & ~key.is_in(self._seen_emails.implode()))
        self._seen_emails = pl.concat([self._seen_emails, fresh.select(key).to_series()])
        self.left_out["no email"] += rows.height - with_email.height
        self.left_out["repeated email"] += with_email.height - fresh.height
        return fresh

    def _write_fitting(self, lines: bytes) -> int:
        """Appends as many whole lines of `lines` as the current part holds (starting a new part when it holds
        none) and returns how many bytes it took."""
        take = len(lines)
        if self._max_bytes is not None and self._size + take > self._max_bytes:
            ends = np.flatnonzero(np.frombuffer(lines, dtype=np.uint8) == ord("\n")) + 1
            fitting = ends[self._size + ends <= self._max_bytes]
            if fitting.size == 0:
                if self._size > len(self._header):
                    self._new_part()
                    return 0
                raise ConfigurationError(
                    f"one customer's row ({int(ends[0]):,} bytes with the header {len(self._header):,}) is over "
                    f"the {self._max_bytes:,}-byte file limit"
                )
            take = int(fitting[-1])
        with self._staged.appending(self._parts[-1]) as stream:
            stream.write(lines[:take])
        self._size += take
        return take

    def _new_part(self) -> None:
        part = self._target if not self._parts else self._part_path(len(self._parts) + 1)
        self._staged.add(part, self._header)
        self._parts.append(part)
        self._size = len(self._header)

    def _part_path(self, number: int) -> Path:
        return self._target.with_suffix(f".part{number}.csv")

    def close(self) -> tuple[Path, ...]:
        """Finishes the file(s) and returns their paths: with no customer analysed, a file with only the header;
        a split file's first part is renamed `.part1.csv`."""
        if not self._parts:
            self.append(_NO_OFFERS, _NO_CUSTOMERS)
        if len(self._parts) > 1:
            self._staged.rename(self._parts[0], self._part_path(1))
            self._parts[0] = self._part_path(1)
        return tuple(self._parts)

"""Building a `Dataset` from a retailer's transaction log, catalog and optional customer attributes.

A log can hold tens of millions of rows, so it is read with a lazy polars scan and checked with expressions,
never a Python loop per row. Bad rows are counted by reason and kept for a rejected-rows file: nothing is
dropped silently. Customer attributes the retailer does not give are derived from purchases made up to the
as-of date by the pure functions below; docs/ingest.md gives every formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from .configuration import (
    CATALOG_FIELDS,
    CUSTOMER_FIELDS,
    LOYALTY_TIERS,
    PRICE_SENSITIVITIES,
    TRANSACTION_FIELDS,
    IngestSettings,
)
from .dataset import (
    CUSTOMER_SCHEMA,
    DEFAULT_TIER_PRICE_RANGES,
    OWNERSHIP_SCHEMA,
    Dataset,
    ProductRecord,
    _check_catalog,
    _read_records,
    _validate,
    products_frame,
)
from .errors import ConfigurationError, DataValidationError
from .report import write_atomic

REJECT_REASONS: dict[str, str] = {
    "missing_customer_id": "the customer id is empty",
    "missing_product_id": "the product id is empty",
    "unparseable_date": "the date is empty or not a date",
    "invalid_amount": "the amount is empty or not a number",
    "non_positive_amount": "the amount is zero or negative",
    "invalid_quantity": "the quantity is not a positive whole number",
    "unknown_product": "the product is not in the catalog",
    "duplicate": "the row repeats an earlier row exactly",
}
"""Why a transaction row is rejected, in the order the checks apply: a row gets the first reason that fits."""
_CODES = {reason: code for code, reason in enumerate(REJECT_REASONS, start=1)}
"""Each reason's code in the checked frame; 0 is a valid row."""
_REASON_FIELDS = {
    "missing_customer_id": "customer_id",
    "missing_product_id": "product_id",
    "unparseable_date": "date",
    "invalid_amount": "amount",
    "non_positive_amount": "amount",
    "invalid_quantity": "quantity",
    "unknown_product": "product_id",
}
REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "row": pl.UInt32(),
    "reason": pl.String(),
    **{field: pl.String() for field in TRANSACTION_FIELDS},
}
"""A rejected row: its file, its 1-based data row number (the header line is not counted), the reason and
the row's values as they were in the file."""
PURCHASE_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "product_id": pl.String(),
    "purchase_date": pl.Date(),
    "quantity": pl.Int32(),
    "amount": pl.Float64(),
}
"""A valid transaction row; `amount` is what was paid for the whole row (all units)."""
FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "first_purchase": pl.Date(),
    "last_purchase": pl.Date(),
    "recency_days": pl.Int32(),
    "frequency": pl.UInt32(),
    "monetary": pl.Float64(),
    "lifetime_spend": pl.Float64(),
    "purchase_days": pl.UInt32(),
    "mean_gap_days": pl.Float64(),
    "price_index": pl.Float64(),
}
"""What a customer's purchases up to the as-of date say (formulas in `customer_features`). Owned products,
their last purchase and categories come from `Dataset.ownership` through the cohort, as for JSON profiles."""
LEARNED_CYCLE_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "category": pl.String(),
    "cycle_days": pl.Int32(),
    "basis": pl.String(),
    "repeats": pl.UInt32(),
}
"""One row per catalog product without a replenishment cycle: the learned cycle (null when it could not be
learned), its basis (product, category or none) and how many repeat intervals it rests on."""
_INTERVAL_SCHEMA = {"product": pl.UInt32(), "interval": pl.Int64()}
NO_PURCHASE_CHURN_RISK = 0.5
"""Churn risk of a customer with no purchase up to the as-of date: no evidence either way."""

_TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
_CATALOG_LISTS = ("cross_sell_products", "target_concerns", "active_ingredients")


# ---------------------------------------------------------------------------------------------- reading


def _kind(path: Path, allowed: Sequence[str]) -> str:
    kind = _TABLE_SUFFIXES.get(path.suffix.lower())
    if kind not in allowed:
        names = ", ".join(f".{name}" for name in allowed)
        raise DataValidationError(str(path), "-", "-", f"unsupported file type '{path.suffix}' (use {names})")
    if not path.is_file():
        raise DataValidationError(str(path), "-", "-", "file not found")
    return kind


def _unreadable(path: Path, exc: Exception) -> DataValidationError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataValidationError(str(path), "-", "-", f"cannot be read ({first_line})")


def _scan(path: Path, kind: str) -> pl.LazyFrame:
    """A lazy scan; CSV columns all come in as text so one odd value never breaks type inference."""
    try:
        return pl.scan_parquet(path) if kind == "parquet" else pl.scan_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, exc) from None


def _read_frame(path: Path, kind: str) -> pl.DataFrame:
    try:
        if kind == "json":
            return pl.DataFrame(_read_records(path), infer_schema_length=None)
        return _scan(path, kind).collect()
    except (pl.exceptions.PolarsError, OSError, TypeError, ValueError) as exc:
        raise _unreadable(path, exc) from None


def _sources(
    path: Path, columns: Iterable[str], fields: Sequence[str], mapping: dict[str, str], required: Sequence[str]
) -> dict[str, str]:
    """field -> source column for the fields present in the file; a required or explicitly mapped field that
    is missing is a structural error."""
    present = set(columns)
    sources = {}
    for field in fields:
        source = mapping.get(field, field)
        if source in present:
            sources[field] = source
        elif field in required or field in mapping:
            mapped = f" (mapped from '{source}')" if field in mapping else ""
            raise DataValidationError(str(path), "-", source, f"required column{mapped} is missing")
    return sources


def _text(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars()


def _number(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A Float64 column; text that is not a number becomes null."""
    return (_text(expr) if dtype == pl.String else expr).cast(pl.Float64, strict=False)


def _date(expr: pl.Expr, dtype: pl.DataType, date_format: str | None) -> pl.Expr:
    """A Date column from a date, a timestamp (its date part, no time-zone shift) or text; bad text becomes null."""
    if dtype == pl.Date:
        return expr
    if isinstance(dtype, pl.Datetime):
        return expr.dt.date()
    text = _text(expr)
    if date_format:
        return text.str.to_date(date_format, strict=False)
    rest = text.str.slice(10)
    return pl.when((rest == "") | rest.str.starts_with("T") | rest.str.starts_with(" ")).then(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    )


def _split_list(expr: pl.Expr, dtype: pl.DataType, separator: str) -> pl.Expr:
    """A list of strings from a list column or from separated text; empty parts are dropped."""
    if isinstance(dtype, pl.List):
        return expr.cast(pl.List(pl.String))
    parts = expr.cast(pl.String).str.split(separator).list.eval(pl.element().str.strip_chars())
    return parts.list.eval(pl.element().filter(pl.element() != "")).fill_null(pl.lit([], dtype=pl.List(pl.String)))


# ---------------------------------------------------------------------------------------------- catalog


def load_catalog(
    path: str | Path,
    settings: IngestSettings,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalog (PRODUCT_SCHEMA) and its cross-sell links from a CSV, JSON or Parquet file, with retailer
    categories mapped to routine categories. Catalogs are small, so each product goes through the same
    record validation as `load_dataset`; the first violation raises DataValidationError."""
    path = Path(path)
    kind = _kind(path, ("csv", "json", "parquet"))
    if kind == "json":
        rows = [_renamed(record, settings.catalog_columns) for record in _read_records(path)]
    else:
        frame = _read_frame(path, kind)
        sources = _sources(path, frame.columns, CATALOG_FIELDS, settings.catalog_columns, CATALOG_FIELDS[:4])
        rows = frame.select(pl.col(source).alias(field) for field, source in sources.items()).to_dicts()
    records = [_catalog_record(row, settings) for row in rows]
    products = _validate(path, records, ProductRecord, "product_id")
    _check_catalog(path, products, tier_price_ranges)
    return products_frame(products)


def _renamed(record: Any, mapping: dict[str, str]) -> Any:
    """A JSON record with its mapped source keys renamed to field names (non-objects are left to validation)."""
    if not isinstance(record, dict):
        return record
    fields = {source: field for field, source in mapping.items()}
    return {fields.get(key, key): value for key, value in record.items()}


def _catalog_record(row: Any, settings: IngestSettings) -> Any:
    """A catalog row ready for ProductRecord: categories mapped, margin defaulted, list text split and an
    `upgrade_to` id turned into the next tier's upgrade path."""
    if not isinstance(row, dict):
        return row
    record = {key: value for key, value in row.items() if value is not None}
    for field in _CATALOG_LISTS:
        if isinstance(record.get(field), str):
            parts = record[field].split(settings.list_separator)
            record[field] = [part.strip() for part in parts if part.strip()]
    if "category" in record:
        category = str(record["category"]).strip()
        record["category"] = settings.category_mapping.get(category, category)
    record.setdefault("margin", settings.default_margin)
    upgrade_to = record.pop("upgrade_to", None)
    if upgrade_to and "upgrade_path" not in record:
        try:
            tier = int(record.get("tier") or 1)
        except (TypeError, ValueError):
            tier = 1  # the record validation reports the bad tier itself
        record["upgrade_path"] = {f"tier_{tier + 1}": str(upgrade_to).strip()}
    return record


# -------------------------------------------------------------------------------------------- customers


def load_customer_attributes(path: str | Path, settings: IngestSettings) -> pl.DataFrame:
    """Given customer attributes from a CSV, JSON or Parquet file: `customer_id` and whichever other
    CUSTOMER_SCHEMA columns the file has, typed. List columns in CSV are separated by `list_separator`.
    Raises DataValidationError naming the record and field of the first bad value."""
    path = Path(path)
    frame = _read_frame(path, _kind(path, ("csv", "json", "parquet")))
    sources = _sources(path, frame.columns, CUSTOMER_FIELDS, settings.customer_columns, ("customer_id",))
    raw = frame.select(pl.col(source).alias(field) for field, source in sources.items()).with_row_index("row", 1)
    typed: dict[str, pl.Expr] = {}
    for field in sources:
        dtype = raw.schema[field]
        target = CUSTOMER_SCHEMA[field]
        if field == "skin_concerns":
            typed[field] = _split_list(pl.col(field), dtype, settings.list_separator)
        elif target == pl.String:
            typed[field] = _text(pl.col(field))
            if field in ("loyalty_tier", "price_sensitivity"):
                typed[field] = typed[field].str.to_lowercase()
        else:
            typed[field] = _number(pl.col(field), dtype)
    checked = raw.with_columns(**{f"_{field}": expr for field, expr in typed.items()})
    _raise_first_violation(path, checked, _customer_checks(sources))
    return checked.select(pl.col(f"_{field}").cast(CUSTOMER_SCHEMA[field]).alias(field) for field in sources)


def _customer_checks(fields: Iterable[str]) -> list[tuple[str, pl.Expr, str]]:
    identifier = pl.col("_customer_id")
    checks = [
        ("customer_id", identifier.is_null() | (identifier == ""), "the customer id is empty"),
        ("customer_id", identifier.is_duplicated() & ~identifier.is_first_distinct(), "duplicate id"),
    ]
    numeric = {
        "lifetime_value": (pl.col("_lifetime_value") < 0, "must not be negative"),
        "churn_risk": (~pl.col("_churn_risk").is_between(0, 1), "must be a fraction from 0 to 1"),
        "tier_preference": (
            (pl.col("_tier_preference") < 1) | (pl.col("_tier_preference") != pl.col("_tier_preference").floor()),
            "must be a whole number from 1",
        ),
    }
    choices = {"loyalty_tier": LOYALTY_TIERS, "price_sensitivity": PRICE_SENSITIVITIES}
    for field in fields:
        value = pl.col(f"_{field}")
        if field in numeric:
            out_of_range, problem = numeric[field]
            checks.append((field, pl.col(field).is_not_null() & value.is_null(), "is not a number"))
            checks.append((field, out_of_range.fill_null(False), problem))
        elif field in choices:
            allowed = choices[field]
            checks.append((field, value.is_not_null() & ~value.is_in(allowed), f"must be one of {', '.join(allowed)}"))
    return checks


def _raise_first_violation(path: Path, frame: pl.DataFrame, checks: list[tuple[str, pl.Expr, str]]) -> None:
    """Raises for the earliest row failing a check, naming the customer (or the row number) and the field."""
    flags = frame.select(
        "row", "_customer_id", *(check.alias(f"_check{index}") for index, (_, check, _) in enumerate(checks))
    )
    failing = flags.filter(pl.any_horizontal(pl.exclude("row", "_customer_id")))
    if failing.is_empty():
        return
    first = failing.row(0, named=True)
    field, _, problem = next(check for index, check in enumerate(checks) if first[f"_check{index}"])
    record = first["_customer_id"] or f"row {first['row']}"
    raise DataValidationError(str(path), record, field, problem)


# ---------------------------------------------------------------------------------------- transactions


def read_transactions(
    path: str | Path, product_ids: pl.Series, settings: IngestSettings, *, strict: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The valid purchases (PURCHASE_SCHEMA) and the rejected rows (REJECTED_SCHEMA) of a CSV or Parquet log.

    One lazy scan, typed and checked with expressions. A row gets the first reason of REJECT_REASONS that
    fits it. In strict mode the first bad row raises DataValidationError instead."""
    path = Path(path)
    kind = _kind(path, ("csv", "parquet"))
    scan = _scan(path, kind)
    # Hand-edited CSV picks up stray spaces; typed Parquet ids are taken as stored, which saves a pass.
    identifier = _text if kind == "csv" else lambda expr: expr.cast(pl.String)
    try:
        schema = scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, exc) from None
    required = [field for field in TRANSACTION_FIELDS if field != "quantity"]
    sources = _sources(path, schema.names(), TRANSACTION_FIELDS, settings.transaction_columns, required)
    dtypes = {field: schema[source] for field, source in sources.items()}
    amount = _number(pl.col("amount"), dtypes["amount"])
    quantity = _number(pl.col("quantity"), dtypes["quantity"]) if "quantity" in sources else pl.lit(1.0)
    checks = {
        "missing_customer_id": pl.col("customer_id").is_null() | (pl.col("customer_id") == ""),
        "missing_product_id": pl.col("product_id").is_null() | (pl.col("product_id") == ""),
        "unparseable_date": pl.col("purchase_date").is_null(),
        "invalid_amount": amount.is_null() | amount.is_nan() | amount.is_infinite(),
        "non_positive_amount": amount <= 0,
        "invalid_quantity": ~(quantity.is_between(1, 2**31 - 1) & (quantity == quantity.floor())).fill_null(False),
        "unknown_product": ~pl.col("product_id").is_in(product_ids.implode()),
    }
    code = pl.lit(0, dtype=pl.UInt8)
    for reason, check in reversed(checks.items()):
        code = pl.when(check).then(pl.lit(_CODES[reason], dtype=pl.UInt8)).otherwise(code)
    query = (
        scan.select(pl.col(source).alias(field) for field, source in sources.items())
        .with_columns(row_hash=pl.struct(list(sources)).hash())
        .with_columns(
            identifier(pl.col("customer_id")),
            identifier(pl.col("product_id")),
            purchase_date=_date(pl.col("date"), dtypes["date"], settings.date_format),
        )
        .with_columns(reason_code=code)
        .select(
            "reason_code",
            "row_hash",
            "customer_id",
            "product_id",
            "purchase_date",
            quantity=pl.when(pl.col("reason_code") == 0).then(quantity).cast(pl.Int32),
            amount=amount,
        )
    )
    try:
        checked = query.collect()
        codes = _with_duplicates(checked, scan, sources)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, exc) from None
    purchases = checked.select(list(PURCHASE_SCHEMA))  # lets the row hashes go before the sort below
    del checked
    bad = codes.to_frame("reason_code").with_row_index("row", offset=1).filter(pl.col("reason_code") > 0)
    if bad.is_empty():
        return _grouped_by_customer(purchases), pl.DataFrame(schema=REJECTED_SCHEMA)
    rejected = _rejected_rows(path, scan, sources, bad)
    if strict:
        first = rejected.row(0, named=True)
        source = sources.get(_REASON_FIELDS.get(first["reason"], ""), "-")
        record = f"row {first['row']} (customer {first['customer_id']}, product {first['product_id']})"
        raise DataValidationError(str(path), record, source, REJECT_REASONS[first["reason"]])
    return _grouped_by_customer(purchases.filter(codes == 0)), rejected


def _grouped_by_customer(purchases: pl.DataFrame) -> pl.DataFrame:
    """The purchases with each customer's rows together (ordered by a hash of the customer id, file order
    within a customer). Sorting a 64-bit hash is cheap, and every later per-customer grouping (features
    here, holdings in the cohort) then reads memory in order and runs several times faster."""
    return purchases.lazy().sort(pl.col("customer_id").hash(), maintain_order=True).collect()


def _with_duplicates(checked: pl.DataFrame, scan: pl.LazyFrame, sources: dict[str, str]) -> pl.Series:
    """The reason codes with `duplicate` set on otherwise valid rows that repeat an earlier row exactly.

    Hashing every row and sorting the hashes finds the few candidates cheaply; only rows sharing a hash are
    compared value by value (read again from the file), so a hash collision never rejects a row."""
    hashes = checked.get_column("row_hash").sort()
    shared = hashes.filter(hashes == hashes.shift(1)).unique()
    codes = checked.get_column("reason_code")
    if shared.is_empty():
        return codes
    candidates = checked.select(
        row=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32), shared=pl.col("row_hash").is_in(shared.implode())
    ).filter("shared")
    repeats = (
        scan.with_row_index("row", offset=1)
        .join(candidates.lazy().select("row"), on="row", how="inner")
        .sort("row")
        .filter(~pl.struct(*sources.values()).is_first_distinct())
        .select("row")
        .collect()
    )
    is_repeat = pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).is_in(repeats.get_column("row").implode())
    return checked.select(
        pl.when(is_repeat & (pl.col("reason_code") == 0))
        .then(pl.lit(_CODES["duplicate"], pl.UInt8))
        .otherwise("reason_code")
    ).to_series()


def _rejected_rows(path: Path, scan: pl.LazyFrame, sources: dict[str, str], bad: pl.DataFrame) -> pl.DataFrame:
    """The bad rows' values as they were in the file, read again by row number (there are few of them)."""
    return (
        scan.with_row_index("row", offset=1)
        .join(bad.lazy(), on="row", how="inner")
        .select(
            source_file=pl.lit(str(path)),
            row="row",
            reason=pl.col("reason_code").replace_strict(
                {code: reason for reason, code in _CODES.items()}, return_dtype=pl.String
            ),
            **{
                field: pl.col(sources[field]).cast(pl.String) if field in sources else pl.lit(None, dtype=pl.String)
                for field in TRANSACTION_FIELDS
            },
        )
        .sort("row")
        .collect()
    )


# ---------------------------------------------------------------------------------------------- derivations


def customer_features(purchases: pl.DataFrame, products: pl.DataFrame, as_of: date, window_days: int) -> pl.DataFrame:
    """FEATURE_SCHEMA: one row per customer with a purchase on or before `as_of`, from those purchases only,
    sorted by customer id.

    recency_days = as_of - last purchase; frequency and monetary = rows and amount in the `window_days` days
    ending on `as_of`; lifetime_spend = all amounts; mean_gap_days = (last - first purchase) / (purchase days
    - 1), null for a single purchase day; price_index = amounts / sum of (quantity x the median catalog price
    of the product's category)."""
    window_start = as_of - timedelta(days=window_days - 1)
    reference = products.select("product_id", pl.col("price").median().over("category"))
    reference_price = dict(zip(reference.get_column("product_id"), reference.get_column("price"), strict=True))
    in_window = pl.col("purchase_date") >= window_start
    latest = purchases.get_column("purchase_date").max()
    if latest is not None and latest > as_of:  # a filter copies every column, so only when it drops rows
        purchases = purchases.filter(pl.col("purchase_date") <= as_of)
    rows = purchases.with_columns(
        window_row=in_window.cast(pl.UInt32),
        window_amount=pl.when(in_window).then(pl.col("amount")).otherwise(0.0),
        reference_amount=pl.col("quantity")
        * pl.col("product_id").replace_strict(reference_price, return_dtype=pl.Float64),
    )
    totals = aggregate_by_customer(
        rows,
        first_purchase=pl.col("purchase_date").min(),
        last_purchase=pl.col("purchase_date").max(),
        frequency=pl.col("window_row").sum(),
        monetary=pl.col("window_amount").sum(),
        lifetime_spend=pl.col("amount").sum(),
        purchase_days=pl.col("purchase_date").n_unique().cast(pl.UInt32),
        reference_spend=pl.col("reference_amount").sum(),
    )
    return (
        totals.with_columns(
            recency_days=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().cast(pl.Int32),
            mean_gap_days=pl.when(pl.col("purchase_days") > 1).then(
                (pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / (pl.col("purchase_days") - 1)
            ),
            price_index=pl.col("lifetime_spend") / pl.col("reference_spend"),
        )
        .select(list(FEATURE_SCHEMA))
        .sort("customer_id")
    )


def aggregate_by_customer(rows: pl.DataFrame, key: pl.Expr | None = None, **aggregations: pl.Expr) -> pl.DataFrame:
    """`rows.group_by("customer_id").agg(**aggregations)`, several times faster on millions of rows.

    Polars groups a sorted integer column by slicing it, without a hash table, so the rows are grouped by a
    64-bit hash of the customer id (`key`). Should two ids ever share a hash, the exact string grouping is
    used instead."""
    grouped = (
        _keyed_by_customer(rows, key)
        .group_by("customer_key")
        .agg(pl.col("customer_id").first(), ids=pl.col("customer_id").n_unique(), **aggregations)
    )
    if (grouped.get_column("ids") == 1).all():
        return grouped.drop("customer_key", "ids")
    return rows.group_by("customer_id").agg(**aggregations)


def _keyed_by_customer(rows: pl.DataFrame, key: pl.Expr | None = None) -> pl.DataFrame:
    """The rows with `customer_key`, a 64-bit hash of the customer id, sorted by it (unless they already are,
    as `read_transactions` leaves them) and flagged sorted: each customer's rows are then together."""
    keyed = rows.with_columns(customer_key=pl.col("customer_id").hash() if key is None else key)
    if not keyed.get_column("customer_key").is_sorted():
        keyed = keyed.sort("customer_key", maintain_order=True)
    return keyed.with_columns(pl.col("customer_key").set_sorted())


def typical_gap_days(features: pl.DataFrame, default: float) -> float:
    """The median of customers' mean gaps between purchase days; `default` when nobody bought on two days."""
    median = features.get_column("mean_gap_days").median()
    return default if median is None else float(median)


def churn_risk(fallback_gap_days: float) -> pl.Expr:
    """1 - exp(-recency / (2 x the customer's mean gap)), the gap falling back to `fallback_gap_days` for a
    single purchase day; NO_PURCHASE_CHURN_RISK without a purchase. Rises with recency, 0 on the day of a
    purchase, about 0.39 one typical gap later."""
    gap = pl.col("mean_gap_days").fill_null(fallback_gap_days)
    risk = 1.0 - (-pl.col("recency_days").cast(pl.Float64) / (2.0 * gap)).exp()
    return pl.when(pl.col("recency_days").is_null()).then(NO_PURCHASE_CHURN_RISK).otherwise(risk.clip(0.0, 1.0))


def price_sensitivity(settings: IngestSettings) -> pl.Expr:
    """high below `price_index_high_sensitivity_below`, low from `price_index_low_sensitivity_from`, else
    (and without purchases) medium."""
    index = pl.col("price_index")
    return (
        pl.when(index < settings.price_index_high_sensitivity_below)
        .then(pl.lit("high"))
        .when(index >= settings.price_index_low_sensitivity_from)
        .then(pl.lit("low"))
        .otherwise(pl.lit("medium"))
    )


def loyalty_tier(spend: pl.Expr, thresholds: dict[str, float]) -> pl.Expr:
    """The highest tier whose spend threshold `spend` reaches; bronze below silver's."""
    tier = pl.lit(LOYALTY_TIERS[0])
    for name in LOYALTY_TIERS[1:]:
        tier = pl.when(spend >= thresholds[name]).then(pl.lit(name)).otherwise(tier)
    return tier


def derive_customers(features: pl.DataFrame, given: pl.DataFrame | None, settings: IngestSettings) -> pl.DataFrame:
    """CUSTOMER_SCHEMA rows for every customer in `features` or `given`, sorted by id. A value the retailer
    gives (non-null in `given`) wins; the rest is derived: lifetime_value = lifetime spend, churn_risk,
    price_sensitivity, and loyalty_tier from the resulting lifetime value; name and notes default to "",
    concerns to none, tier preference to none (the cohort then uses the highest tier owned)."""
    gap = typical_gap_days(features, settings.default_purchase_gap_days)
    given_columns = (
        {} if given is None else {field: f"given_{field}" for field in given.columns if field != "customer_id"}
    )
    customers = features
    if given is not None:  # the join loses the features' order by id, restored at the end
        customers = features.join(given.rename(given_columns), on="customer_id", how="full", coalesce=True).sort(
            "customer_id"
        )
    derived = customers.with_columns(
        derived_lifetime_value=pl.col("lifetime_spend").fill_null(0.0),
        derived_churn_risk=churn_risk(gap),
        derived_price_sensitivity=price_sensitivity(settings),
    )
    defaults: dict[str, pl.Expr] = {
        "name": pl.lit(""),
        "email": pl.lit(None, dtype=pl.String),
        "lifetime_value": pl.col("derived_lifetime_value"),
        "churn_risk": pl.col("derived_churn_risk"),
        "price_sensitivity": pl.col("derived_price_sensitivity"),
        "tier_preference": pl.lit(None, dtype=pl.Int8),
        "skin_concerns": pl.lit([], dtype=pl.List(pl.String)),
        "notes": pl.lit(""),
    }
    merged = derived.with_columns(
        (pl.coalesce(given_columns[field], default) if field in given_columns else default)
        .cast(CUSTOMER_SCHEMA[field])
        .alias(field)
        for field, default in defaults.items()
    )
    spend_tier = loyalty_tier(pl.col("lifetime_value"), settings.loyalty_thresholds)
    given_tier = pl.col(given_columns["loyalty_tier"]) if "loyalty_tier" in given_columns else pl.lit(None, pl.String)
    return merged.with_columns(loyalty_tier=pl.coalesce(given_tier, spend_tier)).select(
        pl.col(field).cast(dtype) for field, dtype in CUSTOMER_SCHEMA.items()
    )


def learn_cycles(purchases: pl.DataFrame, products: pl.DataFrame, as_of: date, min_repeats: int) -> pl.DataFrame:
    """LEARNED_CYCLE_SCHEMA for the products without a catalog cycle.

    A repeat interval is the days between two consecutive purchase days of the same product by the same
    customer, up to `as_of`. A product with at least `min_repeats` intervals gets their median (rounded to
    the nearest day, halves up); else its category's median over every product of the category, when the
    category has at least `min_repeats` intervals; else no cycle (basis "none")."""
    unknown = products.filter(pl.col("replenishment_cycle_days").is_null()).select("product_id", "category")
    if unknown.is_empty():
        return pl.DataFrame(schema=LEARNED_CYCLE_SCHEMA)
    related = products.filter(pl.col("category").is_in(unknown.get_column("category").implode()))
    product_ids = related.get_column("product_id")
    rows = purchases.filter((pl.col("purchase_date") <= as_of) & pl.col("product_id").is_in(product_ids.implode()))
    intervals = repeat_intervals(rows, product_ids)
    by_product = (
        intervals.group_by("product")
        .agg(product_median=pl.col("interval").median(), product_repeats=pl.len().cast(pl.UInt32))
        .select(pl.lit(product_ids).gather(pl.col("product")).alias("product_id"), pl.exclude("product"))
    )
    categories = related.select("category", number=pl.col("category").rank("dense").cast(pl.UInt32))
    by_category = (
        intervals.with_columns(number=pl.lit(categories.get_column("number")).gather(pl.col("product")))
        .group_by("number")
        .agg(category_median=pl.col("interval").median(), category_repeats=pl.len().cast(pl.UInt32))
        .join(categories.unique(), on="number")
        .drop("number")
    )
    learned = (
        unknown.join(by_product, on="product_id", how="left")
        .join(by_category, on="category", how="left")
        .with_columns(pl.col("product_repeats", "category_repeats").fill_null(0))
        .with_columns(
            basis=pl.when(pl.col("product_repeats") >= min_repeats)
            .then(pl.lit("product"))
            .when(pl.col("category_repeats") >= min_repeats)
            .then(pl.lit("category"))
            .otherwise(pl.lit("none"))
        )
        .with_columns(
            median=pl.when(pl.col("basis") == "product")
            .then(pl.col("product_median"))
            .when(pl.col("basis") == "category")
            .then(pl.col("category_median")),
            repeats=pl.when(pl.col("basis") == "category")
            .then(pl.col("category_repeats"))
            .otherwise(pl.col("product_repeats")),
        )
        .with_columns(
            cycle_days=pl.col("median").round(0, mode="half_away_from_zero").clip(lower_bound=1).cast(pl.Int32)
        )
    )
    return learned.select(pl.col(column).cast(dtype) for column, dtype in LEARNED_CYCLE_SCHEMA.items()).sort(
        "product_id"
    )


def repeat_intervals(purchases: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """(product, interval): the days between each two consecutive purchase days of a product by one customer,
    for `purchases` of the products in `product_ids`; `product` is the position in `product_ids`, as
    numbers group far faster than ids at millions of rows.

    At millions of rows, sorting strings by customer, product and date would dominate, so each row is packed
    into one 64-bit integer (customer block, product number, day) whose plain sort puts every customer's
    purchases of a product in date order. Data too large to pack falls back to the column sort."""
    if purchases.is_empty():
        return pl.DataFrame(schema=_INTERVAL_SCHEMA)
    keyed = _keyed_by_customer(purchases.select("customer_id", "product_id", "purchase_date"))
    first_day = keyed.get_column("purchase_date").min()
    numbered = keyed.select(
        block=pl.col("customer_id").rle_id().cast(pl.UInt64),
        product=pl.col("product_id").replace_strict(_numbered(product_ids), return_dtype=pl.UInt64),
        day=(pl.col("purchase_date") - pl.lit(first_day)).dt.total_days().cast(pl.UInt64),
    )
    bits = {column: max(1, int(numbered.get_column(column).max()).bit_length()) for column in numbered.columns}
    if sum(bits.values()) > 64:
        return _repeat_intervals_by_sorting(purchases, product_ids)
    day_unit = pl.lit(1 << bits["day"], dtype=pl.UInt64)
    product_unit = pl.lit(1 << bits["product"], dtype=pl.UInt64)
    packed = numbered.select((pl.col("block") * product_unit + pl.col("product")) * day_unit + pl.col("day"))
    return (
        packed.to_series()
        .sort()
        .to_frame("packed")
        .select(pair=pl.col("packed") // day_unit, day=(pl.col("packed") % day_unit).cast(pl.Int64))
        .with_columns(interval=pl.col("day") - pl.col("day").shift(1))
        .filter((pl.col("pair") == pl.col("pair").shift(1)) & (pl.col("interval") > 0))
        .select(product=(pl.col("pair") % product_unit).cast(pl.UInt32), interval="interval")
    )


def _repeat_intervals_by_sorting(purchases: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """`repeat_intervals` by sorting the columns themselves: slower, for data too large to pack."""
    same_pair = (pl.col("customer_id") == pl.col("customer_id").shift(1)) & (
        pl.col("product_id") == pl.col("product_id").shift(1)
    )
    return (
        purchases.select("customer_id", "product_id", "purchase_date")
        .unique()
        .sort("customer_id", "product_id", "purchase_date")
        .with_columns(interval=(pl.col("purchase_date") - pl.col("purchase_date").shift(1)).dt.total_days())
        .filter(same_pair)
        .select(
            product=pl.col("product_id").replace_strict(_numbered(product_ids), return_dtype=pl.UInt32),
            interval="interval",
        )
    )


def _numbered(values: pl.Series) -> dict[str, int]:
    return {value: number for number, value in enumerate(values)}


def with_learned_cycles(products: pl.DataFrame, learned: pl.DataFrame) -> pl.DataFrame:
    """The catalog with each missing replenishment cycle filled from `learned` (where one was learned)."""
    return (
        products.join(learned.select("product_id", "cycle_days"), on="product_id", how="left", maintain_order="left")
        .with_columns(replenishment_cycle_days=pl.coalesce("replenishment_cycle_days", "cycle_days"))
        .drop("cycle_days")
    )


# ---------------------------------------------------------------------------------------------- the dataset


def load_transactions_dataset(
    transactions: str | Path,
    catalog: str | Path,
    customers_file: str | Path | None = None,
    *,
    as_of: date,
    settings: IngestSettings | None = None,
    strict: bool = False,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
) -> Dataset:
    """A Dataset with the same frames as `load_dataset`, from a transaction log, a catalog and optional
    customer attributes.

    The customers are those with a valid purchase on or before `as_of` and everyone in the customers file.
    Every product a customer bought counts as owned: ownership holds each dated purchase, so the cohort sees
    what was owned on the as-of date. Attributes the customers file does not give are derived from purchases
    up to `as_of`. Bad log rows are kept in `rejected_rows`, or raise DataValidationError in strict mode."""
    settings = settings or IngestSettings()
    products, cross_sells = load_catalog(catalog, settings, tier_price_ranges)
    given = load_customer_attributes(customers_file, settings) if customers_file is not None else None
    purchases, rejected = read_transactions(transactions, products.get_column("product_id"), settings, strict=strict)
    features = customer_features(purchases, products, as_of, settings.rfm_window_days)
    learned = learn_cycles(purchases, products, as_of, settings.cycle_min_repeats)
    source = f"{transactions} + {catalog}" + (f" + {customers_file}" if customers_file is not None else "")
    return Dataset(
        products=with_learned_cycles(products, learned),
        cross_sells=cross_sells,
        customers=derive_customers(features, given, settings),
        ownership=purchases.select(list(OWNERSHIP_SCHEMA)),
        source=source,
        rejected_rows=rejected,
        learned_cycles=learned,
        customer_features=features,
    )


def rows_rejected_summary(dataset: Dataset) -> dict[str, Any]:
    """{"total": n, "by_reason": {reason: count}} over every reason of REJECT_REASONS (zeros included)."""
    counts = dict.fromkeys(REJECT_REASONS, 0)
    if dataset.rejected_rows is not None:
        for reason, count in dataset.rejected_rows.get_column("reason").value_counts().iter_rows():
            counts[reason] = count
    return {"total": sum(counts.values()), "by_reason": counts}


def write_rejected_rows(dataset: Dataset, path: str | Path) -> Path:
    """Writes the rejected rows as CSV (REJECTED_SCHEMA columns), atomically."""
    rejected = dataset.rejected_rows if dataset.rejected_rows is not None else pl.DataFrame(schema=REJECTED_SCHEMA)
    return write_atomic(path, rejected.write_csv())


def with_column_overrides(settings: IngestSettings, overrides: Iterable[tuple[str, str]]) -> IngestSettings:
    """Settings with column mappings from `--column NAME=SOURCE` options. NAME is a field (mapped in every
    file that has it) or a field qualified by its file: transactions.product_id, catalog.name, customers.name."""
    tables = {
        "transactions": ("transaction_columns", TRANSACTION_FIELDS),
        "catalog": ("catalog_columns", CATALOG_FIELDS),
        "customers": ("customer_columns", CUSTOMER_FIELDS),
    }
    updates = {table: dict(getattr(settings, table)) for table, _ in tables.values()}
    for name, source in overrides:
        qualifier, _, field = name.rpartition(".")
        if qualifier and qualifier not in tables:
            raise ConfigurationError(f"--column {name}: '{qualifier}' is not one of {', '.join(tables)}")
        targets = [tables[qualifier]] if qualifier else list(tables.values())
        matched = [table for table, fields in targets if field in fields]
        if not matched:
            raise ConfigurationError(f"--column {name}: unknown field '{field}'")
        for table in matched:
            updates[table][field] = source
    return settings.model_copy(update=updates)

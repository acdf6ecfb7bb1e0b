"""Cross-sells learned from the retailer's own purchases (`features/signals.py`): the products linked to what a
customer owns by basket rules and item neighbours, the evidence summed over everything they own, and, with an EASE
model (`models/ease.py`), EASE's choice among them. Candidates like the rest of `candidates.py`: `CANDIDATE_SCHEMA`
rows, pure functions over polars frames."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse

from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.candidates import OfferSource, conformed, single_offers

EASE_POOL = 100
"""With an EASE model, the linked products (most evidence first) per customer that EASE picks the `limit` from: re-ordering
the learned links' best 100 by EASE kept all of its lead on Complete Journey (docs/backtest.md); the pool bounds the
pairs scored, not what EASE may say about them."""


def learned_offers(
    holdings: pl.DataFrame, links: pl.DataFrame, products: pl.DataFrame, limit: int, ease: EaseModel | None = None
) -> pl.DataFrame:
    """Cross-sells learned signals propose: products linked to owned ones that the customer does not own, at
    most `limit` per customer. `links` has source_key, product_key, link (its strength: a rule's confidence or
    a neighbour's similarity), rule_lift and source (basket_rule or similar_customers).

    A product's evidence is the sum of its links from everything the customer owns, whichever signal found
    them (the usual item-kNN score, with the basket rules' confidences added), and `evidence_share` = evidence
    / the customer's strongest evidence (0-1, the best offer gets 1). A link of strength 0 is no evidence. The
    offer names the link that contributes most: its owned product, source, strength and lift (ties: the
    lowest owned product id). The customer's best offers come first (ties: the lowest product id).

    The evidence of every (customer, product) is one sparse product, owned x links, and only the offers kept
    look for their strongest link: a join of every holding with every link costs several times more.

    With `ease`, the `limit` kept are those of the customer's EASE_POOL best that EASE scores highest (then those
    it does not score, by evidence): the links find the candidates, EASE chooses among them."""
    links = links.filter(pl.col("link") > 0)
    if links.is_empty() or holdings.is_empty():
        return conformed(pl.DataFrame(schema={"customer_key": pl.UInt32, "product_key": pl.UInt32}))
    # Products are numbered in product-id order inside this function, so every "lowest id" tie-break is an
    # order of positions that sparse matrices and stable sorts keep for free.
    position_of_key = products.get_column("id_order").to_numpy().astype(np.int64) - 1
    key_at_position = np.argsort(position_of_key)
    n_products = products.height
    customer_keys = holdings.get_column("customer_key").to_numpy()
    owned = position_of_key[holdings.get_column("product_key").to_numpy()]
    n_customers = int(customer_keys.max()) + 1
    ownership = sparse.csr_matrix((np.ones(len(owned)), (customer_keys, owned)), shape=(n_customers, n_products))
    ranked = _ranked_links(links, position_of_key)
    sources, targets = ranked.get_column("source").to_numpy(), ranked.get_column("target").to_numpy()
    strengths = sparse.csr_matrix(
        (ranked.get_column("link").to_numpy(), (sources, targets)), shape=(n_products, n_products)
    )
    evidence = ownership @ strengths
    evidence = evidence - evidence.multiply(ownership)  # never offer what the customer owns
    evidence.eliminate_zeros()
    evidence.sort_indices()
    candidates = _evidence_rows(evidence)
    if ease is None:
        candidates = _most_evidence(candidates, limit)
    else:
        candidates = _chosen_by_ease(_most_evidence(candidates, EASE_POOL), holdings, ease, key_at_position, limit)
    offered = candidates.sort("customer_key", "evidence", descending=[False, True], maintain_order=True)
    strongest = ranked[_strongest_links(offered, holdings, owned, ranked, n_products)]
    pairs = offered.select(
        "customer_key",
        "evidence_share",
        product_key=pl.Series(key_at_position.astype(np.uint32)).gather(offered.get_column("position")),
        source_key=strongest.get_column("source_key"),
        link=strongest.get_column("link"),
        rule_lift=strongest.get_column("rule_lift"),
    )
    offers = single_offers(pairs, products, "product_cross_sell", "catalog")
    return offers.with_columns(source=strongest.get_column("kind").cast(OfferSource))


def _most_evidence(candidates: pl.DataFrame, limit: int) -> pl.DataFrame:
    """Each customer's `limit` `_evidence_rows` of most evidence (ties: the lower product id, row order), in row
    order; the rows as they are when no customer has more."""
    customers = candidates.get_column("customer_key").to_numpy()
    if np.bincount(customers).max(initial=0) <= limit:
        return candidates
    return candidates[_first_per_customer(customers, [-candidates.get_column("evidence").to_numpy()], limit)]


def _chosen_by_ease(
    candidates: pl.DataFrame, holdings: pl.DataFrame, ease: EaseModel, key_at_position: np.ndarray, limit: int
) -> pl.DataFrame:
    """Of `_evidence_rows`' candidates, each customer's `limit` with the highest EASE score, then those it does not
    score by evidence; in the candidates' order. Ranked in numpy: a polars sort and group head over every candidate
    of a chunk cost about as much as the whole choice."""
    customers, evidence = candidates.get_column("customer_key").to_numpy(), candidates.get_column("evidence").to_numpy()
    scores = ease.scores(
        holdings.get_column("customer_key").to_numpy(),
        holdings.get_column("product_key").to_numpy(),
        customers,
        key_at_position[candidates.get_column("position").to_numpy()],
        len(key_at_position),
    )
    unscored = np.isnan(scores)
    return candidates[_first_per_customer(customers, [unscored, -np.where(unscored, 0.0, scores), -evidence], limit)]


def _first_per_customer(customers: np.ndarray, keys: list[np.ndarray], limit: int) -> np.ndarray:
    """The rows, in row order, of each customer's first `limit` in ascending order of `keys` (the first the most
    significant; ties by row); `customers` is sorted. Sorted by polars (numpy's lexsort of four keys took a
    second a chunk), ranked in runs by two binary searches."""
    names = [f"key{index}" for index in range(len(keys))]
    frame = pl.DataFrame({"customer": customers, **dict(zip(names, keys, strict=True))})
    order = frame.select(pl.arg_sort_by("customer", *names, maintain_order=True)).to_series().to_numpy()
    ordered = customers[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered, side="left")
    return np.sort(order[rank < limit])


def _evidence_rows(evidence: sparse.csr_matrix) -> pl.DataFrame:
    """The non-zero (customer_key, position, evidence) of the matrix in row order, with `evidence_share`: the
    evidence / the customer's strongest, found over each row of the matrix rather than by grouping."""
    counts = np.diff(evidence.indptr)
    starts = evidence.indptr[:-1][counts > 0]
    strongest = np.repeat(np.maximum.reduceat(evidence.data, starts), counts[counts > 0]) if len(starts) else []
    return pl.DataFrame(
        {
            "customer_key": np.repeat(np.arange(evidence.shape[0], dtype=np.uint32), counts),
            "position": evidence.indices.astype(np.uint32),
            "evidence": evidence.data,
        }
    ).with_columns(
        pl.col("customer_key").set_sorted(),
        evidence_share=pl.col("evidence") / pl.Series(strongest, dtype=pl.Float64),
    )


def _ranked_links(links: pl.DataFrame, position_of_key: np.ndarray) -> pl.DataFrame:
    """The links strongest first (ties: signal order, then the lowest source id), with `source` and `target`
    as product-id positions, `source_key` and `kind` (the signal). A link's row number is its rank."""
    positions = pl.Series(position_of_key.astype(np.uint32))
    return links.select(
        "source_key",
        "link",
        "rule_lift",
        kind=pl.col("source").cast(OfferSource),
        source=positions.gather(links.get_column("source_key")),
        target=positions.gather(links.get_column("product_key")),
    ).sort("link", "kind", "source", "target", descending=[True, False, False, False])


def _strongest_links(
    offered: pl.DataFrame, holdings: pl.DataFrame, owned: np.ndarray, ranked: pl.DataFrame, n_products: int
) -> np.ndarray:
    """For each offered (customer_key, position): the rank in `ranked` of the strongest link to it from a
    product the customer owns. Holdings are sorted by customer, so each customer's owned products are one
    contiguous run, paired with each of their offers."""
    holding_customers = holdings.get_column("customer_key").to_numpy()
    customers = offered.get_column("customer_key").to_numpy()
    run_of_customer = np.searchsorted(holding_customers, np.arange(int(holding_customers[-1]) + 2))
    first = run_of_customer[customers]
    counts = run_of_customer[customers + 1] - first
    run_starts = np.cumsum(counts) - counts
    holding = np.arange(int(counts.sum())) - np.repeat(run_starts - first, counts)
    targets = np.repeat(offered.get_column("position").to_numpy().astype(np.int64), counts)
    wanted = owned[holding] * n_products + targets
    # Each (source, target) once, at its best rank: a pair both signals found has two links.
    link_sources = ranked.get_column("source").to_numpy().astype(np.int64)
    link_keys = link_sources * n_products + ranked.get_column("target").to_numpy()
    keys, best_rank = np.unique(link_keys, return_index=True)
    ranks = pl.Series(wanted).replace_strict(keys, best_rank, default=len(link_keys), return_dtype=pl.Int64)
    return np.minimum.reduceat(ranks.to_numpy(), run_starts)

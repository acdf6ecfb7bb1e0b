"""Every business knob of the orchestrator, with its default and what it means.

The defaults are the product's documented behaviour; a retailer overrides them in the top-level
`config.py`, from a notebook (`OrchestratorConfig(bundle_discount=0.2)`), or per run through the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

# The package's own modules hold settings the layers below read too; they are re-exported here, where every
# caller has always found them.
from cross_sell_upsell.configuration.acceptance import AcceptanceSettings as AcceptanceSettings
from cross_sell_upsell.configuration.base import LOYALTY_TIERS as LOYALTY_TIERS
from cross_sell_upsell.configuration.base import MARGIN_LEVELS as MARGIN_LEVELS
from cross_sell_upsell.configuration.base import PRICE_SENSITIVITIES as PRICE_SENSITIVITIES
from cross_sell_upsell.configuration.base import Frozen as _Frozen
from cross_sell_upsell.configuration.campaigns import CAMPAIGN_FIELDS as CAMPAIGN_FIELDS
from cross_sell_upsell.configuration.campaigns import CampaignSettings as CampaignSettings
from cross_sell_upsell.configuration.campaigns import SegmentRuleSettings as SegmentRuleSettings
from cross_sell_upsell.configuration.customer_models import CustomerModelSettings as CustomerModelSettings
from cross_sell_upsell.configuration.ingest import CATALOG_FIELDS as CATALOG_FIELDS
from cross_sell_upsell.configuration.ingest import CUSTOMER_FIELDS as CUSTOMER_FIELDS
from cross_sell_upsell.configuration.ingest import OPTIONAL_TRANSACTION_FIELDS as OPTIONAL_TRANSACTION_FIELDS
from cross_sell_upsell.configuration.ingest import TRANSACTION_FIELDS as TRANSACTION_FIELDS
from cross_sell_upsell.configuration.ingest import IngestSettings as IngestSettings
from cross_sell_upsell.configuration.segments import SegmentSettings as SegmentSettings
from cross_sell_upsell.errors import ConfigurationError

SAMPLE_DATA = Path("data")
"""The sample data sets, relative to the folder the tools run from (the project root)."""
DEFAULT_DATA_DIR = SAMPLE_DATA / "tier1"
"""The data folder every entry point reads when none is given: the Tier 1 sample."""
DEFAULT_OUTPUT_DIR = Path("output")
"""The folder the entry points write reports (and cache model answers) under when no --output is given, relative
to the folder they run from; `config.py` anchors it at the project root."""


class ScoringWeights(_Frozen):
    """Relative weight of each score component. Each component is on a 0-100 scale and the score is the
    weighted mean, so the score is on 0-100 too. The first four keep the source documents' 40/30/20/10."""

    business_value: float = Field(40.0, ge=0, description="Weight of price x margin (what the sale is worth).")
    customer_fit: float = Field(
        30.0,
        ge=0,
        description="Weight of how well the customer fits the offer (price sensitivity, loyalty, churn, CLV).",
    )
    routine_completeness: float = Field(
        20.0, ge=0, description="Weight of how much the offer completes or maintains the essential routine."
    )
    replenishment_urgency: float = Field(
        10.0, ge=0, description="Weight of how far through its replenishment cycle an owned product is."
    )
    concern_match: float = Field(
        10.0, ge=0, description="Weight of the share of the customer's skin concerns the product targets."
    )
    affinity: float = Field(
        20.0,
        ge=0,
        description="Weight of the learned purchase affinity: how likely the customer's own purchases make this one "
        "(basket-rule confidence, item similarity, or the customer's own repeat rate for a restock).",
    )
    lift: float = Field(
        5.0, ge=0, description="Weight of the lift of the basket rule behind an offer (how much it beats chance)."
    )

    @model_validator(mode="after")
    def _some_weight(self) -> ScoringWeights:
        if sum(self.as_dict().values()) <= 0:
            raise ValueError("at least one scoring weight must be positive")
        return self

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in type(self).model_fields}


class SignalSettings(_Frozen):
    """What the orchestrator learns from the purchases on or before the as-of date: basket rules between
    products and between categories, and item-item similarity. Off: only the catalog's rules, as before."""

    enabled: bool = Field(
        True, description="Learn basket rules and item similarity from purchases and offer from them."
    )
    min_support: float = Field(
        0.01, ge=0, le=1, description="A basket rule needs at least this share of all baskets to hold both products."
    )
    min_confidence: float = Field(
        0.1, ge=0, le=1, description="A basket rule A -> B needs at least this share of baskets with A to hold B."
    )
    min_count: int = Field(
        3,
        ge=1,
        description="A basket rule needs at least this many baskets with both products, and two products are similar "
        "only when at least this many customers bought both.",
    )
    neighbours: int = Field(20, ge=1, description="Most similar products kept per product for item similarity.")
    similarity_weight: float = Field(
        0.84,
        ge=0,
        le=1,
        description="Weight of the cosine similarity of two products' buyers in the blended similarity.",
    )
    price_similarity_weight: float = Field(
        0.16,
        ge=0,
        le=1,
        description="Weight of the price similarity 1 - |p1 - p2| / max(p1, p2) in the blended similarity.",
    )
    learned_offers: int = Field(
        10,
        ge=1,
        description="Most cross-sells per customer from the learned signals (basket rules and similar customers).",
    )
    ease_products: int = Field(
        5_000,
        ge=0,
        description="Most-bought products the EASE item-item model orders a customer's new products over (its "
        "weights are a dense products x products matrix: 5,000 take 100 MB and about 3 s to fit); 0 switches it off "
        "and new products keep the weighted score's order.",
    )
    ease_validation_days: int = Field(
        28,
        ge=1,
        description="EASE's lambda is chosen by how well a model fitted on the purchases up to this many days before "
        "the as-of date orders the new products bought in them.",
    )
    ease_validation_customers: int = Field(
        5_000,
        ge=1,
        description="Most customers (evenly spread over the customer rows) the choice of EASE's lambda is measured on.",
    )
    habit_half_life_days: float = Field(
        90.0,
        gt=0,
        description="A repeat purchase this many days old counts half as much towards how habitually a customer "
        "rebuys a product (the affinity of a restock offer).",
    )
    lift_reference: float = Field(
        5.0, gt=1, description="Rule lift that earns the full 100 lift points; lift 1 (chance) earns 0."
    )


class LLMSettings(_Frozen):
    """How the optional `write_rationales` step talks to a chat model, what it may tell it, and what it costs."""

    enabled: bool = Field(False, description="Ask a chat model to rewrite the template rationales (`--llm`).")
    model: str = Field("gpt-4o-mini", description="Chat model name, as the OpenAI-compatible server knows it.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature; 0 keeps rationales stable.")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint; None means the OpenAI default.")
    timeout_seconds: float = Field(20.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(
        2,
        ge=0,
        description="Retries of a failed request (timeout, 429, 5xx, connection) and, separately, of an answer that "
        "is malformed, breaks the schema or is a refusal, before falling back to the template.",
    )
    offers_per_customer: int = Field(3, ge=0, description="How many top offers per customer get an LLM rationale.")
    priority_customers: int = Field(
        50,
        ge=0,
        description="At most this many customers of a run get LLM rationales: the first ones of the cohort that have "
        "offers (a batch orders its cohort by priority); the rest keep templates.",
    )
    max_concurrency: int = Field(4, ge=1, description="Chat requests in flight at once (one request per customer).")
    max_rationale_chars: int = Field(
        300, gt=0, description="A model rationale longer than this many characters is replaced by the template."
    )
    include_customer_name: bool = Field(
        False, description="Send the customer's name to the model. Off: the prompt identifies no one."
    )
    include_notes: bool = Field(
        False, description="Send the customer's free-text notes to the model, fenced as untrusted data."
    )
    cache_dir: Path | None = Field(
        None,
        description="Folder of cached model answers, keyed by model and prompt, so a re-run costs nothing. None (or "
        "'none'/'off' in the environment): no cache, the library's default, so a notebook leaves no folder behind; "
        "the scripts and the `cross-sell` command cache under their output folder.",
    )
    input_price_per_1k: float = Field(
        0.00015, ge=0, description="Price in dollars of 1,000 input (prompt) tokens, for the cost estimate."
    )
    output_price_per_1k: float = Field(
        0.0006, ge=0, description="Price in dollars of 1,000 output (completion) tokens, for the cost estimate."
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_off(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value


class OrchestratorConfig(_Frozen):
    """The business rules. Every field is a knob; the defaults are what the README documents."""

    essential_categories: tuple[str, ...] = Field(
        ("cleanser", "toner", "serum", "moisturizer", "spf"),
        description="The routine: categories every customer should own, in the order they are applied. Empty: the "
        "catalog has no routine (a grocer's, say), so there are no gap or bundle offers.",
    )
    due_soon_days: int = Field(
        7,
        ge=0,
        description="An owned product is 'due soon' when its cycle ends within this many days of the as-of date.",
    )
    bundle_discount: float = Field(0.15, ge=0, lt=1, description="Discount of the complete-your-routine bundle.")
    bundle_min_items: int = Field(
        2, ge=2, description="A bundle is offered when at least this many essentials are missing."
    )
    margin_multipliers: dict[str, float] = Field(
        {"low": 0.75, "medium": 1.0, "high": 1.5, "premium": 2.0},
        description="Multiplier of the price for each margin level in the business-value component.",
    )
    business_value_reference: float = Field(
        100.0,
        gt=0,
        description="Margin-weighted price (price x multiplier) that earns the full 100 business-value points.",
    )
    price_sensitivity_penalty: dict[str, float] = Field(
        {"low": 0.0, "medium": 0.5, "high": 1.0},
        description="How much an offer's price (relative to `price_reference`) lowers the fit for each sensitivity.",
    )
    price_reference: float = Field(
        100.0, gt=0, description="Price at which a fully price-sensitive customer's price fit reaches 0."
    )
    loyalty_scores: dict[str, float] = Field(
        {"bronze": 0.25, "silver": 0.5, "gold": 0.75, "platinum": 1.0},
        description="Fit contribution (0-1) of each loyalty tier.",
    )
    lifetime_value_reference: float = Field(
        500.0,
        gt=0,
        description="Predicted customer lifetime value (the customer models' CLV, or the fallback's) that earns the "
        "full lifetime-value fit and the full value factor of the priority.",
    )
    upgrade_blocked_sensitivities: tuple[str, ...] = Field(
        ("high",), description="Price sensitivities that get no tier upgrades, unless the loyalty tier overrides it."
    )
    upgrade_loyalty_override: tuple[str, ...] = Field(
        ("gold", "platinum"), description="Loyalty tiers that get upgrades whatever their price sensitivity."
    )
    max_tiers_above_preference: int = Field(
        1,
        ge=0,
        description="Upgrades and gap picks go at most this many tiers above the customer's tier preference.",
    )
    offers_per_category: int | None = Field(
        5,
        ge=1,
        description="Outside the routine (categories not in essential_categories, so every category of a catalog "
        "without one): at most this many restocks and this many other offers per category to one customer, the "
        "best-ranked; None: no cap. An essential category is one need and always gets at most one offer (see "
        "docs/offers.md).",
    )
    weights: ScoringWeights = Field(default_factory=ScoringWeights, description="Score component weights.")
    top_n: int = Field(5, ge=1, description="How many recommendations the single-customer report details.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The optional chat-model rationale step.")
    signals: SignalSettings = Field(
        default_factory=SignalSettings, description="Signals learned from purchases: basket rules and item similarity."
    )
    ingest: IngestSettings = Field(
        default_factory=IngestSettings, description="Reading transaction logs and deriving customer attributes."
    )
    segments: SegmentSettings = Field(
        default_factory=SegmentSettings, description="Customer segments: K-means over purchase behaviour, named."
    )
    customer_models: CustomerModelSettings = Field(
        default_factory=CustomerModelSettings,
        description="The BG/NBD and Gamma-Gamma customer models fitted into the snapshot: gating, window, CLV horizon.",
    )
    campaigns: CampaignSettings = Field(
        default_factory=CampaignSettings,
        description="Promotions: the campaigns file's columns, the default boost and the share of a list they may take.",
    )
    segment_rules: SegmentRuleSettings = Field(
        default_factory=SegmentRuleSettings,
        description="Basket-rule confidence and support a customer's segment needs (document 004's levels).",
    )
    acceptance: AcceptanceSettings = Field(
        default_factory=AcceptanceSettings,
        description="The acceptance model: the probability that a customer buys an offer within the horizon, learned "
        "from the retailer's replayed earlier offers.",
    )
    ranking: Literal["acceptance", "expected_value", "score"] = Field(
        "acceptance",
        description="How a customer's offers are ordered: by acceptance probability, by expected value (probability "
        "x price x margin multiplier) or by the weighted score. Without an acceptance model, by the score.",
    )
    win_back_below_p_alive: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A customer whose probability of still being active is below this has most likely left: they go "
        "to the win-back list, not the priority list. 0.5: more likely gone than active.",
    )
    win_back_overdue_cycles: float = Field(
        3.0,
        gt=0,
        description="For a customer who has most likely left, a restock last bought more than this many replenishment "
        "cycles ago is no reminder: their favourite such product becomes one win-back offer, the rest are dropped.",
    )

    @model_validator(mode="after")
    def _complete_tables(self) -> OrchestratorConfig:
        for table, keys in (
            ("margin_multipliers", MARGIN_LEVELS),
            ("price_sensitivity_penalty", PRICE_SENSITIVITIES),
            ("loyalty_scores", LOYALTY_TIERS),
        ):
            missing = [key for key in keys if key not in getattr(self, table)]
            if missing:
                raise ValueError(f"{table} lacks {', '.join(missing)}")
        return self

    def with_weights(self, **weights: float) -> OrchestratorConfig:
        """A copy with some score weights changed: `config.with_weights(concern_match=30)`."""
        return self.model_copy(update={"weights": self.weights.model_copy(update=weights)})


LLM_ENVIRONMENT: dict[str, str] = {
    "LLM_ENABLED": "enabled",
    "LLM_MODEL": "model",
    "LLM_TEMPERATURE": "temperature",
    "OPENAI_BASE_URL": "base_url",
    "LLM_TIMEOUT_SECONDS": "timeout_seconds",
    "LLM_MAX_RETRIES": "max_retries",
    "LLM_OFFERS_PER_CUSTOMER": "offers_per_customer",
    "LLM_PRIORITY_CUSTOMERS": "priority_customers",
    "LLM_MAX_CONCURRENCY": "max_concurrency",
    "LLM_MAX_RATIONALE_CHARS": "max_rationale_chars",
    "LLM_INCLUDE_CUSTOMER_NAME": "include_customer_name",
    "LLM_INCLUDE_NOTES": "include_notes",
    "LLM_CACHE_DIR": "cache_dir",
    "LLM_INPUT_PRICE_PER_1K": "input_price_per_1k",
    "LLM_OUTPUT_PRICE_PER_1K": "output_price_per_1k",
}
"""Environment variables (or `.env` entries) that set the LLM settings. The API key stays in OPENAI_API_KEY and
is read only by the chat client, never stored in the configuration."""


def llm_settings_from_env(environ: Mapping[str, str] | None = None, *, cache_dir: Path | None = None) -> LLMSettings:
    """LLM settings from the environment, with answers cached in `cache_dir` unless LLM_CACHE_DIR says otherwise;
    raises ConfigurationError naming the variable for a bad value."""
    source = os.environ if environ is None else environ
    values = {field: source[variable] for variable, field in LLM_ENVIRONMENT.items() if source.get(variable)}
    values.setdefault("cache_dir", cache_dir)
    try:
        return LLMSettings.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        variable = next(name for name, target in LLM_ENVIRONMENT.items() if target == field)
        raise ConfigurationError(f"environment variable {variable}: {error['msg']}") from None

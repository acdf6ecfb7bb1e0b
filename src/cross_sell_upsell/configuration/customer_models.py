"""The customer models' knobs (`OrchestratorConfig.customer_models`), with their defaults and why
(docs/customer-models.md has the study behind the thresholds). A module of its own, in the configuration layer,
because the models below read it as much as the orchestrator above."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CustomerModelSettings(BaseModel):
    """When the BG/NBD and Gamma-Gamma models are fitted and trusted, and what they predict. The gating defaults
    follow Klaviyo's stated requirements for its predictive analytics (500 customers who ordered, 180 days of
    orders, some customers with three or more) and a simulation study of how far the fitted model's aggregate
    forecast strays from the true model's with few repeat customers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Fit the models; off, every customer gets the fallback values.")
    window_days: int = Field(
        90,
        ge=1,
        description="Days ahead (from the as-of date) over which expected purchases and the churn probability "
        "(no purchase in the window) are predicted, when the caller names no window.",
    )
    clv_horizon_days: int = Field(365, ge=1, description="Days ahead over which the predicted CLV is summed.")
    annual_discount_rate: float = Field(
        0.10,
        ge=0,
        le=1,
        description="Yearly rate future spend is discounted at in the CLV (compounded: spend t days ahead counts "
        "(1 + rate)^(-t / 365)).",
    )
    min_customers: int = Field(500, ge=1, description="Fewest customers with a purchase before the as-of date.")
    min_repeat_customers: int = Field(
        200,
        ge=1,
        description="Fewest customers with a repeat purchase (two purchase days or more) and with repeat "
        "purchases worth more than zero: the data behind the purchase rates, the dropout and the spend model.",
    )
    min_frequent_customers: int = Field(
        50, ge=0, description="Fewest customers with three purchase days or more, which show how customers drop out."
    )
    min_history_days: int = Field(
        180, ge=1, description="Fewest days from the first purchase in the data to the as-of date."
    )
    max_horizon_ratio: float = Field(
        2.0,
        gt=0,
        description="Longest prediction (the CLV horizon or the window) as a multiple of the history: no "
        "prediction reaches further than this many times the days the model has seen.",
    )
    max_iterations: int = Field(
        500, ge=1, description="Most optimiser iterations per fit; a fit that needs more is not trusted."
    )
    gradient_tolerance: float = Field(
        1e-5,
        gt=0,
        description="A fit has converged when no derivative of the mean log-likelihood per customer with respect "
        "to a log parameter exceeds this.",
    )

"""Text from a chat model or from the customer's data is data: in both markdown reports it renders as plain
text, never as a heading, a table row, a link, an image, code or HTML.

Each report is rendered twice, once with hostile text and once with benign text in the same places, and both
are parsed as CommonMark with GFM tables and strikethrough: the hostile one must have exactly the structure of
the benign one (the same headings, tables, rows, emphasis), with the hostile text visible as written."""

from __future__ import annotations

import dataclasses
import html
from datetime import datetime
from pathlib import Path

import polars as pl
from markdown_it import MarkdownIt
from support import AS_OF

from cross_sell_upsell import OrchestratorConfig, analyze_customer
from cross_sell_upsell.offers.results import CustomerReport
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.customer import render_markdown as render_customer
from cross_sell_upsell.reporting.executive import BatchFiles
from cross_sell_upsell.reporting.executive.markdown import render_markdown as render_executive
from cross_sell_upsell.reporting.text import plain_text

GENERATED_AT = datetime(2024, 3, 4, 6, 0, 0)

HOSTILE = (
    "Nice pick.\n\n# Pwned\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    "[click](https://evil.example) ![x](https://evil.example/x.png) <img src=x onerror=alert(1)> "
    "<https://evil.example> **bold** _em_ `code` ~~gone~~ &lt;b&gt;\n> quoted\n- listed"
)
"""Every markdown construct a model or a data file could try to smuggle into a report."""

BENIGN = "Plain words only"

MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])

SMUGGLED = {"link_open", "image", "html_inline", "html_block", "code_block", "fence", "s_open"}
"""Elements neither report has of its own (the executive report's file names are its only inline code)."""


def structure(text: str) -> list[tuple[str, str]]:
    """Every markdown element of `text` but its words: (token type, tag), inline tokens included."""
    elements = []
    for token in MARKDOWN.parse(text):
        for part in [token, *(token.children or [])]:
            if part.type not in ("text", "softbreak", "inline"):
                elements.append((part.type, part.tag))
    return elements


def line_shape(text: str) -> list[str]:
    """Each line's markdown role by its first character: heading, table row, quote, list item or other."""
    return [line[:1] if line[:1] in "#|>-" else "." for line in text.split("\n")]


def assert_plain(hostile: str, benign: str) -> None:
    assert structure(hostile) == structure(benign)
    assert line_shape(hostile) == line_shape(benign)
    assert not SMUGGLED & {element for element, _ in structure(hostile)}
    shown = html.unescape(MARKDOWN.render(hostile))
    assert "# Pwned | a | b | |---|---| | 1 | 2 | [click](https://evil.example)" in shown
    assert "<img src=x onerror=alert(1)> <https://evil.example> **bold** _em_ `code` ~~gone~~ &lt;b&gt;" in shown


# --- the customer report ------------------------------------------------------------------------------------------


def with_text(report: CustomerReport, text: str) -> CustomerReport:
    """The report with `text` as the customer's name and id, concerns and missing essentials, and as each
    offer's product id, name, category and rationale."""
    opportunities = [
        item.model_copy(update={"product_id": text, "name": text, "category": text, "rationale": text})
        for item in report.opportunities
    ]
    update = {
        "customer_id": text,
        "name": text,
        "skin_concerns": [text],
        "missing_essentials": [text],
        "products_owned": [text],
        "opportunities": opportunities,
    }
    return report.model_copy(update=update)


def test_hostile_text_in_the_customer_report_is_plain_text(tier1) -> None:
    report = analyze_customer("C001", as_of=AS_OF, dataset=tier1, config=OrchestratorConfig())
    hostile = render_customer(with_text(report, HOSTILE), 5, GENERATED_AT)
    benign = render_customer(with_text(report, BENIGN), 5, GENERATED_AT)
    assert_plain(hostile, benign)
    assert hostile.count("\n") == benign.count("\n")


def test_a_model_rationale_with_a_heading_and_a_table_stays_inside_its_line(tier1) -> None:
    report = analyze_customer("C001", as_of=AS_OF, dataset=tier1, config=OrchestratorConfig())
    lead = report.opportunities[0].model_copy(update={"rationale": HOSTILE, "rationale_source": "llm"})
    text = render_customer(
        report.model_copy(update={"opportunities": [lead, *report.opportunities[1:]]}), 5, GENERATED_AT
    )
    # The lead is C001's bundle: its rationale shows under Bundles and under the top recommendations.
    assert [line for line in text.split("\n") if "Nice pick." in line] == [
        rf"- **Why:** {plain_text(HOSTILE)}",
        rf"- **Why:** {plain_text(HOSTILE)} _(source: llm)_",
    ]
    assert plain_text(HOSTILE) == (
        r"Nice pick. # Pwned \| a \| b \| \|---\|---\| \| 1 \| 2 \| \[click\](https\://evil.example) "
        r"!\[x\](https\://evil.example/x.png) \<img src=x onerror=alert(1)> \<https\://evil.example> "
        r"\*\*bold\*\* \_em\_ \`code\` \~\~gone\~\~ \&lt;b\&gt; > quoted - listed"
    )


# --- the executive report -----------------------------------------------------------------------------------------


def executive(tier1, text: str, tmp_path: Path) -> str:
    """The batch report with `text` in every customer's name and product's name, as the priority customers'
    lead rationale, and as a requested id that is not in the data."""
    dataset = dataclasses.replace(
        tier1,
        customers=tier1.customers.with_columns(name=pl.lit(text) + pl.col("customer_id")),
        products=tier1.products.with_columns(name=pl.lit(text) + pl.col("product_id")),
    )
    result = run_batch(dataset, [*tier1.customer_ids(), text], AS_OF, OrchestratorConfig())
    priority = result.totals.priority.with_columns(lead_rationale=pl.lit(text))
    result = dataclasses.replace(result, totals=dataclasses.replace(result.totals, priority=priority))
    return render_executive(result, BatchFiles(tmp_path / "report.md"), [], GENERATED_AT)


def test_hostile_text_in_the_executive_report_is_plain_text(tier1, tmp_path: Path) -> None:
    hostile, benign = executive(tier1, HOSTILE, tmp_path), executive(tier1, BENIGN, tmp_path)
    assert_plain(hostile, benign)
    assert "Contact Nice pick. # Pwned" in hostile  # the finding names the first priority customer
    assert hostile.count("\n") == benign.count("\n")

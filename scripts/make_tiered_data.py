"""Write the multi-tier sample data set: data/tiered/catalog.json and data/tiered/customers.json.

Everything is hand-written in the tables below; nothing is random, so every run writes the same bytes.
The JSON files are the source of truth; this script records how they were made and checks them.

    python scripts/make_tiered_data.py

The data is written for the as-of date 2024-03-01: the RFM features are computed relative to it and
the scenario customers (see data/tiered/README.md) are arranged so that replenishment is or is not due
on that date. After writing, a self-check runs and raises AssertionError on any inconsistency.
"""

# The data tables are laid out one record a line, as a reader scans them; the formatter would put each field
# on a line of its own and double the file.
# fmt: off

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "data" / "tiered"

AS_OF = date(2024, 3, 1)
RFM_WINDOW_DAYS = 90  # frequency/monetary count purchases dated AS_OF - 90 days .. AS_OF - 1 day
HISTORY_START = date(2023, 6, 1)
HISTORY_END = date(2024, 2, 28)

CATEGORIES = ("cleanser", "toner", "serum", "moisturizer", "spf", "mask", "treatment", "eye_cream")
ESSENTIALS = ("cleanser", "toner", "serum", "moisturizer", "spf")
CONCERNS = ("general", "acne", "aging", "dryness", "sensitivity", "hyperpigmentation", "fine_lines")
PRICE_RANGES = {1: (10.00, 24.99), 2: (25.00, 59.99), 3: (60.00, 149.99)}
TIER_MARGINS = {1: {"low", "medium"}, 2: {"medium", "high"}, 3: {"high", "premium"}}
CATEGORY_COUNTS = {
    1: {"cleanser": 2, "toner": 1, "serum": 1, "moisturizer": 2, "spf": 2, "mask": 1, "eye_cream": 1},
    2: {"cleanser": 3, "toner": 2, "serum": 4, "moisturizer": 3, "spf": 2, "mask": 2, "treatment": 2, "eye_cream": 2},
    3: {"cleanser": 4, "toner": 3, "serum": 8, "moisturizer": 4, "spf": 3, "mask": 3, "treatment": 3, "eye_cream": 2},
}

# --------------------------------------------------------------------------------------------------
# Catalog. One row per product:
# (id, name, category, price, margin, cycle_days, cross_sells, upgrade_to, actives, concerns, description)
# The tier follows from the id (P0xx -> 1, P1xx -> 2, P2xx -> 3).
# --------------------------------------------------------------------------------------------------
PRODUCTS = [
    # ---- Tier 1: essentials (P001-P005, P006, P009, P010 keep the Tier 1 sample's names and prices) ----
    ("P001", "Gentle Foaming Cleanser", "cleanser", 14.99, "medium", 30,
     ["P002", "P003", "P004"], "P101", [], ["general", "acne"],
     "A low-lather daily face wash that lifts oil and dirt without stripping, suited to normal and oily skin."),
    ("P002", "Balancing Facial Toner", "toner", 12.99, "medium", 45,
     ["P003", "P004", "P001"], "P105", [], ["general"],
     "An alcohol-free toner that removes cleanser residue and preps skin for the next step."),
    ("P003", "Hydrating Hyaluronic Serum", "serum", 19.99, "medium", 30,
     ["P004", "P005", "P009"], "P107", [], ["general", "dryness"],
     "A lightweight water-based serum that adds a layer of everyday hydration under moisturizer."),
    ("P004", "Daily Lightweight Moisturizer", "moisturizer", 17.99, "medium", 40,
     ["P005", "P003", "P002"], "P110", [], ["general"],
     "A fast-absorbing lotion for morning and evening use that leaves no greasy finish."),
    ("P005", "SPF 30 Everyday Sunscreen", "spf", 15.99, "medium", 30,
     ["P004", "P001"], "P114", [], ["general"],
     "A broad-spectrum SPF 30 lotion meant as the last step of a morning routine."),
    ("P006", "Soothing Aloe Gel Mask", "mask", 16.50, "low", 30,
     ["P003", "P007", "P002"], "P116", [], ["sensitivity", "general"],
     "A cooling rinse-off gel mask with aloe that calms skin after sun or wind exposure."),
    ("P007", "Rich Comfort Night Cream", "moisturizer", 21.99, "medium", 45,
     ["P003", "P009", "P006"], "P111", [], ["dryness"],
     "A thicker overnight cream that cushions dry patches and keeps skin comfortable until morning."),
    ("P008", "Sheer Mineral Sunscreen SPF 30", "spf", 18.99, "low", 45,
     ["P010", "P004", "P002"], "P113", [], ["sensitivity", "general"],
     "A fragrance-free zinc-based sunscreen that blends in without a heavy white cast."),
    ("P009", "Gentle Eye Cream", "eye_cream", 18.99, "medium", 60,
     ["P007", "P003"], "P119", [], ["general", "dryness"],
     "A light, unscented cream for the delicate skin around the eyes."),
    ("P010", "Calming Chamomile Cleanser", "cleanser", 13.99, "low", 30,
     ["P002", "P008", "P007", "P105"], "P102", [], ["sensitivity"],
     "A creamy non-foaming cleanser with chamomile for reactive or easily flushed skin."),

    # ---- Tier 2: advanced, with active ingredients ----
    ("P101", "Hydrating Cream Cleanser with Hyaluronic Acid", "cleanser", 29.99, "high", 60,
     ["P105", "P107", "P111"], "P201", ["Hyaluronic Acid", "Ceramides"], ["dryness", "general"],
     "A cushiony cream cleanser that leaves skin feeling hydrated rather than tight."),
    ("P102", "Ceramide Calming Milk Cleanser", "cleanser", 27.50, "medium", 60,
     ["P105", "P111", "P116"], "P202", ["Ceramides", "Colloidal Oatmeal"], ["sensitivity", "dryness"],
     "A milky low-pH cleanser that supports a compromised skin barrier while it cleans."),
    ("P103", "Salicylic Acid Clarifying Cleanser 2%", "cleanser", 28.99, "medium", 45,
     ["P104", "P108", "P112"], "P203", ["Salicylic Acid", "Zinc PCA"], ["acne"],
     "A gel cleanser with 2% salicylic acid that works inside pores to reduce breakouts."),
    ("P104", "AHA/BHA Exfoliating Toner", "toner", 31.99, "high", 60,
     ["P108", "P112", "P114"], "P205", ["AHA/BHA", "Glycolic Acid", "Salicylic Acid"],
     ["acne", "hyperpigmentation"],
     "A leave-on liquid exfoliant that smooths texture and fades post-blemish marks over time."),
    ("P105", "Hydrating Essence Toner with Panthenol", "toner", 29.50, "medium", 60,
     ["P107", "P111", "P113"], "P207", ["Hyaluronic Acid", "Panthenol"], ["dryness", "sensitivity", "general"],
     "A watery essence that floods skin with moisture right after cleansing."),
    ("P106", "Vitamin C Brightening Serum 10%", "serum", 44.99, "high", 45,
     ["P114", "P110", "P113"], "P208", ["Vitamin C", "Vitamin E", "Ferulic Acid"],
     ["hyperpigmentation", "aging"],
     "An antioxidant morning serum that evens tone and boosts radiance, best paired with daily SPF."),
    ("P107", "Hyaluronic Acid Plumping Serum 2%", "serum", 38.99, "high", 45,
     ["P110", "P111", "P114"], "P209", ["Hyaluronic Acid", "Panthenol"], ["dryness", "fine_lines", "general"],
     "A multi-weight hyaluronic serum that plumps dehydration lines within minutes."),
    ("P108", "Niacinamide Pore Refining Serum 10%", "serum", 34.99, "medium", 60,
     ["P112", "P114", "P117"], "P210", ["Niacinamide", "Zinc PCA"], ["acne", "hyperpigmentation"],
     "A 10% niacinamide serum that regulates oil, refines pores and softens redness from blemishes."),
    ("P109", "Retinol Renewal Serum 0.3%", "serum", 49.99, "high", 60,
     ["P111", "P113", "P120"], "P211", ["Retinol", "Squalane"], ["aging", "fine_lines"],
     "A beginner-strength evening retinol that speeds cell turnover with limited irritation."),
    ("P110", "Peptide Day Moisturizer", "moisturizer", 42.99, "high", 60,
     ["P114", "P106", "P119"], "P216", ["Peptides", "Niacinamide"], ["aging", "general"],
     "A silky day cream with signal peptides that firms skin and sits well under sunscreen."),
    ("P111", "Ceramide Night Repair Cream", "moisturizer", 46.99, "high", 60,
     ["P109", "P107", "P120"], "P217", ["Ceramides", "Peptides", "Squalane"], ["dryness", "aging"],
     "A rich night cream that restores barrier lipids while you sleep."),
    ("P112", "Oil-Free Niacinamide Gel Moisturizer", "moisturizer", 36.50, "medium", 45,
     ["P108", "P114", "P103"], "P216", ["Niacinamide", "Hyaluronic Acid"], ["acne", "general"],
     "A weightless gel-cream that hydrates oily and breakout-prone skin without clogging pores."),
    ("P113", "Mineral Sunscreen SPF 50 with Zinc Oxide", "spf", 34.99, "medium", 45,
     ["P110", "P106", "P102"], "P220", ["Zinc Oxide", "Titanium Dioxide"], ["sensitivity", "general"],
     "A physical SPF 50 for sensitive skin that protects without chemical filters."),
    ("P114", "Invisible Chemical Sunscreen SPF 50", "spf", 32.99, "medium", 45,
     ["P106", "P110", "P104"], "P221", ["Avobenzone", "Octisalate", "Vitamin E"],
     ["aging", "hyperpigmentation", "general"],
     "A clear, fast-drying SPF 50 that leaves no residue and layers easily over serums."),
    ("P115", "Purifying Kaolin Clay Mask with BHA", "mask", 29.99, "medium", 60,
     ["P104", "P108", "P117"], "P223", ["Kaolin Clay", "Salicylic Acid"], ["acne"],
     "A weekly clay mask that absorbs excess oil and helps clear congested pores."),
    ("P116", "Hydrating Ceramide Sleeping Mask", "mask", 33.99, "high", 60,
     ["P107", "P111", "P105"], "P224", ["Hyaluronic Acid", "Ceramides", "Panthenol"],
     ["dryness", "sensitivity"],
     "A leave-on overnight mask that seals in moisture for parched or irritated skin."),
    ("P117", "Blemish Spot Treatment with Benzoyl Peroxide 2.5%", "treatment", 25.99, "medium", 60,
     ["P103", "P108", "P112"], "P226", ["Benzoyl Peroxide", "Tea Tree Oil"], ["acne"],
     "A targeted gel dabbed onto individual blemishes to shrink them faster."),
    ("P118", "Overnight Lactic Acid Resurfacing Treatment 10%", "treatment", 48.99, "high", 60,
     ["P114", "P111", "P106"], "P227", ["Lactic Acid", "AHA/BHA"], ["hyperpigmentation", "aging", "fine_lines"],
     "A leave-on evening exfoliant that smooths rough texture and fades dullness by morning."),
    ("P119", "Caffeine Brightening Eye Cream", "eye_cream", 34.99, "medium", 60,
     ["P110", "P107"], "P230", ["Caffeine", "Niacinamide", "Hyaluronic Acid"], ["general", "dryness"],
     "A de-puffing eye cream that hydrates and brightens the look of tired eyes."),
    ("P120", "Peptide Firming Eye Cream", "eye_cream", 52.99, "high", 75,
     ["P109", "P111", "P209"], "P229", ["Peptides", "Bakuchiol"], ["fine_lines", "aging"],
     "A firming eye cream that targets crow's feet and crepey texture."),

    # ---- Tier 3: professional, high-concentration ----
    ("P201", "Peptide Complex Cleansing Balm", "cleanser", 64.99, "premium", 90,
     ["P207", "P209", "P217"], None, ["Peptides", "Ceramides", "Squalane"], ["dryness", "aging", "general"],
     "A melting balm that dissolves makeup and sunscreen while leaving a peptide-rich finish."),
    ("P202", "Barrier Restore Cleansing Milk", "cleanser", 62.50, "high", 90,
     ["P206", "P215", "P219"], None, ["Ceramides", "Colloidal Oatmeal", "Centella Asiatica"],
     ["sensitivity", "dryness"],
     "A clinical-grade milk cleanser for reactive skin that cleans without disturbing the barrier."),
    ("P203", "Clarifying Cleanser 2% Salicylic + 5% Glycolic", "cleanser", 66.99, "high", 75,
     ["P205", "P210", "P222"], None, ["Salicylic Acid", "Glycolic Acid", "Niacinamide"],
     ["acne", "hyperpigmentation"],
     "A dual-acid treatment cleanser that decongests pores and resurfaces post-acne marks."),
    ("P204", "Brightening Enzyme Cleansing Powder", "cleanser", 69.99, "premium", 90,
     ["P205", "P208", "P213"], None, ["Papain", "Vitamin C", "Rice Bran Extract"],
     ["hyperpigmentation", "general"],
     "A water-activated enzyme powder that polishes away dullness for a more even tone."),
    ("P205", "Professional Resurfacing Toner 10% Glycolic Acid", "toner", 68.99, "premium", 75,
     ["P210", "P213", "P221"], None, ["Glycolic Acid", "Lactic Acid", "Salicylic Acid"],
     ["acne", "hyperpigmentation", "aging"],
     "A high-strength exfoliating toner that refines texture and clarity with nightly use."),
    ("P206", "pH-Balancing Microbiome Toner", "toner", 62.99, "high", 75,
     ["P215", "P219", "P220"], None, ["Prebiotics", "Niacinamide", "Panthenol"], ["sensitivity", "general"],
     "A toner that restores skin's natural acidity and supports a healthy skin microbiome."),
    ("P207", "Deep Hydration Essence with Polyglutamic Acid", "toner", 72.99, "high", 90,
     ["P209", "P217", "P224"], None, ["Polyglutamic Acid", "Hyaluronic Acid", "Ceramides"],
     ["dryness", "fine_lines", "sensitivity"],
     "A concentrated hydrating essence that holds several times more water than hyaluronic acid alone."),
    ("P208", "Vitamin C + Ferulic Antioxidant Serum 20%", "serum", 129.99, "premium", 60,
     ["P221", "P216", "P220"], None, ["Vitamin C", "Vitamin E", "Ferulic Acid"],
     ["hyperpigmentation", "aging", "fine_lines"],
     "A 20% L-ascorbic acid serum that defends against environmental damage and visibly brightens."),
    ("P209", "Multi-Molecular Hyaluronic Complex Serum", "serum", 84.99, "high", 60,
     ["P216", "P217", "P221"], None, ["Hyaluronic Acid", "Polyglutamic Acid", "Peptides"],
     ["dryness", "fine_lines"],
     "Five weights of hyaluronic acid deliver long-lasting hydration from the surface down."),
    ("P210", "Niacinamide 15% + Zinc Clarifying Concentrate", "serum", 74.99, "high", 60,
     ["P222", "P216", "P226"], None, ["Niacinamide", "Zinc PCA", "Azelaic Acid"], ["acne", "hyperpigmentation"],
     "A high-dose niacinamide concentrate for persistent oiliness, enlarged pores and blemish marks."),
    ("P211", "Encapsulated Retinol 1% Night Serum", "serum", 109.99, "premium", 75,
     ["P219", "P220", "P229"], None, ["Retinol", "Bakuchiol", "Squalane"], ["aging", "fine_lines"],
     "A time-released 1% retinol for experienced users seeking visible wrinkle reduction."),
    ("P212", "Copper Peptide Firming Serum", "serum", 119.99, "premium", 60,
     ["P218", "P221", "P229"], None, ["Copper Peptides", "Matrixyl", "Hyaluronic Acid"], ["aging", "fine_lines"],
     "A peptide-dense serum that supports collagen for firmer, more resilient skin."),
    ("P213", "Tranexamic Acid Dark Spot Serum 5%", "serum", 94.99, "premium", 60,
     ["P220", "P221", "P225"], None, ["Tranexamic Acid", "Niacinamide", "Alpha Arbutin"], ["hyperpigmentation"],
     "A targeted serum that fades stubborn dark spots and melasma-type discoloration."),
    ("P214", "Azelaic Acid 15% Clarifying Serum", "serum", 79.99, "high", 60,
     ["P222", "P226", "P219"], None, ["Azelaic Acid", "Salicylic Acid"], ["acne", "sensitivity"],
     "A gentle-but-potent azelaic acid serum that calms redness and clears breakouts."),
    ("P215", "Barrier Recovery Serum with Centella & Ceramides", "serum", 88.99, "high", 60,
     ["P219", "P220", "P224"], None, ["Centella Asiatica", "Ceramides", "Panthenol"], ["sensitivity", "dryness"],
     "A recovery serum that soothes irritation and rebuilds a weakened moisture barrier."),
    ("P216", "Peptide Defense Day Cream", "moisturizer", 89.99, "high", 60,
     ["P221", "P208", "P230"], None, ["Peptides", "Niacinamide", "Vitamin E"], ["aging", "general"],
     "An antioxidant day cream with a peptide complex that firms and protects through the day."),
    ("P217", "Retinal Overnight Renewal Cream", "moisturizer", 124.99, "premium", 60,
     ["P209", "P229", "P220"], None, ["Retinaldehyde", "Ceramides", "Peptides"], ["aging", "fine_lines", "dryness"],
     "A night cream with fast-acting retinaldehyde buffered by ceramides for visible renewal."),
    ("P218", "Advanced Firming Cream with Growth Factors", "moisturizer", 149.99, "premium", 75,
     ["P212", "P221", "P229"], None, ["Growth Factors", "Peptides", "Hyaluronic Acid"], ["aging", "fine_lines"],
     "The most intensive cream in the range, aimed at loss of firmness and deep lines."),
    ("P219", "Lipid Barrier Repair Cream", "moisturizer", 78.99, "high", 60,
     ["P215", "P220", "P202"], None, ["Ceramides", "Cholesterol", "Fatty Acids"],
     ["dryness", "sensitivity", "general"],
     "A skin-identical lipid cream that repairs chronically dry or over-exfoliated skin."),
    ("P220", "Tinted Mineral Sunscreen SPF 50", "spf", 64.99, "high", 60,
     ["P213", "P216", "P208"], None, ["Zinc Oxide", "Iron Oxides", "Niacinamide"],
     ["hyperpigmentation", "sensitivity", "general"],
     "A tinted zinc sunscreen whose iron oxides also shield against visible light that worsens dark spots."),
    ("P221", "Antioxidant Broad Spectrum SPF 50 Fluid", "spf", 69.99, "high", 60,
     ["P208", "P216"], None, ["Avobenzone", "Vitamin C", "Vitamin E"], ["aging", "hyperpigmentation", "general"],
     "A featherlight sunscreen fluid fortified with antioxidants for daily anti-aging protection."),
    ("P222", "Oil-Free Matte Sunscreen SPF 46 with Niacinamide", "spf", 62.99, "high", 60,
     ["P210", "P203", "P226"], None, ["Zinc Oxide", "Niacinamide", "Silica"], ["acne", "sensitivity"],
     "A shine-controlling sunscreen formulated for acne-prone and rosacea-prone skin."),
    ("P223", "Professional Detox Clay Mask with Charcoal & BHA", "mask", 62.99, "high", 75,
     ["P205", "P210", "P226"], None, ["Bentonite Clay", "Charcoal", "Salicylic Acid"], ["acne"],
     "A deep-cleaning clay treatment mask that draws out impurities from congested skin."),
    ("P224", "Intensive Hydration Sleeping Mask", "mask", 74.99, "high", 75,
     ["P209", "P215", "P219"], None, ["Hyaluronic Acid", "Ceramides", "Squalane"],
     ["dryness", "sensitivity", "fine_lines"],
     "An occlusive overnight mask that replenishes severely dehydrated skin."),
    ("P225", "10-Minute Glycolic Peel Mask 15%", "mask", 89.99, "premium", 90,
     ["P213", "P220", "P219"], None, ["Glycolic Acid", "Lactic Acid", "Pumpkin Enzyme"],
     ["hyperpigmentation", "aging"],
     "An at-home peel that delivers a professional-style resurfacing in ten minutes."),
    ("P226", "Clinical Blemish Clearing Gel with 10% Sulfur", "treatment", 64.50, "high", 60,
     ["P203", "P210", "P222"], None, ["Sulfur", "Salicylic Acid", "Niacinamide"], ["acne"],
     "A fast-acting clinical gel for inflamed breakouts that also calms the surrounding redness."),
    ("P227", "Overnight Resurfacing Peel Pads 20% AHA", "treatment", 94.99, "premium", 60,
     ["P220", "P219", "P213"], None, ["Glycolic Acid", "Lactic Acid", "Mandelic Acid"],
     ["hyperpigmentation", "aging", "fine_lines"],
     "Pre-soaked pads with a 20% acid blend for a weekly professional-grade resurfacing treatment."),
    ("P228", "Intensive Line-Filling Treatment with Argireline", "treatment", 99.99, "premium", 75,
     ["P212", "P218", "P229"], None, ["Acetyl Hexapeptide-8", "Peptides", "Hyaluronic Acid"],
     ["fine_lines", "aging"],
     "A targeted treatment applied to expression lines to soften their depth over several weeks."),
    ("P229", "Peptide & Retinal Eye Renewal Cream", "eye_cream", 89.99, "premium", 75,
     ["P218", "P212"], None, ["Retinaldehyde", "Peptides", "Caffeine"], ["fine_lines", "aging"],
     "A clinical eye cream that targets crow's feet, crepiness and loss of firmness."),
    ("P230", "Brightening Eye Concentrate with Vitamin C & Caffeine", "eye_cream", 72.99, "high", 75,
     ["P208", "P216"], None, ["Vitamin C", "Caffeine", "Hyaluronic Acid"],
     ["hyperpigmentation", "dryness", "general"],
     "A concentrated eye treatment that lightens dark circles and hydrates the under-eye area."),
]


def tier_of(product_id: str) -> int:
    return {"0": 1, "1": 2, "2": 3}[product_id[1]]


def build_catalog() -> list[dict]:
    catalog = []
    for pid, name, category, price, margin, cycle, cross, upgrade, actives, concerns, description in PRODUCTS:
        tier = tier_of(pid)
        catalog.append({
            "product_id": pid,
            "name": name,
            "category": category,
            "tier": tier,
            "price": price,
            "margin": margin,
            "replenishment_cycle_days": cycle,
            "cross_sell_products": list(cross),
            "upgrade_path": {f"tier_{tier + 1}": upgrade} if upgrade else {},
            "active_ingredients": list(actives),
            "target_concerns": list(concerns),
            "description": description,
        })
    return catalog


# --------------------------------------------------------------------------------------------------
# Customers. `history` is a list of (date, product_id) or (date, product_id, discount_percent);
# price_paid is the catalog price less the discount. `current` lists the products in use now; each one's
# purchase_date is derived as its latest purchase in the history. RFM features are derived too.
# --------------------------------------------------------------------------------------------------
CUSTOMERS = [
    # Scenario 1: all Tier 1, four essentials (no SPF), loyal and not price-sensitive -> upgrade candidate.
    dict(customer_id="C001", name="Sarah Lee", loyalty_tier="gold", lifetime_value=285.40, churn_risk=0.10,
         price_sensitivity="low", preferred_categories=["serum", "moisturizer"],
         skin_concerns=["general", "dryness"], tier_preference=1,
         notes="Loyal Tier 1 buyer with a steady routine; has asked about stronger serums.",
         current=["P001", "P002", "P003", "P004"],
         history=[("2023-08-05", "P001"), ("2023-08-05", "P004"),
                  ("2023-09-10", "P001"), ("2023-09-10", "P003"),
                  ("2023-10-20", "P002"),
                  ("2023-11-12", "P001"), ("2023-11-12", "P003"), ("2023-11-12", "P004"),
                  ("2023-12-18", "P001"), ("2023-12-18", "P003"),
                  ("2024-01-25", "P003"), ("2024-01-25", "P004"),
                  ("2024-02-05", "P001"), ("2024-02-05", "P002"),
                  ("2024-02-20", "P003")]),
    # Scenario 2: Tier 1 cleanser with Tier 2 serum and moisturizer; no toner, no SPF.
    dict(customer_id="C002", name="Mark Johnson", loyalty_tier="silver", lifetime_value=214.60, churn_risk=0.22,
         price_sensitivity="medium", preferred_categories=["serum", "moisturizer"],
         skin_concerns=["hyperpigmentation", "aging"], tier_preference=2,
         notes="Moved serum and moisturizer up to Tier 2 in December; still on the basic cleanser.",
         current=["P001", "P106", "P110"],
         history=[("2023-09-14", "P001"), ("2023-09-14", "P003"), ("2023-09-14", "P004"),
                  ("2023-11-02", "P001"),
                  ("2023-12-15", "P106"), ("2023-12-15", "P110"),
                  ("2024-01-20", "P001"),
                  ("2024-02-01", "P106", 10)]),
    # Scenario 3: all Tier 3, no toner; P208 and P221 are past their 60-day cycle on 2024-03-01.
    dict(customer_id="C003", name="Victoria Hale", loyalty_tier="platinum", lifetime_value=496.50, churn_risk=0.05,
         price_sensitivity="low", preferred_categories=["serum", "spf", "moisturizer"],
         skin_concerns=["aging", "hyperpigmentation", "fine_lines"], tier_preference=3,
         notes="Professional-line regular; vitamin C serum and SPF are due for reorder.",
         current=["P201", "P208", "P216", "P221"],
         history=[("2023-10-15", "P208", 10),
                  ("2023-12-20", "P208"),
                  ("2023-12-28", "P221"),
                  ("2024-01-20", "P201"),
                  ("2024-02-10", "P216")]),
    # Scenario 4: price-sensitive bronze customer on two Tier 1 basics.
    dict(customer_id="C004", name="Daniel Ortiz", loyalty_tier="bronze", lifetime_value=58.20, churn_risk=0.35,
         price_sensitivity="high", preferred_categories=["cleanser"],
         skin_concerns=["general", "sensitivity"], tier_preference=1,
         notes="Buys mainly during promotions.",
         current=["P010", "P004"],
         history=[("2023-10-02", "P010", 15),
                  ("2023-12-20", "P010"), ("2023-12-20", "P004", 15)]),
    # Scenario 5: acne-focused; Tier 1 cleanser plus a Tier 2 acne serum.
    dict(customer_id="C005", name="Aisha Rahman", loyalty_tier="silver", lifetime_value=168.90, churn_risk=0.18,
         price_sensitivity="medium", preferred_categories=["serum", "treatment"],
         skin_concerns=["acne"], tier_preference=2,
         notes="Treating persistent breakouts; tried a spot treatment last autumn.",
         current=["P001", "P108"],
         history=[("2023-08-22", "P001"),
                  ("2023-10-09", "P001"), ("2023-10-09", "P108"), ("2023-10-09", "P117"),
                  ("2023-12-11", "P001"),
                  ("2024-01-15", "P108"),
                  ("2024-02-08", "P001")]),
    # Edge case: no purchases at all.
    dict(customer_id="C006", name="Tyler Brooks", loyalty_tier="bronze", lifetime_value=50.0, churn_risk=0.55,
         price_sensitivity="high", preferred_categories=["cleanser", "moisturizer"],
         skin_concerns=["general"], tier_preference=1,
         notes="New account from a sampling event; no orders yet.",
         current=[], history=[]),
    # Edge case: full five-step routine, everything bought within the last 20 days.
    dict(customer_id="C007", name="Rachel Kim", loyalty_tier="gold", lifetime_value=389.90, churn_risk=0.08,
         price_sensitivity="medium", preferred_categories=["serum", "moisturizer", "spf"],
         skin_concerns=["dryness", "sensitivity"], tier_preference=2,
         notes="Complete routine, restocked in February.",
         current=["P101", "P002", "P107", "P111", "P113"],
         history=[("2023-10-28", "P101"), ("2023-10-28", "P002"), ("2023-10-28", "P107"),
                  ("2023-12-12", "P107"), ("2023-12-12", "P111"), ("2023-12-12", "P113"),
                  ("2024-02-12", "P101"), ("2024-02-12", "P107"), ("2024-02-12", "P113"),
                  ("2024-02-20", "P002"), ("2024-02-20", "P111")]),
    # ---- C008-C018: other profiles ----
    dict(customer_id="C008", name="Margaret Doyle", loyalty_tier="gold", lifetime_value=412.30, churn_risk=0.12,
         price_sensitivity="low", preferred_categories=["serum", "eye_cream"],
         skin_concerns=["aging", "fine_lines"], tier_preference=3,
         notes="Graduated from the Tier 2 retinol to the 1% serum; uses no sunscreen yet.",
         current=["P211", "P217", "P229"],
         history=[("2023-09-20", "P109"),
                  ("2023-12-10", "P211"), ("2023-12-10", "P217"),
                  ("2024-02-08", "P229")]),
    dict(customer_id="C009", name="Kevin Nguyen", loyalty_tier="bronze", lifetime_value=72.40, churn_risk=0.41,
         price_sensitivity="high", preferred_categories=["moisturizer"],
         skin_concerns=["dryness"], tier_preference=1,
         notes="",
         current=["P007", "P006"],
         history=[("2023-11-20", "P007", 10),
                  ("2024-01-05", "P007"), ("2024-01-05", "P006", 10)]),
    dict(customer_id="C010", name="Sofia Alvarez", loyalty_tier="silver", lifetime_value=252.75, churn_risk=0.20,
         price_sensitivity="medium", preferred_categories=["cleanser", "treatment"],
         skin_concerns=["acne", "hyperpigmentation"], tier_preference=2,
         notes="Acne routine without a serum or SPF; cleanser, toner and gel moisturizer are due.",
         current=["P103", "P104", "P112", "P117"],
         history=[("2023-10-18", "P103"), ("2023-10-18", "P117"),
                  ("2023-11-25", "P103"), ("2023-11-25", "P104"), ("2023-11-25", "P112"),
                  ("2024-01-10", "P103"), ("2024-01-10", "P112"),
                  ("2024-02-14", "P117")]),
    dict(customer_id="C011", name="Hannah Fischer", loyalty_tier="silver", lifetime_value=156.30, churn_risk=0.16,
         price_sensitivity="medium", preferred_categories=["cleanser", "spf"],
         skin_concerns=["sensitivity"], tier_preference=1,
         notes="Reactive skin; sticks to fragrance-free products.",
         current=["P010", "P002", "P008"],
         history=[("2023-07-12", "P010"), ("2023-07-12", "P008"),
                  ("2023-09-01", "P010"), ("2023-09-01", "P002"),
                  ("2023-11-05", "P010"), ("2023-11-05", "P008"),
                  ("2024-01-08", "P010"), ("2024-01-08", "P002"),
                  ("2024-02-15", "P008")]),
    dict(customer_id="C012", name="Olivia Bennett", loyalty_tier="gold", lifetime_value=398.40, churn_risk=0.09,
         price_sensitivity="low", preferred_categories=["serum", "spf"],
         skin_concerns=["hyperpigmentation", "aging"], tier_preference=2,
         notes="Uses two serums (vitamin C mornings, hyaluronic evenings); upgraded from Tier 1 last summer.",
         current=["P101", "P106", "P107", "P110", "P114"],
         history=[("2023-06-15", "P003"),
                  ("2023-08-01", "P106"), ("2023-08-01", "P110"),
                  ("2023-12-20", "P101"), ("2023-12-20", "P106"), ("2023-12-20", "P107"),
                  ("2023-12-20", "P114"),
                  ("2024-02-02", "P106"), ("2024-02-02", "P110"),
                  ("2024-02-18", "P114")]),
    dict(customer_id="C013", name="Charlotte Reyes", loyalty_tier="platinum", lifetime_value=489.90,
         churn_risk=0.06, price_sensitivity="low", preferred_categories=["serum", "moisturizer", "toner"],
         skin_concerns=["sensitivity", "dryness"], tier_preference=3,
         notes="Barrier-repair routine at Tier 3; no SPF on record.",
         current=["P202", "P206", "P215", "P219"],
         history=[("2023-08-10", "P102"),
                  ("2023-10-25", "P202"), ("2023-10-25", "P215"),
                  ("2023-12-22", "P215"), ("2023-12-22", "P219"),
                  ("2024-01-26", "P202"), ("2024-01-26", "P206")]),
    dict(customer_id="C014", name="Marcus Green", loyalty_tier="bronze", lifetime_value=62.40, churn_risk=0.62,
         price_sensitivity="high", preferred_categories=["spf"],
         skin_concerns=["general"], tier_preference=1,
         notes="Only buys sunscreen; no order since November.",
         current=["P005"],
         history=[("2023-09-28", "P005", 20),
                  ("2023-11-15", "P005")]),
    dict(customer_id="C015", name="Jordan Ellis", loyalty_tier="silver", lifetime_value=128.10, churn_risk=0.30,
         price_sensitivity="high", preferred_categories=["treatment", "mask"],
         skin_concerns=["acne"], tier_preference=2,
         notes="Buys Tier 2 acne products only when discounted.",
         current=["P103", "P115", "P117"],
         history=[("2023-11-24", "P117", 20),
                  ("2024-01-19", "P103", 15), ("2024-01-19", "P115", 15)]),
    dict(customer_id="C016", name="Linda Park", loyalty_tier="gold", lifetime_value=268.50, churn_risk=0.14,
         price_sensitivity="medium", preferred_categories=["moisturizer", "eye_cream"],
         skin_concerns=["dryness", "fine_lines"], tier_preference=1,
         notes="Happy with Tier 1; serum and eye cream are overdue.",
         current=["P003", "P007", "P005", "P009"],
         history=[("2023-07-08", "P003"), ("2023-07-08", "P007"),
                  ("2023-09-14", "P003"), ("2023-09-14", "P009"), ("2023-09-14", "P005"),
                  ("2023-11-20", "P003"), ("2023-11-20", "P007"), ("2023-11-20", "P005"),
                  ("2023-12-30", "P009"),
                  ("2024-01-17", "P003"), ("2024-01-17", "P007"),
                  ("2024-02-09", "P005")]),
    dict(customer_id="C017", name="Maya Thompson", loyalty_tier="bronze", lifetime_value=96.80, churn_risk=0.27,
         price_sensitivity="high", preferred_categories=["serum"],
         skin_concerns=["hyperpigmentation"], tier_preference=2,
         notes="Added a Tier 2 niacinamide serum on a promo code.",
         current=["P001", "P108", "P005"],
         history=[("2023-12-08", "P001"), ("2023-12-08", "P005"),
                  ("2024-01-29", "P108", 10),
                  ("2024-02-16", "P001")]),
    dict(customer_id="C018", name="Natalie Foster", loyalty_tier="silver", lifetime_value=289.30, churn_risk=0.19,
         price_sensitivity="medium", preferred_categories=["serum", "moisturizer"],
         skin_concerns=["aging", "dryness"], tier_preference=3,
         notes="",
         current=["P101", "P209", "P111"],
         history=[("2023-09-02", "P111"),
                  ("2023-11-10", "P101"), ("2023-11-10", "P107"),
                  ("2024-01-05", "P209"), ("2024-01-05", "P111"),
                  ("2024-02-06", "P101")]),
]


def email_for(name: str) -> str:
    first, last = name.lower().split(" ", 1)
    return f"{first}.{last.replace(' ', '')}@example.com"


def rfm(history: list[dict]) -> dict:
    if not history:
        return {"recency_days": None, "frequency": 0, "monetary_value": 0.0}
    last = max(date.fromisoformat(h["purchase_date"]) for h in history)
    window = [h for h in history if 1 <= (AS_OF - date.fromisoformat(h["purchase_date"])).days <= RFM_WINDOW_DAYS]
    return {
        "recency_days": (AS_OF - last).days,
        "frequency": len(window),
        "monetary_value": float(round(sum(h["price_paid"] for h in window), 2)),
    }


def build_customers(catalog: list[dict]) -> list[dict]:
    by_id = {p["product_id"]: p for p in catalog}
    customers = []
    for spec in CUSTOMERS:
        history = []
        for entry in spec["history"]:
            day, pid = entry[0], entry[1]
            discount = entry[2] if len(entry) > 2 else 0
            price = by_id[pid]["price"]
            history.append({
                "product_id": pid,
                "purchase_date": day,
                "price_paid": round(price * (100 - discount) / 100, 2),
                "tier": by_id[pid]["tier"],
            })
        history.sort(key=lambda h: h["purchase_date"])  # stable: same-day purchases keep table order
        current = [
            {
                "product_id": pid,
                "purchase_date": max(h["purchase_date"] for h in history if h["product_id"] == pid),
                "tier": by_id[pid]["tier"],
            }
            for pid in spec["current"]
        ]
        customers.append({
            "customer_id": spec["customer_id"],
            "name": spec["name"],
            "email": email_for(spec["name"]),
            "loyalty_tier": spec["loyalty_tier"],
            "lifetime_value": spec["lifetime_value"],
            "churn_risk": spec["churn_risk"],
            "price_sensitivity": spec["price_sensitivity"],
            "current_products": current,
            "purchase_history": history,
            "rfm_features": rfm(history),
            "preferred_categories": list(spec["preferred_categories"]),
            "skin_concerns": list(spec["skin_concerns"]),
            "tier_preference": spec["tier_preference"],
            "notes": spec["notes"],
        })
    return customers


# --------------------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------------------
PRODUCT_KEYS = ["product_id", "name", "category", "tier", "price", "margin", "replenishment_cycle_days",
                "cross_sell_products", "upgrade_path", "active_ingredients", "target_concerns", "description"]
CUSTOMER_KEYS = ["customer_id", "name", "email", "loyalty_tier", "lifetime_value", "churn_risk",
                 "price_sensitivity", "current_products", "purchase_history", "rfm_features",
                 "preferred_categories", "skin_concerns", "tier_preference", "notes"]


def check(catalog: list[dict], customers: list[dict]) -> None:
    def need(condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    # ---- catalog ----
    ids = [p["product_id"] for p in catalog]
    need(len(ids) == len(set(ids)) == 60, "60 unique product ids")
    expected_ids = ([f"P{i:03d}" for i in range(1, 11)] + [f"P{i}" for i in range(101, 121)]
                    + [f"P{i}" for i in range(201, 231)])
    need(ids == expected_ids, "product ids P001-P010, P101-P120, P201-P230 in order")
    by_id = {p["product_id"]: p for p in catalog}
    for p in catalog:
        pid, tier = p["product_id"], p["tier"]
        need(list(p) == PRODUCT_KEYS, f"{pid}: key order")
        need(tier == tier_of(pid), f"{pid}: tier matches id")
        need(p["category"] in CATEGORIES, f"{pid}: category")
        low, high = PRICE_RANGES[tier]
        need(low <= p["price"] <= high, f"{pid}: price {p['price']} outside tier {tier} range")
        need(round(p["price"] * 100) % 100 in (99, 50), f"{pid}: price should end in .99 or .50")
        need(p["margin"] in TIER_MARGINS[tier], f"{pid}: margin {p['margin']} for tier {tier}")
        need(30 <= p["replenishment_cycle_days"] <= 90, f"{pid}: cycle days")
        cross = p["cross_sell_products"]
        need(2 <= len(cross) <= 4 and len(set(cross)) == len(cross), f"{pid}: 2-4 distinct cross-sells")
        for other in cross:
            need(other in by_id, f"{pid}: unknown cross-sell {other}")
            need(other != pid, f"{pid}: cross-sells itself")
            need(abs(by_id[other]["tier"] - tier) <= 1, f"{pid}: cross-sell {other} is two tiers away")
            need(by_id[other]["category"] != p["category"], f"{pid}: cross-sell {other} in the same category")
        if tier == 1:
            need(p["active_ingredients"] == [], f"{pid}: tier 1 has no actives")
        else:
            need(len(p["active_ingredients"]) >= 1, f"{pid}: tier 2/3 lists actives")
        need(p["target_concerns"] and set(p["target_concerns"]) <= set(CONCERNS), f"{pid}: concerns")
        need(p["description"].endswith(".") and p["description"].count(". ") == 0, f"{pid}: one sentence")
        path = p["upgrade_path"]
        if tier == 3:
            need(path == {}, f"{pid}: tier 3 has no upgrade path")
        else:
            need(list(path) == [f"tier_{tier + 1}"], f"{pid}: upgrade path key")
            target = by_id.get(path[f"tier_{tier + 1}"])
            need(target is not None, f"{pid}: upgrade target exists")
            need(target["tier"] == tier + 1, f"{pid}: upgrade target one tier up")
            need(target["category"] == p["category"], f"{pid}: upgrade target same category")
            need(set(target["target_concerns"]) & set(p["target_concerns"]), f"{pid}: upgrade shares a concern")
    for tier, counts in CATEGORY_COUNTS.items():
        actual = Counter(p["category"] for p in catalog if p["tier"] == tier)
        need(dict(actual) == counts, f"tier {tier} category counts {dict(actual)}")
    for tier in (1, 2, 3):
        need(any("acne" in p["target_concerns"] for p in catalog if p["tier"] == tier), f"acne product in tier {tier}")
    need(len({p["name"] for p in catalog}) == 60, "product names unique")
    keep = {"P001": ("Gentle Foaming Cleanser", 14.99, "cleanser"), "P002": ("Balancing Facial Toner", 12.99, "toner"),
            "P003": ("Hydrating Hyaluronic Serum", 19.99, "serum"),
            "P004": ("Daily Lightweight Moisturizer", 17.99, "moisturizer"),
            "P005": ("SPF 30 Everyday Sunscreen", 15.99, "spf")}
    for pid, (name, price, category) in keep.items():
        need((by_id[pid]["name"], by_id[pid]["price"], by_id[pid]["category"]) == (name, price, category),
             f"{pid}: must match the Tier 1 sample")

    # ---- customers ----
    cids = [c["customer_id"] for c in customers]
    need(cids == [f"C{i:03d}" for i in range(1, 19)], "customer ids C001-C018")
    concerns_seen: set[str] = set()
    for c in customers:
        cid = c["customer_id"]
        need(list(c) == CUSTOMER_KEYS, f"{cid}: key order")
        need(re.fullmatch(r"[a-z]+\.[a-z]+@example\.com", c["email"]) is not None, f"{cid}: email")
        need(c["email"] == email_for(c["name"]), f"{cid}: email matches name")
        need(50 <= c["lifetime_value"] <= 500, f"{cid}: lifetime value")
        need(isinstance(c["churn_risk"], float) and 0 <= c["churn_risk"] <= 1, f"{cid}: churn_risk fraction")
        need(set(c["skin_concerns"]) <= set(CONCERNS) and c["skin_concerns"], f"{cid}: skin concerns")
        concerns_seen |= set(c["skin_concerns"])
        need(set(c["preferred_categories"]) <= set(CATEGORIES), f"{cid}: preferred categories")
        need(c["tier_preference"] in (1, 2, 3), f"{cid}: tier preference")
        history = c["purchase_history"]
        dates = [date.fromisoformat(h["purchase_date"]) for h in history]
        need(dates == sorted(dates), f"{cid}: history chronological")
        need(all(HISTORY_START <= d <= HISTORY_END for d in dates), f"{cid}: history dates in range")
        # keep purchases away from the edge of the 90-day window so inclusive/exclusive counting agree
        need(all(not 89 <= (AS_OF - d).days <= 91 for d in dates), f"{cid}: purchase on the 90-day boundary")
        for h in history:
            product = by_id.get(h["product_id"])
            need(product is not None, f"{cid}: unknown product {h['product_id']}")
            need(h["tier"] == product["tier"], f"{cid}: history tier for {h['product_id']}")
            need(0.75 * product["price"] <= h["price_paid"] <= product["price"], f"{cid}: price paid")
        need(c["lifetime_value"] >= sum(h["price_paid"] for h in history), f"{cid}: LTV below history total")
        owned = [o["product_id"] for o in c["current_products"]]
        need(len(owned) == len(set(owned)), f"{cid}: duplicate current product")
        for o in c["current_products"]:
            product = by_id.get(o["product_id"])
            need(product is not None, f"{cid}: unknown current product {o['product_id']}")
            need(o["tier"] == product["tier"], f"{cid}: current tier for {o['product_id']}")
            last = [h["purchase_date"] for h in history if h["product_id"] == o["product_id"]]
            need(last and max(last) == o["purchase_date"], f"{cid}: {o['product_id']} date is its last purchase")
        categories = Counter(by_id[p]["category"] for p in owned)
        need(all(n <= 2 for n in categories.values()), f"{cid}: at most two products per category")
        need(c["rfm_features"] == rfm(history), f"{cid}: RFM consistent with history")
        need(isinstance(c["rfm_features"]["monetary_value"], float), f"{cid}: monetary_value is a float")
        need(isinstance(c["lifetime_value"], float), f"{cid}: lifetime_value is a float")
    need(concerns_seen == set(CONCERNS), f"all concerns used, missing {set(CONCERNS) - concerns_seen}")
    need(Counter(c["tier_preference"] for c in customers) == {1: 7, 2: 7, 3: 4}, "tier preference distribution")
    need(Counter(c["loyalty_tier"] for c in customers) == {"bronze": 5, "silver": 6, "gold": 5, "platinum": 2},
         "loyalty distribution")
    need(Counter(c["price_sensitivity"] for c in customers) == {"low": 5, "medium": 7, "high": 6},
         "price sensitivity distribution")

    # ---- fixed scenarios ----
    cust = {c["customer_id"]: c for c in customers}

    def owned_of(cid: str) -> list[dict]:
        return [by_id[o["product_id"]] for o in cust[cid]["current_products"]]

    def essentials_of(cid: str) -> set[str]:
        return {p["category"] for p in owned_of(cid)} & set(ESSENTIALS)

    def due_of(cid: str) -> list[str]:
        return [o["product_id"] for o in cust[cid]["current_products"]
                if (AS_OF - date.fromisoformat(o["purchase_date"])).days >= by_id[o["product_id"]]["replenishment_cycle_days"]]

    c = cust["C001"]
    need([o["product_id"] for o in c["current_products"]] == ["P001", "P002", "P003", "P004"], "C001 products")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"], c["churn_risk"], c["skin_concerns"])
         == ("gold", "low", 1, 0.10, ["general", "dryness"]), "C001 profile")
    c = cust["C002"]
    need({p["tier"] for p in owned_of("C002")} == {1, 2}, "C002 mixes tiers 1 and 2")
    need(essentials_of("C002") == {"cleanser", "serum", "moisturizer"}, "C002 missing toner and spf")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"]) == ("silver", "medium", 2), "C002 profile")
    c = cust["C003"]
    need({p["tier"] for p in owned_of("C003")} == {3}, "C003 all tier 3")
    need(essentials_of("C003") == {"cleanser", "serum", "moisturizer", "spf"}, "C003 missing only toner")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"]) == ("platinum", "low", 3), "C003 profile")
    overdue = [pid for pid in due_of("C003")
               if (AS_OF - date.fromisoformat(next(o["purchase_date"] for o in c["current_products"]
                                                  if o["product_id"] == pid))).days >= 60]
    need(len(overdue) >= 2, "C003 has two products 60+ days old and due")
    c = cust["C004"]
    need({p["tier"] for p in owned_of("C004")} == {1}, "C004 tier 1 only")
    need(essentials_of("C004") == {"cleanser", "moisturizer"}, "C004 cleanser + moisturizer")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"], c["churn_risk"])
         == ("bronze", "high", 1, 0.35), "C004 profile")
    c = cust["C005"]
    need(c["skin_concerns"] == ["acne"], "C005 acne")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"]) == ("silver", "medium", 2), "C005 profile")
    need(any(p["tier"] == 1 and p["category"] == "cleanser" for p in owned_of("C005")), "C005 tier 1 cleanser")
    need(any(p["tier"] == 2 and "acne" in p["target_concerns"] for p in owned_of("C005")), "C005 tier 2 acne product")
    c = cust["C006"]
    need(c["current_products"] == [] and c["purchase_history"] == [], "C006 has nothing")
    need(c["rfm_features"] == {"recency_days": None, "frequency": 0, "monetary_value": 0.0}, "C006 rfm")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"], c["lifetime_value"])
         == ("bronze", "high", 1, 50.0), "C006 profile")
    c = cust["C007"]
    need(essentials_of("C007") == set(ESSENTIALS), "C007 complete routine")
    need(all((AS_OF - date.fromisoformat(o["purchase_date"])).days <= 20 for o in c["current_products"]),
         "C007 bought everything in the last 20 days")
    need(due_of("C007") == [], "C007 nothing due")
    need((c["loyalty_tier"], c["price_sensitivity"], c["tier_preference"]) == ("gold", "medium", 2), "C007 profile")
    for cid in cids[7:]:
        need(1 <= len(essentials_of(cid)) <= 4, f"{cid}: owns 1-4 essentials")
    need(sum(1 for cid in cids[7:] if due_of(cid)) >= 3, "several other customers have products due")


def write_json(path: Path, payload: list[dict]) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    catalog = build_catalog()
    customers = build_customers(catalog)
    check(catalog, customers)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_json(OUT_DIR / "catalog.json", catalog)
    write_json(OUT_DIR / "customers.json", customers)
    # Re-check what was written, as read back from disk.
    check(json.loads((OUT_DIR / "catalog.json").read_text(encoding="utf-8")),
          json.loads((OUT_DIR / "customers.json").read_text(encoding="utf-8")))
    print(f"wrote {len(catalog)} products and {len(customers)} customers to {OUT_DIR.relative_to(ROOT)}; checks passed")


if __name__ == "__main__":
    main()

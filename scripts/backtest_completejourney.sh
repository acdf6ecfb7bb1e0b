#!/usr/bin/env bash
# The full Complete Journey backtest (not part of the default test run): the tuned grocery configuration on the
# test cutoff, on the validation cutoff it was tuned on and on two more earlier cutoffs (2017-07-01, 2017-08-15, for
# the baselines' paired bootstrap intervals), then the documents' own settings on the test cutoff.
# Needs the backtest extra: pip install -c constraints.txt -e '.[backtest]'. Writes output/backtest/*.md and *.json.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
out=output/backtest
documents=(
    --weight business_value=40 --weight replenishment_urgency=10 --weight affinity=20 --weight lift=5
    --signal min_support=0.01 --signal min_confidence=0.1 --signal similarity_weight=0.84 --signal price_similarity_weight=0.16
)
for format in markdown json; do
    suffix=$([ "$format" = json ] && echo json || echo md)
    "$python" -m cross_sell_upsell.cli.backtest --dataset completejourney --cutoff 2017-10-01 --horizon-days 28 --k 10 \
        --format "$format" --output "$out/test_2017-10-01.$suffix"
    "$python" -m cross_sell_upsell.cli.backtest --dataset completejourney --cutoff 2017-08-01 --horizon-days 28 --k 10 \
        --format "$format" --output "$out/validation_2017-08-01.$suffix"
    for cutoff in 2017-07-01 2017-08-15; do
        "$python" -m cross_sell_upsell.cli.backtest --dataset completejourney --cutoff "$cutoff" --horizon-days 28 --k 10 \
            --format "$format" --output "$out/earlier_$cutoff.$suffix"
    done
    "$python" -m cross_sell_upsell.cli.backtest --dataset completejourney --cutoff 2017-10-01 --horizon-days 28 --k 10 \
        "${documents[@]}" --format "$format" --output "$out/test_2017-10-01_document_settings.$suffix"
done
"$python" -m cross_sell_upsell.cli.backtest --dataset completejourney --cutoff 2017-10-01 --horizon-days 28 --k 10 \
    --level category --output "$out/test_2017-10-01_category.md"

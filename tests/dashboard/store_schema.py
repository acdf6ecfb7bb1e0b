"""The run store schema, version 1 (docs/dashboard.md), as the store writer creates it: the DDL the dashboard's
tests and its benchmark build their stores with. Standard library only, so the benchmark can import it."""

DDL = """
CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, as_of DATE NOT NULL, generated_at TIMESTAMP NOT NULL, data_source TEXT NOT NULL,
  settings_json TEXT NOT NULL, code_version TEXT NOT NULL,
  customers_requested BIGINT NOT NULL, customers_processed BIGINT NOT NULL, customers_failed BIGINT NOT NULL,
  rows_read BIGINT, rows_used BIGINT, rows_rejected BIGINT NOT NULL, total_offers BIGINT NOT NULL,
  offers_sent BIGINT NOT NULL, customers_with_gaps BIGINT NOT NULL, total_gaps BIGINT NOT NULL,
  potential_revenue DOUBLE PRECISION NOT NULL, expected_revenue DOUBLE PRECISION,
  mean_churn_probability DOUBLE PRECISION, win_back_customers BIGINT NOT NULL);
CREATE TABLE run_customers (
  run_id TEXT NOT NULL, customer_id TEXT NOT NULL, segment TEXT NOT NULL, loyalty_tier TEXT NOT NULL,
  priority_rank BIGINT, gaps BIGINT NOT NULL, gap_categories TEXT NOT NULL,
  potential_revenue DOUBLE PRECISION NOT NULL, expected_revenue DOUBLE PRECISION,
  predicted_clv DOUBLE PRECISION, churn_probability DOUBLE PRECISION, PRIMARY KEY (run_id, customer_id));
CREATE TABLE run_offers (
  run_id TEXT NOT NULL, customer_id TEXT NOT NULL, rank BIGINT NOT NULL,
  product_id TEXT NOT NULL, product_ids TEXT NOT NULL, name TEXT NOT NULL, category TEXT,
  offer_type TEXT NOT NULL, source TEXT NOT NULL, segment TEXT NOT NULL,
  price DOUBLE PRECISION NOT NULL, score DOUBLE PRECISION NOT NULL,
  probability DOUBLE PRECISION, expected_revenue DOUBLE PRECISION, rationale TEXT NOT NULL,
  PRIMARY KEY (run_id, customer_id, rank));
CREATE TABLE run_customer_cube (run_id TEXT NOT NULL, segment TEXT NOT NULL, loyalty_tier TEXT NOT NULL,
  customers BIGINT NOT NULL, customers_with_gaps BIGINT NOT NULL, gaps BIGINT NOT NULL,
  potential_revenue DOUBLE PRECISION NOT NULL, expected_revenue DOUBLE PRECISION,
  churn_probability_sum DOUBLE PRECISION, predicted_clv_sum DOUBLE PRECISION);
CREATE TABLE run_offer_cube (run_id TEXT NOT NULL, segment TEXT NOT NULL, loyalty_tier TEXT NOT NULL,
  offer_type TEXT NOT NULL, source TEXT NOT NULL, offers BIGINT NOT NULL, price_sum DOUBLE PRECISION NOT NULL,
  expected_revenue DOUBLE PRECISION);
CREATE TABLE run_gaps (run_id TEXT NOT NULL, category TEXT NOT NULL, customers BIGINT NOT NULL);
CREATE TABLE run_sales_weekly (run_id TEXT NOT NULL, week_start DATE NOT NULL, revenue DOUBLE PRECISION NOT NULL,
  units BIGINT NOT NULL, customers BIGINT NOT NULL);
CREATE TABLE run_top_products (run_id TEXT NOT NULL, product_id TEXT NOT NULL, name TEXT NOT NULL,
  category TEXT NOT NULL, revenue DOUBLE PRECISION NOT NULL, units BIGINT NOT NULL);
CREATE TABLE run_top_categories (run_id TEXT NOT NULL, category TEXT NOT NULL, revenue DOUBLE PRECISION NOT NULL,
  units BIGINT NOT NULL);
CREATE TABLE run_pareto (run_id TEXT NOT NULL, customer_share DOUBLE PRECISION NOT NULL,
  revenue_share DOUBLE PRECISION NOT NULL);
CREATE TABLE run_previous_offers (
  run_id TEXT NOT NULL, previous_run_id TEXT NOT NULL, offer_type TEXT NOT NULL, source TEXT NOT NULL,
  segment TEXT NOT NULL, sent BIGINT NOT NULL, bought BIGINT NOT NULL, revenue DOUBLE PRECISION NOT NULL,
  predicted DOUBLE PRECISION);
"""

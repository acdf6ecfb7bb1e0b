"""The run store: every batch run recorded in a database (an embedded DuckDB file by default, or a server through
a URL), read back for the run history, the previous run's comparison and the dashboard. Schema: `schema.py`."""
